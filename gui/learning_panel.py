"""Learning panel: loss curve, agreement and target entropy over time, trainer/teacher figures."""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QGridLayout, QGroupBox, QLabel, QProgressBar, QVBoxLayout, QWidget

from comodo_live.session.snapshot import EngineSnapshot

ENTROPY_HELP = (
    "teacher target entropy as a fraction of log(K): near 1 = flat target (nothing to learn), "
    "lower = the teacher tells windows apart"
)


def _plot(title: str, left: str, bottom: str, bottom_units: str | None = None) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setBackground("w")
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom, units=bottom_units)
    plot.getPlotItem().getAxis("bottom").enableAutoSIPrefix(False)
    grid = pg.GridItem(textPen=None)  # cheaper to repaint than the axes' own grid lines
    grid.setPen(pg.mkPen(200, 200, 200))
    grid.setTickSpacing(x=[None], y=[None])  # one level of lines
    plot.addItem(grid)
    plot.setDownsampling(mode="peak")
    plot.setClipToView(True)
    plot.setMinimumHeight(110)
    return plot


class LearningPanel(QGroupBox):
    """What the continual distillation is doing. ``history_s``: span of the time plots, s."""

    def __init__(self, history_s: float = 300.0, parent: QWidget | None = None) -> None:
        super().__init__("Learning", parent)
        self.history_s = history_s
        self.loss_plot = _plot("COMODO loss", "loss (nats)", "step")
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#4e79a7", width=2))
        self.trend_plot = _plot("Agreement & target entropy", "fraction", "time since start", "s")
        self.trend_plot.setYRange(0.0, 1.05, padding=0.0)
        self.trend_plot.enableAutoRange(y=False)
        self.trend_plot.addLegend(offset=(5, 5))
        self.agreement_curve = self.trend_plot.plot(
            pen=pg.mkPen("#59a14f", width=2), name="student–teacher agreement"
        )
        self.entropy_curve = self.trend_plot.plot(
            pen=pg.mkPen("#e15759", width=1), name="target entropy / log K"
        )
        self._entropy: deque[tuple[float, float]] = deque(maxlen=2000)  # (LSL t s, entropy)
        self._last_loss_key: tuple[int, float] = (-1, 0.0)
        self._last_agreement_key: tuple[int, float] = (-1, 0.0)
        self._entropy_drawn = 0
        self._t0: float | None = None  # LSL time shown as 0 s on the trend plot

        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        names = (
            "step",
            "steps/s",
            "loss",
            "lr",
            "teacher clips/s",
            "skipped clips",
            "teacher duty",
            "target entropy",
            "queue cosine",
            "skipped steps",
        )
        for i, name in enumerate(names):
            value = QLabel("–")
            value.setObjectName(f"learning:{name}")
            grid.addWidget(QLabel(name + ":"), i // 2, (i % 2) * 2)
            grid.addWidget(value, i // 2, (i % 2) * 2 + 1)
            self.values[name] = value
        self.values["target entropy"].setToolTip(ENTROPY_HELP)
        self.queue_bar = QProgressBar()
        self.queue_bar.setRange(0, 100)
        self.queue_bar.setFormat("teacher queue %p% full")
        self.gain_label = QLabel("distillation gain on your labels: –")
        self.gain_label.setObjectName("learning:distillation gain")
        self.gain_label.setWordWrap(True)  # "not measured yet (…)" is a sentence
        self.gain_label.setToolTip(
            "Cross-validated on your held-out labelled stretches (the 2nd, 4th … of each "
            "activity, which the student never trains on): the distilled student + classifier "
            "vs the starting student. A student that falls behind is rolled back (not served)."
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.gain_label)
        layout.addLayout(grid)
        layout.addWidget(self.queue_bar)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.trend_plot, 1)

    def update_learning(self, snap: EngineSnapshot, now: float) -> None:
        """Refresh from ``snap``; ``now`` is the current LSL time (s), the right edge of the trends."""
        if snap.distillation_gain:
            self.gain_label.setText(snap.distillation_gain)
        self._set("teacher clips/s", f"{snap.teacher_clips_per_s:.2f}")
        self._set("skipped clips", str(snap.teacher_skipped))
        self._set("teacher duty", f"{100 * snap.teacher_duty:.0f}%")
        train = snap.train
        if train is None and snap.waiting:
            self._set("step", snap.waiting)  # e.g. "waiting for IMU statistics (37/240 windows)"
        if train is not None:
            self._set("step", str(train.step))
            self._set("steps/s", f"{train.steps_per_s:.1f}")
            self._set("loss", f"{train.loss:.3f}")
            self._set("lr", f"{train.lr:.1e}")
            self._set("target entropy", f"{train.target_entropy:.2f}")
            self._set("queue cosine", f"{train.mean_cosine:.2f}")
            self._set("skipped steps", str(train.skipped_steps))
            self.queue_bar.setValue(round(100 * train.queue_fill))
            if not self._entropy or now - self._entropy[-1][0] >= 1.0:
                self._entropy.append((now, train.target_entropy))
        self._update_curves(snap, now)

    def _update_curves(self, snap: EngineSnapshot, now: float) -> None:
        if self._t0 is None:
            history = snap.agreement_history
            self._t0 = min(now, float(history[0, 0])) if len(history) else now
        loss = snap.loss_history
        if len(loss) and (len(loss), float(loss[-1, 1])) != self._last_loss_key:
            self._last_loss_key = (len(loss), float(loss[-1, 1]))
            self.loss_curve.setData(loss[:, 0], loss[:, 1], connect="finite")
        agreement = snap.agreement_history
        if len(agreement):
            key = (len(agreement), float(agreement[-1, 0]))
            if key != self._last_agreement_key:
                self._last_agreement_key = key
                self.agreement_curve.setData(agreement[:, 0] - self._t0, agreement[:, 1])
        if self._entropy and self._entropy_drawn != len(self._entropy):
            self._entropy_drawn = len(self._entropy)
            ent = np.asarray(self._entropy) - (self._t0, 0.0)  # (K, 2)
            self.entropy_curve.setData(ent[:, 0], ent[:, 1])
        right = now - self._t0
        self.trend_plot.setXRange(
            max(right - self.history_s, min(0.0, right - 10.0)), right, padding=0.02
        )

    def _set(self, name: str, text: str) -> None:
        label = self.values[name]
        if label.text() != text:
            label.setText(text)

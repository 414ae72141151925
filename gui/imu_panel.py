"""IMU panel: live accelerometer and gyroscope plots over the last ~10 s."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QGroupBox, QVBoxLayout, QWidget

from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from gui.palette import IMU_CURVE_COLORS

MIN_SPAN = {"m/s^2": 2.0, "rad/s": 0.5}  # smallest y span shown, so sensor noise is not magnified


def _nice_step(span: float) -> float:
    """A round grid step (1, 2 or 5 × 10^k) about a quarter of ``span``."""
    raw = max(span, 1e-9) / 4.0
    base = 10.0 ** np.floor(np.log10(raw))
    return float(base * min((m for m in (1.0, 2.0, 5.0, 10.0) if m * base >= raw), default=10.0))


def stable_range(
    current: tuple[float, float] | None, lo: float, hi: float, min_span: float
) -> tuple[float, float] | None:
    """A new y range for data in [lo, hi], or None to keep ``current``.

    Re-ranging every frame makes pyqtgraph rebuild and repaint the axes (the dominant cost of a
    live plot), so the range only changes when the data leaves it or fills less than a third of
    it (a quarter); the new range has a margin and round ends.
    """
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    span = max(hi - lo, min_span)
    if current is not None:
        c_lo, c_hi = current
        if c_lo <= lo and hi <= c_hi and (c_hi - c_lo) <= 4.0 * span:
            return None
    step = _nice_step(span)  # <= span / 1.6: the new range is < 2.6 spans, no immediate shrink
    mid = 0.5 * (lo + hi)
    new_lo = float(np.floor(min(lo, mid - span / 2) / step - 0.25) * step)
    new_hi = float(np.ceil(max(hi, mid + span / 2) / step + 0.25) * step)
    return new_lo, new_hi


def _make_plot(
    title: str, unit: str, names: tuple[str, ...]
) -> tuple[pg.PlotWidget, pg.GridItem, list]:
    # Channel colours go in the title, not in a legend: a legend inside the view (like the axes'
    # grid lines) would be repainted, text and all, on every frame.
    keys = "  ".join(
        f"<span style='color:{color}'>━ {name}</span>"
        for color, name in zip(IMU_CURVE_COLORS, names, strict=True)
    )
    plot = pg.PlotWidget(title=f"{title} &nbsp; {keys}")
    plot.setBackground("w")
    plot.setLabel("left", title.lower(), units=unit.replace("^2", "²"))
    plot.setLabel("bottom", "time", units="s")
    grid = pg.GridItem(textPen=None)  # one level of lines: 1 s apart, y set with the range
    grid.setPen(pg.mkPen(200, 200, 200))
    grid.setTickSpacing(x=[1.0], y=[None])
    plot.addItem(grid)
    plot.setDownsampling(mode="peak")
    plot.setClipToView(True)
    plot.setMouseEnabled(x=False, y=True)
    plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
    plot.getPlotItem().getAxis("bottom").enableAutoSIPrefix(False)
    curves = [
        plot.plot(pen=pg.mkPen(color, width=1), name=name)
        for color, name in zip(IMU_CURVE_COLORS, names, strict=True)
    ]
    return plot, grid, curves


class ImuPanel(QGroupBox):
    """Two plots (accel m/s², gyro rad/s), three curves each, x = seconds before the newest sample.

    Args:
        window_s: seconds of history shown.
    """

    def __init__(self, window_s: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__("IMU", parent)
        if not 0.5 <= window_s <= 120.0:
            raise ValueError(f"window_s must be in [0.5, 120] s, got {window_s}")
        self.window_s = window_s
        axes = tuple(name.split("_")[1] for name in IMU_CHANNELS)
        self.accel_plot, accel_grid, accel_curves = _make_plot(
            "Accelerometer", IMU_UNITS[0], axes[:3]
        )
        self.gyro_plot, gyro_grid, gyro_curves = _make_plot("Gyroscope", IMU_UNITS[3], axes[3:])
        self.grids = (accel_grid, gyro_grid)
        self.curves = accel_curves + gyro_curves
        self.plots = (self.accel_plot, self.gyro_plot)
        self._min_spans = (MIN_SPAN[IMU_UNITS[0]], MIN_SPAN[IMU_UNITS[3]])
        self.y_ranges: list[tuple[float, float] | None] = [None, None]
        self.range_changes = 0
        for plot in self.plots:
            plot.setXRange(-window_s, 0.0, padding=0.0)
            plot.disableAutoRange()
        layout = QVBoxLayout(self)
        layout.addWidget(self.accel_plot)
        layout.addWidget(self.gyro_plot)
        self.samples_shown = 0

    def update_imu(self, t: np.ndarray, data: np.ndarray) -> None:
        """Plot ``data`` (6, N) against ``t`` (N,) LSL seconds, shifted so the newest sample is 0.

        Raises:
            ValueError: if the shapes do not match.
        """
        if data.ndim != 2 or data.shape[0] != len(self.curves) or data.shape[1] != t.shape[0]:
            raise ValueError(
                f"data must be ({len(self.curves)}, N) with t (N,), got {data.shape} and {t.shape}"
            )
        if t.shape[0] == 0:
            for curve in self.curves:
                curve.setData([], [])
            self.samples_shown = 0
            return
        x = t - t[-1]  # (N,) seconds before the newest sample
        all_finite = bool(np.isfinite(data).all())
        for row, curve in enumerate(self.curves):
            # A NaN from a faulty sensor shows as a gap instead of breaking the plot.
            curve.setData(x, data[row], connect="all" if all_finite else "finite")
        self.samples_shown = int(t.shape[0])
        for i, plot in enumerate(self.plots):
            rows = data[3 * i : 3 * i + 3]  # (3, N) one sensor
            values = rows if all_finite else rows[np.isfinite(rows)]
            if not values.size:
                continue
            new = stable_range(
                self.y_ranges[i], float(values.min()), float(values.max()), self._min_spans[i]
            )
            if new is not None:
                self.y_ranges[i] = new
                self.range_changes += 1
                plot.setYRange(*new, padding=0.0)
                self.grids[i].setTickSpacing(x=[1.0], y=[_nice_step(new[1] - new[0])])

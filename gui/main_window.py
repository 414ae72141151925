"""The main window: lays out the panels, polls the controller from a QTimer, routes commands."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QAction, QCloseEvent, QKeySequence
from PyQt6.QtWidgets import QLabel, QMainWindow, QMenu, QSplitter, QVBoxLayout, QWidget

from comodo_live.session.snapshot import EngineSnapshot
from comodo_live.worker import raise_errors
from gui.activities_panel import ActivitiesPanel
from gui.camera_panel import CameraPanel
from gui.controller_protocol import Controller
from gui.controls_panel import PRIVACY_SHORTCUTS, ControlsPanel
from gui.frame_counter import FrameCounter
from gui.imu_panel import ImuPanel
from gui.learning_panel import LearningPanel
from gui.log_pane import LogPane, new_errors
from gui.prediction_panel import PredictionPanel
from gui.qt import present
from gui.streams_panel import StreamsPanel

log = logging.getLogger(__name__)
P = ParamSpec("P")
SLOW_EVERY = 8  # ticks between refreshes of the slow panels (streams, learning, controls)


def _column(*widgets: QWidget, stretch: tuple[int, ...] = ()) -> QWidget:
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    for i, widget in enumerate(widgets):
        layout.addWidget(widget, stretch[i] if i < len(stretch) else 0)
    return column


class MainWindow(QMainWindow):
    """comodo-live's window on one engine controller.

    Args:
        controller: the engine controller (see :class:`gui.controller_protocol.Controller`).
        refresh_ms: QTimer period, ms, in [20, 50].
        imu_window_s: seconds of IMU history plotted.
        stop_on_close: closing the window stops the controller (finalises the recording).
    """

    def __init__(
        self,
        controller: Controller,
        refresh_ms: int = 25,
        imu_window_s: float = 10.0,
        stop_on_close: bool = True,
    ) -> None:
        super().__init__()
        if not 20 <= refresh_ms <= 50:
            raise ValueError(f"refresh_ms must be in [20, 50] ms, got {refresh_ms}")
        self.controller = controller
        self.status_bar = present(self.statusBar(), "status bar")
        self.stop_on_close = stop_on_close
        self.imu_window_s = imu_window_s
        self.setWindowTitle("comodo-live")
        self.resize(1440, 900)
        self.streams = StreamsPanel()
        self.camera = CameraPanel()
        self.controls = ControlsPanel()
        self.activities = ActivitiesPanel()
        self.imu = ImuPanel(window_s=imu_window_s)
        self.prediction = PredictionPanel()
        self.learning = LearningPanel()
        self.log_pane = LogPane()
        self._build_layout()
        self._connect()
        self._build_menu()
        self.camera_state = QLabel()
        self.fps_label = QLabel()
        self.status_bar.addPermanentWidget(self.camera_state)
        self.status_bar.addPermanentWidget(self.fps_label)
        self.frame_counter = FrameCounter(self.imu.accel_plot.viewport())
        self.snapshot: EngineSnapshot | None = None
        self.ticks = 0
        self.tick_seconds = 0.0  # total time spent in refresh(), s
        self.tick_ms: deque[float] = deque(maxlen=20000)  # recent refresh() durations, ms
        self._errors: tuple[str, ...] = ()
        self._imu_warnings: tuple[str, ...] = ()  # bad IMU data shown once per episode
        self._failures: dict[
            str, float
        ] = {}  # refresh failure message → last reported (monotonic s)
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def _build_layout(self) -> None:
        left = _column(
            self.streams, self.camera, self.controls, self.activities, stretch=(2, 3, 0, 1)
        )
        middle = _column(self.imu)
        right = _column(self.prediction, self.learning, stretch=(0, 1))
        columns = QSplitter(Qt.Orientation.Horizontal)
        for index, widget in enumerate((left, middle, right)):
            columns.addWidget(widget)
            columns.setStretchFactor(index, 1)
        columns.setSizes([470, 520, 450])
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(columns)
        outer.addWidget(self.log_pane)
        outer.setStretchFactor(0, 1)
        outer.setStretchFactor(1, 0)
        self.setCentralWidget(outer)

    def _connect(self) -> None:
        c, a, ctl = self.controls, self.activities, self.controller
        c.camera_toggled.connect(lambda on: self.command(ctl.set_camera, bool(on)))
        c.recording_toggled.connect(
            lambda on: self.command(ctl.start_recording if on else ctl.stop_recording)
        )
        c.export_requested.connect(lambda path: self.command(ctl.start_export, str(path)))
        c.replay_requested.connect(lambda path: self.command(ctl.open_replay, str(path)))
        a.activity_added.connect(lambda name: self.command(ctl.add_activity, str(name)))
        a.activity_renamed.connect(
            lambda old, new: self.command(ctl.rename_activity, str(old), str(new))
        )
        a.activity_deleted.connect(lambda name: self.command(ctl.delete_activity, str(name)))
        a.label_started.connect(lambda name: self.command(ctl.start_label, str(name)))
        a.label_stopped.connect(lambda: self.command(ctl.stop_label))
        a.personalise_requested.connect(lambda: self.command(ctl.start_personalise))

    def _build_menu(self) -> None:
        def action(
            menu: QMenu, text: str, keys: tuple[str, ...], slot: Callable[[], object]
        ) -> QAction:
            act = QAction(text, self)
            act.setShortcuts([QKeySequence(k) for k in keys])
            act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        session = present(present(self.menuBar(), "menu bar").addMenu("&Session"), "Session menu")
        self.privacy_action = action(
            session, "Camera on/off (privacy mode)", PRIVACY_SHORTCUTS, self.controls.toggle_camera
        )
        action(session, "Start/stop recording", ("Ctrl+R",), self.controls.record_button.toggle)
        action(session, "Export model…", ("Ctrl+E",), self.controls.ask_export)
        action(session, "Open recording…", ("Ctrl+O",), self.controls.ask_replay)
        session.addSeparator()
        action(session, "Quit", ("Ctrl+Q",), self.close)

    def command(self, method: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> None:
        """Call one controller command (e.g. ``self.command(ctl.start_label, "walking")``: the
        arguments are type-checked against the :class:`~gui.controller_protocol.Controller`
        method); logged, and a failure goes to the log and status bar."""
        name = getattr(method, "__name__", repr(method))
        shown = [*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())]
        self.log_pane.log("info", f"{name}({', '.join(shown)})")
        try:
            method(*args, **kwargs)
        except Exception as exc:
            self.report_error(f"{name} failed: {exc!r}")
            if raise_errors():
                raise

    def report_error(self, message: str) -> None:
        """Show ``message`` in the status bar and the log pane."""
        log.error(message)
        self.log_pane.log("error", message)
        self.status_bar.showMessage(f"⚠ {message}", 15000)

    def refresh(self) -> None:
        """One QTimer tick: poll the controller and update the panels (never raises to Qt)."""
        t0 = time.perf_counter()
        self.frame_counter.tick()
        try:
            self._refresh()
        except Exception as exc:
            message = f"refresh failed: {exc!r}"
            now = time.monotonic()
            if now - self._failures.get(message, -1e9) > 10.0:  # do not flood the log at 40 Hz
                self._failures[message] = now
                self.report_error(message)
            if raise_errors():
                raise
        elapsed = time.perf_counter() - t0
        self.ticks += 1
        self.tick_seconds += elapsed
        self.tick_ms.append(1000.0 * elapsed)

    def _refresh(self) -> None:
        snap = self.controller.snapshot()
        self.snapshot = snap
        t, data = self.controller.imu_plot_data(self.imu_window_s)
        self.imu.update_imu(t, data)
        self.camera.update_camera(
            snap.camera_on, self.controller.latest_preview() if snap.camera_on else None
        )
        self.prediction.update_prediction(snap)
        for message in new_errors(self._errors, snap.errors):
            self.report_error(message)
        self._errors = snap.errors
        for warning in snap.imu_warnings:  # comodo_live/imu_quality.py: NaN, stuck, ...
            if warning not in self._imu_warnings:
                self.report_error(warning)
        self._imu_warnings = snap.imu_warnings
        if self.ticks % SLOW_EVERY == 0:
            now = float(t[-1]) if len(t) else (snap.prediction.t if snap.prediction else 0.0)
            self.streams.update_streams(snap.streams, snap.camera_on)
            self.learning.update_learning(snap, now)
            self.controls.sync(snap)
            self.activities.sync(snap.activities, snap.labelling, snap.labelled_windows)
            self.activities.show_personalise(snap.personalise_progress, snap.personalise_result)
            self.camera_state.setText("camera ON" if snap.camera_on else "camera OFF — privacy")
            title = (
                f"comodo-live — {Path(snap.session_dir).name}"
                if snap.session_dir
                else "comodo-live"
            )
            if self.windowTitle() != title:
                self.setWindowTitle(title)
            self.fps_label.setText(f"{self.frame_counter.fps:.0f} fps")

    def shutdown(self) -> None:
        """Stop polling and (if ``stop_on_close``) the controller; idempotent."""
        if self.timer.isActive():
            self.timer.stop()
            if self.stop_on_close:
                self.status_bar.showMessage("stopping the engine and finalising the recording…")
                t0 = time.monotonic()
                self.controller.stop()
                log.info("engine stopped in %.1f s", time.monotonic() - t0)

    def closeEvent(self, event: QCloseEvent | None) -> None:
        try:
            self.shutdown()
        except Exception as exc:  # closing must never hang or crash the window
            log.exception("stopping the controller failed")
            self.log_pane.log("error", f"stop failed: {exc!r}")
        if event is not None:
            event.accept()

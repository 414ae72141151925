"""The window on the real engine running the synthetic demo (offscreen)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PyQt6.QtCore import Qt

from gui.main_window import MainWindow
from tests.gui.demo import demo_controller

pytestmark = pytest.mark.slow


def _points(curve) -> int:
    x = curve.getData()[0]
    return 0 if x is None else len(x)


@pytest.fixture
def window(qtbot, tmp_path) -> Iterator[MainWindow]:
    controller = demo_controller(tmp_path)
    win = MainWindow(controller)
    qtbot.addWidget(win)
    controller.start()
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()  # stops the controller
    assert not controller.running


def test_main_window__shows_streams_plots_and_predictions(window: MainWindow, qtbot) -> None:
    qtbot.waitUntil(lambda: window.streams.health_of("IMU") == ["ok"], timeout=15000)
    qtbot.waitUntil(lambda: window.streams.health_of("VideoFrameIndex") == ["ok"], timeout=15000)
    qtbot.waitUntil(lambda: window.imu.samples_shown > 200, timeout=15000)  # > 2 s at 100 Hz
    x, _ = window.imu.curves[0].getData()
    assert x[-1] == 0.0 and x[0] <= -2.0
    qtbot.waitUntil(lambda: window.camera.showing_frame, timeout=15000)
    qtbot.waitUntil(lambda: window.snapshot.prediction is not None, timeout=15000)
    assert "waiting" not in window.prediction.current.text()
    qtbot.waitUntil(lambda: _points(window.learning.loss_curve) > 0, timeout=25000)
    assert window.learning.values["step"].text() != "–"
    assert window.frame_counter.frames > 10  # the plots are being drawn


def test_main_window__privacy_toggle_hides_preview_and_engine_goes_imu_only(
    window: MainWindow, qtbot
) -> None:
    controller = window.controller
    qtbot.waitUntil(lambda: window.camera.showing_frame, timeout=15000)
    qtbot.keyClick(window, Qt.Key.Key_F9)  # the privacy shortcut
    assert not controller.camera_on
    qtbot.waitUntil(lambda: not window.camera.showing_frame, timeout=2000)
    assert window.camera.stack.currentWidget() is window.camera.privacy
    assert window.camera.preview.pixmap().isNull()
    assert controller.latest_preview() is None
    frames_before = window.camera.frames_shown
    qtbot.waitUntil(lambda: window.snapshot.prediction is not None, timeout=15000)
    t_before = window.snapshot.prediction.t
    qtbot.waitUntil(lambda: window.snapshot.prediction.t > t_before + 1.0, timeout=10000)
    assert window.camera.frames_shown == frames_before  # no frame reached the screen
    assert window.snapshot.teacher_prediction is None  # the teacher idles: IMU-only
    assert "idle — camera off" in window.prediction.teacher.text()
    qtbot.waitUntil(lambda: window.streams.health_of("VideoFrameIndex") == ["off"], timeout=2000)
    window.privacy_action.trigger()  # and back on (Ctrl+P / F9 / the menu)
    assert controller.camera_on
    qtbot.waitUntil(lambda: window.camera.showing_frame, timeout=15000)


def test_main_window__labelling_records_windows_and_refits_classifier(
    window: MainWindow, qtbot
) -> None:
    panel = window.activities
    for name in ("walking", "sitting"):
        qtbot.keyClicks(panel.name_edit, name)
        qtbot.keyClick(panel.name_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: set(panel.buttons) == {"walking", "sitting"}, timeout=2000)
    for name in ("walking", "sitting"):
        qtbot.mouseClick(panel.buttons[name], Qt.MouseButton.LeftButton)
        assert window.controller.snapshot().labelling == name
        qtbot.waitUntil(
            lambda n=name: window.snapshot.labelled_windows.get(n, 0) >= 4, timeout=15000
        )
        qtbot.mouseClick(panel.buttons[name], Qt.MouseButton.LeftButton)
        assert window.controller.snapshot().labelling is None
    qtbot.waitUntil(  # the buttons show the engine's counts
        lambda: (
            panel.buttons["sitting"].text()
            == f"sitting  ({window.snapshot.labelled_windows['sitting']} windows)"
        ),
        timeout=3000,
    )

    def refitted() -> bool:
        prediction = window.snapshot.prediction
        return prediction is not None and set(prediction.probabilities) == {"walking", "sitting"}

    qtbot.waitUntil(refitted, timeout=20000)
    qtbot.waitUntil(lambda: sum(window.prediction.bars.probabilities.values()) > 0.5, timeout=2000)
    assert window.prediction.bars.activities == ("walking", "sitting")


def test_main_window__close_finalises_a_loadable_xdf(qtbot, tmp_path) -> None:
    import pyxdf

    controller = demo_controller(tmp_path, record=True)
    win = MainWindow(controller)
    qtbot.addWidget(win)
    controller.start()
    win.show()
    qtbot.waitUntil(lambda: win.snapshot is not None and win.snapshot.recording, timeout=15000)
    qtbot.waitUntil(lambda: win.imu.samples_shown > 300, timeout=15000)
    win.activities.activity_added.emit("walking")
    qtbot.waitUntil(lambda: "walking" in win.activities.buttons, timeout=2000)
    qtbot.mouseClick(win.activities.buttons["walking"], Qt.MouseButton.LeftButton)
    qtbot.wait(1500)
    qtbot.mouseClick(win.activities.buttons["walking"], Qt.MouseButton.LeftButton)
    win.privacy_action.trigger()
    qtbot.wait(1500)
    session_dir = controller.session_dir
    win.close()
    assert not controller.running
    streams, _ = pyxdf.load_xdf(str(session_dir / "session.xdf"), dejitter_timestamps=False)
    by_type: dict[str, list] = {}
    for stream in streams:
        by_type.setdefault(stream["info"]["type"][0], []).append(stream)
    imu = by_type["IMU"][0]
    assert imu["time_series"].shape[1] == 6 and imu["time_series"].shape[0] > 300
    markers = [str(m[0]) for s in by_type["Markers"] for m in s["time_series"]]
    assert "label:start:walking" in markers and "label:stop" in markers
    assert "camera:off" in markers


def test_main_window__export_runs_off_the_ui_thread(
    window: MainWindow, qtbot, tmp_path, monkeypatch
) -> None:
    chosen = tmp_path / "models"
    chosen.mkdir()
    monkeypatch.setattr(
        "gui.controls_panel.QFileDialog.getExistingDirectory", lambda *a, **k: str(chosen)
    )
    window.activities.activity_added.emit("walking")
    qtbot.waitUntil(lambda: "walking" in window.activities.buttons, timeout=2000)
    qtbot.mouseClick(window.activities.buttons["walking"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.snapshot.labelled_windows.get("walking", 0) >= 4, timeout=15000)
    qtbot.mouseClick(window.activities.buttons["walking"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.snapshot.train is not None, timeout=20000)
    window.controls.export_button.click()
    ticks = window.ticks
    qtbot.waitUntil(lambda: window.snapshot.export_result is not None, timeout=120000)
    assert window.ticks > ticks + 20  # the window kept refreshing while the engine exported
    result = window.snapshot.export_result
    assert not result.startswith("error"), result
    assert chosen.is_dir() and any(chosen.iterdir())
    qtbot.waitUntil(lambda: "last export" in window.controls.export_label.text(), timeout=2000)
    assert window.controls.export_button.isEnabled()


def test_main_window__record_then_open_it_as_replay(qtbot, tmp_path, monkeypatch) -> None:
    controller = demo_controller(tmp_path, record=False)
    win = MainWindow(controller)
    qtbot.addWidget(win)
    controller.start()
    win.show()
    qtbot.waitUntil(lambda: win.imu.samples_shown > 100, timeout=15000)
    qtbot.keyClick(win, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # start recording
    qtbot.waitUntil(lambda: win.snapshot.recording, timeout=15000)
    qtbot.waitUntil(lambda: "recording ·" in win.controls.session_label.text(), timeout=3000)
    qtbot.wait(3000)
    win.controls.record_button.click()  # stop: finalised in the background
    qtbot.waitUntil(lambda: not win.snapshot.recording, timeout=20000)
    xdf = controller.session_dir / "session.xdf"
    assert xdf.is_file()
    monkeypatch.setattr(
        "gui.controls_panel.QFileDialog.getOpenFileName", lambda *a, **k: (str(xdf), "XDF (*.xdf)")
    )
    win.controls.replay_button.click()
    qtbot.waitUntil(
        lambda: controller.config.source.mode == "replay" and controller.running, timeout=30000
    )
    qtbot.waitUntil(lambda: win.streams.health_of("IMU") == ["ok"], timeout=15000)
    qtbot.waitUntil(lambda: win.imu.samples_shown > 100, timeout=15000)
    assert not any("failed" in e for e in win.snapshot.errors), win.snapshot.errors
    win.close()
    assert not controller.running


def test_main_window__engine_errors_reach_status_bar_and_log(
    window: MainWindow, qtbot, monkeypatch
) -> None:
    monkeypatch.delenv("COMODO_RAISE")  # as a user runs it: the engine reports, nothing raises
    window.activities.activity_deleted.emit("never-added")

    def shown() -> bool:
        return any("[error]" in line and "never-added" in line for line in window.log_pane.lines)

    qtbot.waitUntil(shown, timeout=3000)
    assert "never-added" in window.statusBar().currentMessage()
    assert window.isVisible() and window.timer.isActive()  # still polling

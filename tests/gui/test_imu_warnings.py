"""Bad IMU data named in the window: the status bar and the log pane show each warning once."""

from __future__ import annotations

import time

import pytest

from comodo_live import imu_quality
from gui.main_window import MainWindow
from tests.gui.demo import demo_controller

pytestmark = pytest.mark.slow


def test_main_window__shows_imu_warnings_once(qtbot, tmp_path) -> None:
    controller = demo_controller(tmp_path)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    controller.start()
    try:
        window.show()
        qtbot.waitExposed(window)
        warning = imu_quality.WARNINGS[imu_quality.CONSTANT]
        controller.imu_quality.observe([imu_quality.CONSTANT], time.monotonic())
        qtbot.waitUntil(lambda: warning in window.status_bar.currentMessage(), timeout=5000)
        qtbot.wait(500)  # more refresh ticks: still one log line
        assert window.log_pane.toPlainText().count(warning) == 1
    finally:
        window.close()  # stops the controller

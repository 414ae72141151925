"""gui.app.run on the real demo engine, and `python app.py --demo` as a user starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PyQt6.QtCore import QTimer

from gui.app import run
from tests.gui.demo import demo_controller

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_run__duration_closes_window_and_stops_engine(qapp, tmp_path) -> None:
    controller = demo_controller(tmp_path)
    t0 = time.monotonic()
    assert run(controller, duration_s=4.0) == 0
    assert not controller.running
    assert time.monotonic() - t0 < 60
    assert (controller.session_dir / "config.toml").is_file()


def test_run__sigint_closes_cleanly(qapp, tmp_path) -> None:
    controller = demo_controller(tmp_path)
    QTimer.singleShot(4000, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.monotonic()
    assert run(controller, duration_s=60.0) == 0  # Ctrl+C, well before the duration
    assert time.monotonic() - t0 < 40
    assert not controller.running
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_run__rejects_bad_duration(qapp, tmp_path) -> None:
    with pytest.raises(ValueError, match="duration_s must be > 0"):
        run(demo_controller(tmp_path), duration_s=0.0)


def test_app_py__demo_window_smoke(tmp_path) -> None:
    """`python app.py --demo --duration 15`, offscreen: exit 0, no traceback, a session folder."""
    import pyxdf

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("COMODO_RAISE", None)  # as a user runs it
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--demo", "--duration", "15"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    sessions = list((tmp_path / "recordings").iterdir())
    assert len(sessions) == 1, sessions
    session = sessions[0]
    assert (session / "config.toml").is_file() and (session / "metrics.jsonl").is_file()
    streams, _ = pyxdf.load_xdf(str(session / "session.xdf"), dejitter_timestamps=False)
    imu = [s for s in streams if s["info"]["type"][0] == "IMU"]
    assert imu and imu[0]["time_series"].shape[0] > 500  # > 5 s at 100 Hz


def test_run__engine_start_failure_is_shown_not_raised(qapp, tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.delenv("COMODO_RAISE")  # as a user runs it: the window must survive
    controller = demo_controller(
        tmp_path, **{"source.mode": "replay", "source.replay_path": str(tmp_path / "missing.xdf")}
    )
    with caplog.at_level("ERROR", logger="gui.app"):
        assert run(controller, duration_s=1.5) == 1
    assert "the engine failed to start" in caplog.text and "missing.xdf" in caplog.text
    assert not controller.running


def test_run__startup_warnings_show_in_the_window(qapp, tmp_path, monkeypatch) -> None:
    import gui.app as app_module

    windows: list[app_module.MainWindow] = []

    class Recorded(app_module.MainWindow):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            windows.append(self)

    monkeypatch.setattr(app_module, "MainWindow", Recorded)
    warning = "--lsl-lan: LSL discovery opened to the local network"
    assert run(demo_controller(tmp_path), duration_s=2.0, warnings=[warning]) == 0
    assert windows and any(f"[warning] {warning}" in line for line in windows[0].log_pane.lines)


def test_run__window_is_destroyed_in_the_gui_thread_before_the_application(
    tmp_path, monkeypatch
) -> None:
    """run() destroys its window (plots and all) before returning, and the QApplication it made
    outlives it: Qt widgets never die under a destroyed QApplication or in another thread."""
    import threading

    from PyQt6 import sip
    from PyQt6.QtWidgets import QApplication

    import gui.app as app_module

    destroyed: list[str] = []
    windows: list[app_module.MainWindow] = []

    class Watched(app_module.MainWindow):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            windows.append(self)
            self.destroyed.connect(lambda: destroyed.append(threading.current_thread().name))

    monkeypatch.setattr(app_module, "MainWindow", Watched)
    assert run(demo_controller(tmp_path), duration_s=2.0) == 0
    assert destroyed == [threading.main_thread().name]
    assert sip.isdeleted(windows[0])
    assert QApplication.instance() is app_module.application()  # still there

"""GUI refresh rate while the engine trains on the synthetic demo (offscreen, real engine).

Opens the window on the demo with the default configuration (teacher, trainer, predictor and
recorder all running), lets a scripted user label every demo activity once through the
activity buttons, waits until the trainer is stepping, then counts the frames the IMU plot
actually draws (paint events, at most one per refresh tick; see gui/frame_counter.py) for
``--seconds`` with the camera on and ``--privacy-seconds`` in privacy mode. Also records the
time spent in each refresh tick, the trainer's steps/s over the same span, and the load average
(the CPU may be shared with other jobs).

Usage: ``python benchmarks/gui_fps.py [--seconds 60] [--privacy-seconds 20] [--imu-rate-hz 200]``
Saves ``benchmarks/results/gui_fps.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

import comodo_live  # noqa: F401  (machine-scoped LSL before pylsl)

RESULTS = Path(__file__).resolve().parent / "results" / "gui_fps.json"


def measure(window, seconds: float, label: str) -> dict[str, float | str]:
    """Frames drawn and refresh costs over ``seconds`` of the event loop."""
    from gui.demo_user import wait_for

    counter = window.frame_counter
    frames0, paints0, ticks0 = counter.frames, counter.paint_events, window.ticks
    steps0 = window.controller.snapshot().train
    window.tick_ms.clear()
    t0 = time.perf_counter()
    wait_for(seconds)
    elapsed = time.perf_counter() - t0
    steps1 = window.controller.snapshot().train
    ticks = np.asarray(window.tick_ms)
    step_delta = (steps1.step - steps0.step) if steps0 and steps1 else 0
    return {
        "phase": label,
        "seconds": round(elapsed, 2),
        "fps": (counter.frames - frames0) / elapsed,
        "paint_events_per_s": (counter.paint_events - paints0) / elapsed,
        "refresh_ticks_per_s": (window.ticks - ticks0) / elapsed,
        "tick_ms_median": float(np.median(ticks)) if ticks.size else float("nan"),
        "tick_ms_p95": float(np.percentile(ticks, 95)) if ticks.size else float("nan"),
        "tick_ms_max": float(ticks.max()) if ticks.size else float("nan"),
        "trainer_steps_per_s": step_delta / elapsed,
        "loadavg_1min_after": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="camera-on measurement, s")
    parser.add_argument(
        "--privacy-seconds", type=float, default=20.0, help="camera-off measurement, s"
    )
    parser.add_argument("--imu-rate-hz", type=float, default=200.0, help="demo IMU rate, Hz")
    args = parser.parse_args(argv)
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from comodo_live.config import load_config
    from comodo_live.session.controller import Controller
    from drivers.sources import make_sources
    from gui.demo_user import DemoUser, wait_until
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="comodo-gui-fps-") as root:
        config = load_config(
            overrides={
                "source.mode": "demo",
                "session.root": root,
                "session.name": "gui-fps",
                "imu.rate_hz": args.imu_rate_hz,
            }
        )
        controller = Controller(config, sources_factory=make_sources)
        window = MainWindow(controller)
        try:
            controller.start()
            window.show()
            user = DemoUser(window, tuple(dict.fromkeys(config.demo.activities)))
            clicker = QTimer(window)
            clicker.timeout.connect(user.step)
            clicker.start(100)
            wait_until(
                lambda: (s := controller.snapshot().train) is not None and s.step > 0,
                180,
                "training",
            )
            import torch  # the engine already imported it; only to report its thread count

            phases = [measure(window, args.seconds, "camera on, training, labelling")]
            window.privacy_action.trigger()
            phases.append(measure(window, args.privacy_seconds, "camera off (privacy), training"))
            samples_plotted = window.imu.samples_shown
            labelled = list(user.labelled)
        finally:
            window.close()
            controller.stop()
            app.processEvents()
    result = {
        "benchmark": "gui_fps",
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "qt_platform": os.environ["QT_QPA_PLATFORM"],
        },
        "refresh_ms": window.timer.interval(),
        "imu_plot": f"2 plots x 3 channels, last 10 s at {args.imu_rate_hz:g} Hz (demo IMU), peak downsampling, clip to view",
        "imu_samples_per_channel_plotted": samples_plotted,
        "loadavg_1min_before": load_before,
        "activities_labelled": labelled,
        "phases": phases,
        "min_fps": min(p["fps"] for p in phases),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

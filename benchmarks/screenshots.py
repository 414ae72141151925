"""Screenshots of the window on the synthetic demo, one per mode (offscreen, real engine).

    python benchmarks/screenshots.py --out docs/screenshots

Modes: ``labelling`` (camera on, an activity button held), ``camera_on_training`` (camera on,
every demo activity labelled once, the student training), ``camera_off_privacy`` (privacy mode,
IMU-only recognition). The engine runs the real demo drivers, teacher and trainer; the session
folder goes to a temporary directory unless ``--session-root`` is given. Docs tooling, not part of
the ``gui`` package (it runs the engine, hence torch, which the GUI never imports).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/screenshots.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="output folder")
    parser.add_argument(
        "--train-s", type=float, default=90.0, help="seconds of demo before the training shot"
    )
    parser.add_argument(
        "--privacy-s", type=float, default=8.0, help="seconds in privacy mode before its shot"
    )
    parser.add_argument(
        "--session-root", type=Path, default=None, help="keep the session folder here"
    )
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args(argv)
    if args.train_s < 10 or args.privacy_s < 1:
        parser.error(
            f"--train-s must be >= 10 s and --privacy-s >= 1 s, got {args.train_s}, {args.privacy_s}"
        )
    return args


def take_screenshots(
    out: Path, session_root: Path, train_s: float, privacy_s: float, size: tuple[int, int]
) -> list[Path]:
    """Run the demo in a window and save one PNG per mode into ``out``; returns the paths."""
    import time

    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    import comodo_live  # noqa: F401  (machine-scoped LSL before pylsl)
    from comodo_live.config import load_config
    from comodo_live.session.controller import Controller
    from drivers.sources import make_sources
    from gui.demo_user import DemoUser, wait_for, wait_until
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    config = load_config(
        overrides={
            "source.mode": "demo",
            "session.root": str(session_root),
            "session.name": "screenshots",
        }
    )
    controller = Controller(config, sources_factory=make_sources)
    window = MainWindow(controller)
    window.resize(*size)
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []

    def shot(name: str) -> None:
        path = out / f"{name}.png"
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        saved.append(path)
        print(f"saved {path}", flush=True)

    try:
        controller.start()
        window.show()
        started = time.monotonic()
        user = DemoUser(window, tuple(dict.fromkeys(config.demo.activities)))
        clicker = QTimer(window)
        clicker.timeout.connect(user.step)
        clicker.start(100)
        wait_until(
            lambda: len(user.labelled) >= 1 and user.current is not None,
            120,
            "labelling a second activity",
        )
        wait_for(3.0)
        shot("labelling")
        wait_until(
            lambda: user.done and time.monotonic() - started >= train_s,
            240 + train_s,
            "labelling every activity",
        )
        clicker.stop()
        shot("camera_on_training")
        window.privacy_action.trigger()
        wait_for(privacy_s)
        shot("camera_off_privacy")
    finally:
        window.close()  # stops the controller, finalises the recording
        controller.stop()
        app.processEvents()
    return saved


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args = _parse(argv)
    size = (args.width, args.height)
    if args.session_root is not None:
        take_screenshots(args.out, args.session_root, args.train_s, args.privacy_s, size)
    else:
        with tempfile.TemporaryDirectory(prefix="comodo-screenshots-") as root:
            take_screenshots(args.out, Path(root), args.train_s, args.privacy_s, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``comodo-live`` command (and ``python app.py``): dispatches to the subcommands.

    comodo-live --demo                        # = comodo-live run --demo: the window on the demo
    comodo-live run --headless --demo --duration 60
    comodo-live replay recordings/<session>/session.xdf [run options]
    comodo-live export --session recordings/<session> --out <dir> [--int8]
    comodo-live distill --dataset utd-mhad --teacher skeleton --out runs/skeleton
    comodo-live import --video V.mp4 --imu-csv V.csv --out recordings/<name>
    comodo-live import --video GOPRO.mp4 --out recordings/<name> [--labels L.csv]  # embedded IMU
    comodo-live report recordings/<session>   # report.html: curves, confusion, timeline, health

Exit status: 0 done, 2 a usage or input error (every subcommand), 141 stdout closed (a pipe),
130 Ctrl+C before a session started (a session stops cleanly on signals: comodo_app.signals).
"""

from __future__ import annotations

import contextlib
import faulthandler
import sys
from collections.abc import Callable, Sequence

import comodo_live  # first: points LSLAPICFG at the machine-scoped config
from comodo_live.pipes import quiet_broken_pipe

PROG = "comodo-live"
COMMANDS: dict[str, str] = {
    "run": "a session in the window, or --headless (the default: bare options run it)",
    "replay": "replay FILE [run options]: the app on a recorded session (.xdf or its folder)",
    "export": "export a session's personalised model (ONNX + TorchScript package)",
    "distill": "offline COMODO distillation on UTD-MHAD, or over recorded sessions "
    "(--sessions DIR...; data-parallel under torchrun), then probe evaluation",
    "import": "build a replayable session from a video file and an IMU CSV, or the video's "
    "own embedded IMU (GoPro and other action cameras), with an optional label file",
    "report": "report SESSION: write report.html for a session or a distill run folder",
}
USAGE = f"usage: {PROG} [run] [options]\n       {PROG} COMMAND [options]\n"


def help_text() -> str:
    """Top-level ``--help``: the subcommands, and where each one's options are."""
    width = max(len(name) for name in COMMANDS)
    commands = "\n".join(f"  {name:<{width}}  {what}" for name, what in COMMANDS.items())
    return (
        f"{USAGE}\ncomodo-live: continual video→IMU distillation, IMU-only activity recognition.\n"
        f"\ncommands:\n{commands}\n"
        "\noptions:\n  -h, --help  show this help and exit\n  --version   show the version and exit\n"
        f"\n'{PROG} COMMAND --help' lists a command's options ('{PROG} run --help' the session's:"
        " --demo, --headless, --replay, --config, ...).\n"
    )


def version() -> str:
    """The installed distribution's version (the package's own when run from a checkout)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("comodo-live")
    except PackageNotFoundError:
        return comodo_live.__version__


def _usage_error(message: str) -> int:
    print(f"{USAGE}{PROG}: error: {message}", file=sys.stderr)
    return 2


def _session(argv: Sequence[str]) -> int:
    from comodo_app.cli import main as session_main

    return session_main(list(argv))


def _replay(argv: Sequence[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(f"usage: {PROG} replay FILE [run options]\n\n{COMMANDS['replay']}.")
        print(f"Same as '{PROG} run --replay FILE'; see '{PROG} run --help' for the run options.")
        return 0
    if not argv or argv[0].startswith("-"):
        return _usage_error("replay needs FILE, a recorded session (.xdf file or its folder)")
    return _session(["--replay", argv[0], *argv[1:]])


def _export(argv: Sequence[str]) -> int:
    from comodo_live.export.cli import main as export_main

    return export_main(argv)


def _distill(argv: Sequence[str]) -> int:
    from comodo_live.training.cli import main as distill_main

    return distill_main(list(argv))


def _import(argv: Sequence[str]) -> int:
    from comodo_live.recording.convert import main as convert_main

    return convert_main(list(argv))


def _report(argv: Sequence[str]) -> int:
    from comodo_live.report.cli import main as report_main

    return report_main(argv)


DISPATCH: dict[str, Callable[[Sequence[str]], int]] = {
    "run": _session,
    "replay": _replay,
    "export": _export,
    "distill": _distill,
    "import": _import,
    "report": _report,
}


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(help_text(), end="")
        return 0
    if argv and argv[0] == "--version":
        print(f"{PROG} {version()}")
        return 0
    if argv and argv[0] in DISPATCH:
        return DISPATCH[argv[0]](argv[1:])
    if argv and not argv[0].startswith("-"):
        return _usage_error(f"unknown command {argv[0]!r} (choose from {', '.join(COMMANDS)})")
    return _session(argv)


def _show_native_crashes() -> None:
    """A crash in native code (Qt, liblsl, torch, OpenCV) prints every thread's Python stack on
    stderr (for the bug report) instead of dying silently; no-op without a real stderr."""
    if faulthandler.is_enabled():
        return
    with contextlib.suppress(AttributeError, OSError, RuntimeError, ValueError):
        faulthandler.enable()  # io.UnsupportedOperation is an OSError and a ValueError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for any usage or input error)."""
    _show_native_crashes()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args)
    except SystemExit as exc:  # argparse, or a subcommand's SystemExit("message")
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(f"error: {exc.code}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return quiet_broken_pipe()
    except KeyboardInterrupt:  # Ctrl+C before a session took the signals over: nothing started
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130

"""The `comodo-live` dispatcher: subcommands in --help, --version, exit 2 for usage and input
errors, no display → a message instead of a Qt abort. Runs `python app.py` (the same main)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from comodo_app.checks import NO_DISPLAY, display_problem
from comodo_app.main import COMMANDS, main, version

ROOT = Path(__file__).resolve().parents[2]


def _app(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )


def test_main__help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("run", "replay", "export", "distill", "import", "report"):
        assert f"\n  {name} " in out, out
    assert set(COMMANDS) == {"run", "replay", "export", "distill", "import", "report"}


def test_main__version_is_the_distribution_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == f"comodo-live {version()}" and version()[0].isdigit(), out


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["replay"],
        ["replay", "/no/such/session.xdf", "--headless"],
        ["--headless", "--replay", "/no/such/session.xdf"],
        ["--headless", "--demo", "--resume", "/no/such/checkpoint.pt"],
        ["--headless", "--demo", "--no-such-flag"],
        ["report", "/no/such/session"],
        ["import", "--video", "/no/such.mp4", "--imu-csv", "/no/such.csv", "--out", "x"],
        ["distill", "--data-dir", "/no/such/folder", "--out", "x"],
    ],
)
def test_main__usage_and_input_errors_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err, err


def test_main__window_without_display_says_so(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    result = _app(tmp_path, "--demo", env=env)
    assert result.returncode == 2, result.stderr
    assert NO_DISPLAY in result.stderr
    assert not any(tmp_path.iterdir())  # nothing started, no session folder


def test_display_problem__per_platform_and_environment() -> None:
    assert display_problem({}, "linux") == NO_DISPLAY
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None and display_problem({}, "darwin") is None


def test_main__old_app_flags_still_parse(tmp_path: Path) -> None:
    result = _app(tmp_path, "--headless", "--demo", "--duration", "5", "--no-record", "--help")
    assert result.returncode == 0 and "--headless" in result.stdout and "--replay" in result.stdout


def test_main__a_native_crash_prints_every_threads_python_stack() -> None:
    """A segfault in native code (here a NULL read through ctypes, in a worker thread) leaves
    the stacks on stderr, not a bare "-11" (faulthandler, enabled by main)."""
    script = (
        "import ctypes, sys, threading\n"
        "from comodo_app import main as entry\n"
        "def crash_in_native_code(argv):\n"
        "    worker = threading.Thread(target=ctypes.string_at, args=(0,), name='worker')\n"
        "    worker.start()\n"
        "    worker.join()\n"
        "    return 0\n"
        "entry.DISPATCH['run'] = crash_in_native_code\n"
        "sys.exit(entry.main(['run']))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == -11, result.stderr[-2000:]
    assert "Fatal Python error: Segmentation fault" in result.stderr, result.stderr[-2000:]
    assert "crash_in_native_code" in result.stderr  # the main thread's stack, waiting on it
    assert "Current thread" in result.stderr


def test_main__without_a_stderr_the_crash_handler_is_skipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import faulthandler

    monkeypatch.setattr(faulthandler, "is_enabled", lambda: False)
    monkeypatch.setattr(sys, "stderr", None)  # pythonw, a service: no stderr to write to
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("comodo-live ")

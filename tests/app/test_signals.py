"""Signals through the real app (subprocesses in their own process group, real files): any number
of SIGINT / SIGTERM / SIGHUP to the app or its whole group stop it within 15 s with the XDF
footers written, the video file finalised with one frame-index sample per frame, a checkpoint
written, and no process left behind (the recorder child included)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import pyxdf

from comodo_live.learning.state import load_state
from comodo_live.session import folder

from .conftest import FAST

ROOT = Path(__file__).resolve().parents[2]
EXIT_WITHIN_S = 15.0
pytestmark = [pytest.mark.lsl, pytest.mark.slow, pytest.mark.timeout(240)]


@dataclass
class Stopped:
    """What a signalled run left: its output, timings and session folder."""

    output: str
    returncode: int
    exit_after_s: float  # from the first signal to the process's exit
    pgid: int  # the app's process group (its own session: pgid == pid)
    signalled_at: float  # time.time() of the first signal
    session: Path
    recorder_pid: int | None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _recorder_child(pid: int) -> int | None:
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"comodo_live.recording._engine" in cmdline:
            return child
    return None


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie: exited, not yet reaped


def _run_and_signal(
    root: Path, send: Callable[[subprocess.Popen[str]], None], *extra: str, window: bool = False
) -> Stopped:
    """Start the app (headless, or the window offscreen) in a new session; ~6 s into the
    recording, ``send`` its signals; wait for the exit."""
    sets = [f"--set={k}={v}" for k, v in FAST.items() if k != "source.mode"]
    mode = [] if window else ["--headless", "--status-every", "1"]
    command = [sys.executable, str(ROOT / "app.py"), *mode, "--root", str(root), *sets]
    process = subprocess.Popen(
        [*command, "--duration", "120", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COMODO_RAISE": "0", "QT_QPA_PLATFORM": "offscreen"},
        start_new_session=True,  # its own process group, as a terminal gives a command
    )
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")))
    reader.start()
    try:
        deadline = time.monotonic() + 120
        recorder = None
        while recorder is None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            recorder = _recorder_child(process.pid)
        assert recorder is not None, "no recorder child: " + "".join(lines)[-3000:]
        assert os.getpgid(recorder) != process.pid  # signals to the app's group never reach it
        time.sleep(6.0)  # ~6 s of recording
        assert process.poll() is None, "".join(lines)[-3000:]
        signalled_at, t0 = time.time(), time.monotonic()
        send(process)
        process.wait(timeout=EXIT_WITHIN_S + 30)  # measured, then asserted
        exit_after = time.monotonic() - t0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(10.0)
    output = "".join(lines)
    sessions = [p for p in root.iterdir() if p.is_dir()]
    assert len(sessions) == 1, (sessions, output[-3000:])
    return Stopped(
        output, process.returncode, exit_after, process.pid, signalled_at, sessions[0], recorder
    )


def _tail(output: str) -> str:
    """The end of the app's output, or from a native crash's dump of every thread on."""
    crash = output.find("Fatal Python error")
    return output[crash : crash + 12000] if crash >= 0 else output[-3000:]


def _assert_stopped_cleanly(run: Stopped, caplog: pytest.LogCaptureFixture) -> None:
    assert run.returncode == 0, _tail(run.output)
    assert run.exit_after_s <= EXIT_WITHIN_S, f"exit took {run.exit_after_s:.1f} s"
    assert "Traceback" not in run.output, run.output[-3000:]
    assert "stopping cleanly" in run.output
    assert "not finalised" not in run.output, run.output[-3000:]
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pgid, 0)  # nothing of the app's process group is left
    assert run.recorder_pid is not None, "no recorder child found while recording"
    end = time.monotonic() + 10
    while not _gone(run.recorder_pid) and time.monotonic() < end:
        time.sleep(0.1)
    assert _gone(run.recorder_pid), "the recorder child outlived the app"
    # the final checkpoint: written after the signal
    checkpoint = folder.checkpoint_path(run.session)
    assert checkpoint.is_file() and checkpoint.stat().st_mtime >= run.signalled_at
    assert load_state(checkpoint)["step"] > 0
    # the XDF: every stream's footer, and pyxdf has nothing to warn about
    with caplog.at_level(logging.WARNING, logger="pyxdf"):
        streams, _ = pyxdf.load_xdf(str(run.session / "session.xdf"), dejitter_timestamps=False)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pyxdf")] == []
    assert streams and all("footer" in s for s in streams), [s["info"]["name"] for s in streams]
    for stream in streams:
        count = int(stream["footer"]["info"]["sample_count"][0])
        assert count == len(stream["time_stamps"]), stream["info"]["name"]


def _frame_index(session: Path) -> np.ndarray:
    streams, _ = pyxdf.load_xdf(str(session / "session.xdf"), dejitter_timestamps=False)
    stream = next(s for s in streams if s["info"]["type"][0] == "VideoFrameIndex")
    return np.asarray(stream["time_series"], dtype=np.float64).ravel()  # (N,)


def _video_frames(path: Path) -> int:
    """Frames decoded from the video file (and its header's count must agree)."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"cannot open {path}"
    decoded = 0
    while capture.read()[0]:
        decoded += 1
    header = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    assert header == decoded, f"{path}: header says {header} frames, {decoded} decode"
    return decoded


def _assert_one_sample_per_frame(session: Path) -> None:
    """Frame i of ``video.avi`` ↔ exactly one frame-index sample of value i, at both ends."""
    values = _frame_index(session)
    frames = _video_frames(session / folder.VIDEO_NAME)
    assert frames > 0
    in_file = values[values >= 0]
    assert in_file.size == frames, f"{frames} frames in the video, {in_file.size} samples"
    np.testing.assert_array_equal(in_file, np.arange(frames))


@pytest.fixture(scope="module")
def sigterm_session(tmp_path_factory: pytest.TempPathFactory) -> Stopped:
    """A demo session stopped by SIGTERM to the app's whole process group (``timeout``)."""
    root = tmp_path_factory.mktemp("sigterm")
    return _run_and_signal(root, lambda p: os.killpg(p.pid, signal.SIGTERM), "--demo")


def test_signals__sigterm_to_the_group_stops_cleanly(
    sigterm_session: Stopped, caplog: pytest.LogCaptureFixture
) -> None:
    _assert_stopped_cleanly(sigterm_session, caplog)
    assert "signal SIGTERM: stopping cleanly" in sigterm_session.output


def test_signals__every_video_frame_has_its_frame_index_sample(sigterm_session: Stopped) -> None:
    _assert_one_sample_per_frame(sigterm_session.session)


def test_signals__two_sigints_half_a_second_apart_stop_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def send(process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)

    run = _run_and_signal(tmp_path, send, "--demo")
    _assert_stopped_cleanly(run, caplog)
    assert "signal SIGINT again: already stopping" in run.output
    _assert_one_sample_per_frame(run.session)


def test_signals__sighup_to_the_group_during_a_replay(
    sigterm_session: Stopped, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A closed terminal (SIGHUP to the group), then Ctrl+C ×3 fast, while replaying."""

    def send(process: subprocess.Popen[str]) -> None:
        os.killpg(process.pid, signal.SIGHUP)
        for _ in range(3):
            time.sleep(0.2)
            os.killpg(process.pid, signal.SIGINT)

    run = _run_and_signal(tmp_path, send, "--replay", str(sigterm_session.session))
    _assert_stopped_cleanly(run, caplog)
    assert "signal SIGHUP: stopping cleanly" in run.output


def test_signals__window_sigint_twice_then_sigterm_to_the_group(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The window (offscreen): Ctrl+C twice, then ``timeout``'s SIGTERM to the whole group."""

    def send(process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        os.killpg(process.pid, signal.SIGTERM)

    run = _run_and_signal(tmp_path, send, "--demo", window=True)
    _assert_stopped_cleanly(run, caplog)
    _assert_one_sample_per_frame(run.session)


def test_shutdown_signals__a_hung_stop_is_ended_at_the_deadline(tmp_path: Path) -> None:
    """The watchdog: a stop that never finishes ends at the deadline, after the emergency."""
    marker = tmp_path / "emergency-ran"
    script = (
        "import time\n"
        "from pathlib import Path\n"
        "from comodo_app.signals import ShutdownSignals\n"
        f"signals = ShutdownSignals(deadline_s=1.5, emergency=Path({str(marker)!r}).touch)\n"
        "signals.install()\n"
        "print('ready', flush=True)\n"
        "signals.wait(60.0)\n"
        "while True:\n"
        "    time.sleep(1.0)  # a stop that hangs\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGINT):
        os.killpg(process.pid, signum)
        time.sleep(0.1)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 128 + signal.SIGTERM, out
    assert 1.5 <= time.monotonic() - t0 < 5.0
    assert marker.is_file()
    assert "signal SIGTERM: stopping cleanly" in out and "SIGINT again" in out
    assert "forcing the exit" in out and "Traceback" not in out


def test_main__ctrl_c_before_a_session_exits_130_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from comodo_app import main as entry

    def interrupted(argv: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(entry.DISPATCH, "run", interrupted)
    assert entry.main(["run", "--demo"]) == 130
    assert "interrupted" in capsys.readouterr().err

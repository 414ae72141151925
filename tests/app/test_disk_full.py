"""A disk that fills up during a recorded session, through the real app on a real small tmpfs:
recording stops in words, learning goes on, checkpoints fail in words while the last good one
survives whole, the app exits on time, and the recorder child is gone."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import pyxdf

from comodo_live.learning.state import load_state
from comodo_live.session import folder

from .conftest import FAST

ROOT = Path(__file__).resolve().parents[2]
DURATION_S = 16.0
EXIT_WITHIN_S = 15.0  # after --duration
pytestmark = [pytest.mark.lsl, pytest.mark.slow, pytest.mark.timeout(150)]


def _recorder_pids(volume: Path) -> list[int]:
    """Every live recording engine writing under ``volume`` (whoever its parent is)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        ours = b"comodo_live.recording._engine" in cmdline and str(volume).encode() in cmdline
        if ours and state != "Z":  # a zombie has exited
            found.append(int(proc.name))
    return found


def _fill(volume: Path) -> int:
    """Write a file until the volume is full (ENOSPC); returns the bytes written."""
    written = 0
    with open(volume / "filler.bin", "wb", buffering=0) as handle:  # nothing left to flush
        try:
            while True:
                written += handle.write(bytes(1 << 16))
                handle.flush()
        except OSError:
            pass
    return written


class _Lines:
    """The app's merged output, line by line with the time each arrived."""

    def __init__(self, stream: object) -> None:
        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append((time.monotonic(), line))

    def first(self, prefix: str) -> tuple[float, str] | None:
        return next(((t, line) for t, line in list(self.lines) if line.startswith(prefix)), None)

    def text(self) -> str:
        self._thread.join(10)
        return "".join(line for _, line in self.lines)


def test_disk_full__recording_stops_in_words_and_the_app_exits_on_time(
    small_volume: Callable[[int], Path],
) -> None:
    volume = small_volume(16)
    sets = [f"--set={k}={v}" for k, v in FAST.items() if k != "source.mode"]
    command = [sys.executable, str(ROOT / "app.py"), "--headless", "--demo", "--root", str(volume)]
    command += ["--duration", str(DURATION_S), "--status-every", "1", *sets]
    command += ["--set", "trainer.checkpoint_every_s=1"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COMODO_RAISE": "0"},
        start_new_session=True,
    )
    try:
        output = _Lines(process.stdout)
        deadline = time.monotonic() + 60
        while output.first("session folder:") is None and time.monotonic() < deadline:
            assert process.poll() is None, output.text()
            time.sleep(0.1)
        started = output.first("session folder:")
        assert started is not None, output.text()
        session = Path(started[1].split(":", 1)[1].strip())
        checkpoint = folder.checkpoint_path(session)
        while not checkpoint.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert checkpoint.is_file(), "no first checkpoint"
        recorders = _recorder_pids(volume)
        assert len(recorders) == 1, recorders  # recording, in its own child process
        xdf = session / "session.xdf"
        while time.monotonic() - started[0] < 5.0 or xdf.stat().st_size < 10_000:
            assert time.monotonic() < deadline, "the recording does not grow"
            time.sleep(0.1)  # the first samples on disk (LabRecorder writes 8 kB blocks)
        good_step = load_state(checkpoint)["step"]
        filled_at = time.monotonic() - started[0]
        assert _fill(volume) > 0
        assert filled_at < DURATION_S - 4, "the disk must fill while the session runs"

        returncode = process.wait(timeout=DURATION_S + EXIT_WITHIN_S + 30)
        exit_after_s = time.monotonic() - started[0] - DURATION_S
        text = output.text()
        print(f"exit {exit_after_s:.1f} s after --duration; disk filled at {filled_at:.1f} s")
        assert exit_after_s <= EXIT_WITHIN_S, (exit_after_s, text)
        assert returncode == 0, text
        assert f"no space left on {session}" in text
        assert "recording stopped (learning and predictions go on)" in text
        assert f"checkpoint failed: no space left on {checkpoint.parent}" in text
        assert any(
            " | no space left on " in line for line in text.splitlines() if line.startswith("[")
        )
        assert "Traceback" not in text and "Logging error" not in text, text
        assert "enforce fail" not in text
        state = load_state(checkpoint)  # the last good checkpoint survived, whole
        assert state["step"] >= good_step
        assert sorted(p.name for p in checkpoint.parent.iterdir()) == [checkpoint.name]
        assert _recorder_pids(volume) == []  # the recorder child is gone, not orphaned
        streams, _ = pyxdf.load_xdf(str(xdf), dejitter_timestamps=False)
        imu = [s for s in streams if s["info"]["type"][0] == "IMU"]
        assert imu and len(imu[0]["time_stamps"]) > 0  # what was recorded before still loads
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        for pid in _recorder_pids(volume):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

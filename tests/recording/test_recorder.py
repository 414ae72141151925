from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest
import pyxdf

from comodo_live.recording.recorder import SessionRecorder, footer_count
from tests.recording.publishers import IMU_RATE
from tests.streams.lsl_helpers import imu_outlet, wait_for


class _LivePusher:
    """Pushes IMU samples at 100 Hz in real time (value = sample number) until stopped."""

    def __init__(self, outlet: pylsl.StreamOutlet) -> None:
        self.outlet = outlet
        self.count = 0
        self.stamps: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        t0 = pylsl.local_clock()
        while not self._stop.is_set():
            due = t0 + self.count / IMU_RATE
            if pylsl.local_clock() >= due:
                self.outlet.push_sample(np.full(6, self.count, np.float32), due)
                self.stamps.append(due)
                self.count += 1
            else:
                time.sleep(0.002)

    def __enter__(self) -> _LivePusher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_session_recorder__sigkill_leaves_a_loadable_file(tmp_path: Path, source_id: str) -> None:
    outlet = imu_outlet(source_id)
    path = tmp_path / "killed.xdf"
    recorder = SessionRecorder(path, [source_id]).start()
    with _LivePusher(outlet) as pusher:
        time.sleep(2.5)
        assert recorder.pid is not None
        os.kill(recorder.pid, signal.SIGKILL)
        pushed_before_kill = pusher.count
    assert not recorder.wait(timeout_s=5.0)  # not finalised ...
    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)  # ... but loadable
    values = streams[0]["time_series"][:, 0]
    np.testing.assert_array_equal(values, np.arange(values.size))  # a prefix, in order
    assert values.size >= pushed_before_kill - 1.5 * IMU_RATE  # lost at most ~1.5 s


def test_session_recorder__finalises_when_its_parent_dies(tmp_path: Path, source_id: str) -> None:
    outlet = imu_outlet(source_id)
    path = tmp_path / "orphan.xdf"
    script = textwrap.dedent(
        f"""
        import comodo_live, sys, time
        from pathlib import Path
        from comodo_live.recording.recorder import SessionRecorder
        recorder = SessionRecorder(Path({str(path)!r}), [{source_id!r}]).start()
        print(recorder.pid, flush=True)
        time.sleep(60)
        """
    )
    with _LivePusher(outlet):
        parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert parent.stdout is not None
        engine_pid = int(parent.stdout.readline())
        time.sleep(1.0)
        parent.kill()  # SIGKILL: no cleanup in the parent at all
        parent.wait()
        assert wait_for(lambda: path.exists() and footer_count(path) == 1, timeout_s=15.0)
    assert engine_pid > 0
    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    assert streams[0]["footer"]["info"]["sample_count"][0] == str(len(streams[0]["time_stamps"]))
    assert len(streams[0]["time_stamps"]) >= 100


def test_session_recorder__own_process_group_and_a_signal_to_it_still_finalises(
    tmp_path: Path, source_id: str
) -> None:
    outlet = imu_outlet(source_id)
    path = tmp_path / "signalled.xdf"
    recorder = SessionRecorder(path, [source_id]).start()
    with _LivePusher(outlet):
        assert recorder.pid is not None
        assert os.getpgid(recorder.pid) != os.getpgrp()  # the app's group signals miss it
        time.sleep(1.0)
        os.kill(recorder.pid, signal.SIGINT)  # sent to the engine itself: a stop, not a crash
        time.sleep(0.2)
        os.kill(recorder.pid, signal.SIGTERM)  # ignored while it finalises
        assert recorder.wait(timeout_s=15.0)  # footers on disk
    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    assert streams[0]["footer"]["info"]["sample_count"][0] == str(len(streams[0]["time_stamps"]))
    assert len(streams[0]["time_stamps"]) >= 50


def test_session_recorder__rejects_bad_arguments(tmp_path: Path, source_id: str) -> None:
    outlet = imu_outlet(source_id)
    with pytest.raises(ValueError, match=r"\.xdf"):
        SessionRecorder(tmp_path / "x.csv", [source_id])
    with pytest.raises(ValueError, match="nothing to record"):
        SessionRecorder(tmp_path / "x.xdf", [])
    with pytest.raises(ValueError, match="flush_s"):
        SessionRecorder(tmp_path / "x.xdf", [source_id], flush_s=-1)
    existing = tmp_path / "exists.xdf"
    existing.write_bytes(b"XDF:")
    with pytest.raises(FileExistsError, match="overwrite"):
        SessionRecorder(existing, [source_id]).start()
    del outlet

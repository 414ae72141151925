"""Bad IMU data (NaN/Inf, absurd values, a stuck sensor, another clock) is named in the
snapshot (status line, GUI) and in metrics.jsonl within 5 s; learning skips it; nothing crashes."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest

from comodo_live import imu_quality
from comodo_live.imu_quality import ImuQuality, sample_problems, window_problem
from comodo_live.session.controller import Controller
from drivers.sources import make_sources

from .conftest import fast_config

SI = [(f"Acc{a}", "m/s^2") for a in "XYZ"] + [(f"Gyro{a}", "rad/s") for a in "XYZ"]


def test_window_problem__names_each_kind() -> None:
    rng = np.random.default_rng(0)
    good = rng.normal(0, 1, (6, 50)).astype(np.float32)  # (6, N)
    assert window_problem(good) is None
    bad = good.copy()
    bad[2, 7] = np.nan
    assert window_problem(bad) == imu_quality.NON_FINITE
    bad[2, 7] = np.inf
    assert window_problem(bad) == imu_quality.NON_FINITE
    assert window_problem(good * 1e30) == imu_quality.OUT_OF_RANGE
    assert window_problem(np.full((6, 50), 9.81, np.float32)) == imu_quality.CONSTANT
    assert window_problem(np.zeros((6, 50), np.float32)) == imu_quality.CONSTANT


def test_sample_problems__future_timestamps_and_partly_bad() -> None:
    t = np.arange(100) / 50.0  # (N,)
    data = np.random.default_rng(1).normal(0, 1, (6, 100))
    assert sample_problems(t, data, now=2.0) == []
    assert sample_problems(t + 3600.0, data, now=2.0) == [imu_quality.FUTURE]
    data[:, :10] = np.nan
    assert sample_problems(t, data, now=2.0) == [imu_quality.NON_FINITE]


def test_imu_quality__warnings_hold_then_clear() -> None:
    quality = ImuQuality(hold_s=5.0)
    quality.observe([imu_quality.CONSTANT], now=10.0)
    assert quality.warnings(14.0) == (imu_quality.WARNINGS[imu_quality.CONSTANT],)
    assert quality.warnings(15.5) == ()


def test_imu_quality__worded_warnings_follow_the_named_ones_then_are_forgotten() -> None:
    quality = ImuQuality(hold_s=5.0)
    worded = "IMU lost: LSL stream 'X' (source_id='x') has 9 IMU channels, expected 6 (...)"
    quality.observe([worded, imu_quality.NON_FINITE], now=10.0)
    assert quality.warnings(12.0) == (imu_quality.WARNINGS[imu_quality.NON_FINITE], worded)
    quality.observe([], now=16.0)  # both expired: the worded one is dropped, not kept forever
    assert quality.warnings(16.0) == () and worded not in quality._last_seen


class _BadImu:
    """An LSL IMU (SI units) at 100 Hz whose samples come from ``sample(t)``; ``ahead_s``
    shifts its timestamps (another clock)."""

    def __init__(self, source_id: str, pattern: str) -> None:
        info = pylsl.StreamInfo("BadImu", "IMU", 6, 100.0, "float32", source_id)
        channels = info.desc().append_child("channels")
        for label, unit in SI:
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", unit)
        self.outlet = pylsl.StreamOutlet(info)
        self.pattern = pattern
        self._rng = np.random.default_rng(2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._push, name="test-bad-imu")

    def _chunk(self) -> np.ndarray:
        chunk = self._rng.normal(0, 0.5, (5, 6)).astype(np.float32)  # (5, 6)
        chunk[:, 2] += 9.81
        if self.pattern == "nan":
            chunk[:] = np.nan
        elif self.pattern == "inf":
            chunk[:, 0] = np.inf
        elif self.pattern == "huge":
            chunk *= 1e30
        elif self.pattern == "constant":
            chunk[:] = 0.0
        return chunk

    def _push(self) -> None:
        ahead = 3600.0 if self.pattern == "future" else 0.0
        while not self._stop.wait(0.05):
            self.outlet.push_chunk(self._chunk(), pylsl.local_clock() + ahead)

    def __enter__(self) -> _BadImu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.lsl
@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("nan", imu_quality.NON_FINITE),
        ("inf", imu_quality.NON_FINITE),
        ("huge", imu_quality.OUT_OF_RANGE),
        ("constant", imu_quality.CONSTANT),
        ("future", imu_quality.FUTURE),
    ],
)
def test_controller__bad_imu_is_named_within_5_s_and_not_learned(
    tmp_path: Path, source_id: str, pattern: str, problem: str
) -> None:
    config = fast_config(
        tmp_path,
        source__mode="live",
        imu__source=f"lsl:{source_id}",
        camera__source="",
        session__record=False,
    )
    warning = imu_quality.WARNINGS[problem]
    with _BadImu(source_id, pattern):
        ctl = Controller(config, sources_factory=make_sources)
        ctl.start()
        try:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 8.0 and warning not in ctl.snapshot().imu_warnings:
                time.sleep(0.1)
            seen_after = time.monotonic() - t0
            pipeline = ctl.pipeline
            assert pipeline is not None
            deadline = time.monotonic() + 15.0
            while time.monotonic() < deadline and pipeline.windows_seen < 3:
                time.sleep(0.1)
            time.sleep(1.5)  # one more metrics line
            seen, bad = pipeline.windows_seen, dict(pipeline.bad_windows)
            running = all(w.running for w in pipeline.workers)
        finally:
            ctl.stop()
    assert seen_after < 5.0, f"{warning!r} not shown within 5 s"
    assert running and not any("stopped" in e for e in ctl.errors), ctl.errors
    assert ctl.session_dir is not None
    lines = (ctl.session_dir / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert any(warning in r.get("imu_warnings", []) for r in records if r["type"] == "metrics")
    if seen and problem != imu_quality.FUTURE:  # every window let through was skipped
        assert sum(bad.values()) == seen and problem in bad, (seen, bad)

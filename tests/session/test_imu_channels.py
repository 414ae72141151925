"""A 3- or 9-channel IMU stream is refused at start in one named line; an IMU restarted with the
same source_id but other channels is named in the snapshot (GUI), the headless status line and
metrics.jsonl within 5 s, while the session runs on and learns nothing from it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest

from comodo_app.cli import status_line
from comodo_live.session.controller import Controller
from comodo_live.units import ChannelError
from drivers.sources import make_sources

from .conftest import fast_config, wait_for
from .lsl_clock import push_on_a_regular_clock

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(90)]
ROOT = Path(__file__).resolve().parents[2]
LABELS = [f"Acc{a}" for a in "XYZ"] + [f"Gyro{a}" for a in "XYZ"] + [f"Mag{a}" for a in "XYZ"]
UNITS = ["m/s^2"] * 3 + ["rad/s"] * 3 + ["uT"] * 3
EXPECTED = (
    "expected 6 (accel xyz + gyro xyz) or a split accelerometer + gyroscope pair "
    "(imu.source = 'lsl:ACC_ID+GYRO_ID')"
)


class _Imu:
    """An LSL IMU of ``channels`` channels (labels and units described) pushing a moving
    signal at 100 Hz."""

    def __init__(self, source_id: str, channels: int) -> None:
        info = pylsl.StreamInfo("WrongImu", "IMU", channels, 100.0, "float32", source_id)
        described = info.desc().append_child("channels")
        for label, unit in zip(LABELS[:channels], UNITS[:channels], strict=True):
            channel = described.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", unit)
        self.outlet: pylsl.StreamOutlet | None = pylsl.StreamOutlet(info)
        self.channels = channels
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._push, name="test-wrong-imu")

    def _push(self) -> None:
        rng = np.random.default_rng(3)

        def push(stamps: np.ndarray) -> None:
            if self.outlet is not None:
                chunk = rng.normal(0, 0.5, (len(stamps), self.channels)).astype(np.float32)
                chunk[:, 2] += 9.81
                self.outlet.push_chunk(chunk, stamps.tolist())

        push_on_a_regular_clock(self._stop, 100.0, push)

    def __enter__(self) -> _Imu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.outlet = None  # the stream leaves LSL


def _config(tmp_path: Path, source_id: str):  # -> AppConfig
    return fast_config(
        tmp_path,
        source__mode="live",
        imu__source=f"lsl:{source_id}",
        camera__source="",
        session__record=False,
    )


@pytest.mark.parametrize("channels", [3, 9])
def test_controller__wrong_channel_count_refused_at_start_naming_the_stream(
    tmp_path: Path, source_id: str, channels: int
) -> None:
    with _Imu(source_id, channels):
        ctl = Controller(_config(tmp_path, source_id), sources_factory=make_sources)
        with pytest.raises(ChannelError) as caught:
            ctl.start()
    assert str(caught.value) == (
        f"LSL stream 'WrongImu' (source_id='{source_id}') has {channels} IMU channels, {EXPECTED}"
    )
    assert not ctl.running
    root = tmp_path / "recordings"
    assert not root.exists() or not any(root.iterdir())  # no session folder left behind


def test_headless__nine_channel_imu_exit_2_one_line(tmp_path: Path, source_id: str) -> None:
    command = [
        sys.executable, str(ROOT / "app.py"), "--headless", "--root", str(tmp_path / "rec"),
        "--set", f"imu.source=lsl:{source_id}", "--set", "camera.source=", "--duration", "5",
    ]  # fmt: skip
    with _Imu(source_id, 9):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    # the app's own lines (liblsl may log to stderr too, e.g. in a network namespace)
    lines = [
        line
        for line in result.stderr.strip().splitlines()
        if line.strip() and not re.match(r"\d{4}-\d\d-\d\d [\d:.]+ \(", line)
    ]
    assert lines == [
        f"error: LSL stream 'WrongImu' (source_id='{source_id}') has 9 IMU channels, {EXPECTED}"
    ]
    assert not (tmp_path / "rec").exists() or not any((tmp_path / "rec").iterdir())


def test_controller__imu_restarted_with_other_channels_is_named_within_5_s(
    tmp_path: Path, source_id: str
) -> None:
    ctl = Controller(_config(tmp_path, source_id), sources_factory=make_sources)
    try:
        with _Imu(source_id, 6):
            ctl.start()
            pipeline = ctl.pipeline
            assert pipeline is not None
            assert wait_for(lambda: pipeline.windows_seen >= 2, timeout_s=15.0)
        with _Imu(source_id, 9):  # the IMU app restarted under the same id, now with 9 channels
            restarted = time.monotonic()

            def named() -> bool:
                return any("has 9 IMU channels" in w for w in ctl.snapshot().imu_warnings)

            assert wait_for(named, timeout_s=10.0)
            named_after = time.monotonic() - restarted
            snap = ctl.snapshot()
            windows_then = pipeline.windows_seen
            time.sleep(1.2)  # metrics lines every 0.5 s
            running = all(worker.running for worker in pipeline.workers)
            windows_later = pipeline.windows_seen
    finally:
        ctl.stop()
    (warning,) = [w for w in snap.imu_warnings if "IMU channels" in w]
    assert warning == (
        f"IMU lost: LSL stream 'WrongImu' (source_id='{source_id}') has 9 IMU channels, "
        f"{EXPECTED} (it came back with other channels; restart the session to read it)"
    )
    assert named_after < 5.0, f"named after {named_after:.1f} s"
    assert warning in status_line(1.0, snap)
    assert running and windows_later == windows_then  # runs on, nothing read from the 9 channels
    assert not any("stopped" in error for error in ctl.errors), ctl.errors
    assert ctl.session_dir is not None
    records = [json.loads(line) for line in (ctl.session_dir / "metrics.jsonl").open()]
    assert any(warning in r.get("imu_warnings", []) for r in records if r["type"] == "metrics")

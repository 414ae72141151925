"""An IMU stream that comes back on LSL with other channels is named, not a silent stall."""

from __future__ import annotations

import time
import types
from typing import Any

import numpy as np
import pylsl
import pytest

from comodo_live.streams.imu_watch import ImuChannelWatch
from comodo_live.streams.reader import StreamReader
from comodo_live.streams.resolve import resolve_stream

from .lsl_helpers import imu_outlet, wait_for

EXPECTED_6 = "expected 6 (accel xyz + gyro xyz) or a split accelerometer + gyroscope pair"


class _Info:
    def __init__(self, source_id: str, channels: int) -> None:
        self._source_id, self._channels = source_id, channels

    def channel_count(self) -> int:
        return self._channels

    def name(self) -> str:
        return "Imu"

    def source_id(self) -> str:
        return self._source_id


class _Reader:
    """What the watch reads of a StreamReader: its health, source_id and channel count."""

    def __init__(self, source_id: str, channels: int = 6) -> None:
        self.channel_count = channels
        self.description = types.SimpleNamespace(source_id=source_id)
        self.seconds_since_data = 0.0

    def health(self) -> Any:
        return types.SimpleNamespace(seconds_since_data=self.seconds_since_data)


class _Resolvers:
    """Fake ContinuousResolver factory: ``offered[source_id]`` lists the channel counts on LSL."""

    def __init__(self) -> None:
        self.offered: dict[str, list[int]] = {}
        self.made: list[str] = []

    def __call__(self, source_id: str) -> Any:
        self.made.append(source_id)
        offered = self.offered
        return types.SimpleNamespace(
            results=lambda: [_Info(source_id, n) for n in offered.get(source_id, [])]
        )


def test_imu_watch__names_a_stream_back_with_other_channels() -> None:
    reader, resolvers = _Reader("imu-1"), _Resolvers()
    watch = ImuChannelWatch({"imu": reader}, stale_s=2.0, resolver=resolvers)  # type: ignore[dict-item]
    resolvers.offered["imu-1"] = [9]
    assert watch.check() == [] and resolvers.made == []  # data flows: nothing is looked up
    reader.seconds_since_data = 2.5
    (warning,) = watch.check()
    assert warning.startswith("IMU lost: LSL stream 'Imu' (source_id='imu-1') has 9 IMU channels")
    assert EXPECTED_6 in warning and "restart the session" in warning
    resolvers.offered["imu-1"] = [6]  # back with its own channels: liblsl reconnects
    assert watch.check() == []
    resolvers.offered["imu-1"] = []  # gone: the stream status says "missing", not this watch
    assert watch.check() == []
    reader.seconds_since_data = 0.1
    assert watch.check() == [] and resolvers.made == ["imu-1"]  # one resolver while stale
    watch.close()


def test_imu_watch__split_pair_names_the_half_that_changed() -> None:
    accel, gyro, resolvers = _Reader("acc", 3), _Reader("gyro", 3), _Resolvers()
    readers: Any = {"imu-accel": accel, "imu-gyro": gyro}
    watch = ImuChannelWatch(readers, resolver=resolvers)
    accel.seconds_since_data = gyro.seconds_since_data = 10.0
    resolvers.offered = {"acc": [3], "gyro": [6]}
    assert watch.check() == [
        "IMU lost: LSL stream 'Imu' (source_id='gyro') has 6 IMU channels, expected 3 "
        "(gyro_x, gyro_y, gyro_z) as the gyroscope of an ACC_ID+GYRO_ID pair (it came back "
        "with other channels; restart the session to read it)"
    ]


def test_imu_watch__arguments_checked() -> None:
    with pytest.raises(ValueError, match="stale_s must be > 0 seconds, got 0"):
        ImuChannelWatch({}, stale_s=0)
    with pytest.raises(ValueError, match=r"readers roles must be in .*got \['camera'\]"):
        ImuChannelWatch({"camera": _Reader("c")})  # type: ignore[dict-item]


@pytest.mark.lsl
@pytest.mark.parametrize("channels", [3, 9])
def test_imu_watch__real_stream_restarted_with_other_channels(
    source_id: str, channels: int
) -> None:
    outlet = imu_outlet(source_id)
    reader = StreamReader(resolve_stream(source_id=source_id, timeout_s=5.0)).start()
    try:
        watch = ImuChannelWatch({"imu": reader}, stale_s=1.0)
        start = pylsl.local_clock()
        for i in range(20):  # 0.2 s of data
            outlet.push_sample(np.zeros(6, np.float32), start + i / 100.0)
        assert wait_for(lambda: reader.health().samples >= 20)
        del outlet  # the IMU app stops ...
        time.sleep(0.3)
        info = pylsl.StreamInfo("TestIMU", "IMU", channels, 100.0, "float32", source_id)
        other = pylsl.StreamOutlet(info)  # ... and comes back with other channels
        restarted = time.monotonic()
        found: list[str] = []
        assert wait_for(lambda: bool(found.extend(watch.check()) or found), timeout_s=8.0)
        named_after = time.monotonic() - restarted
        watch.close()
        del other
    finally:
        reader.stop()
    assert f"(source_id='{source_id}') has {channels} IMU channels, {EXPECTED_6}" in found[0]
    assert named_after < 5.0, f"named after {named_after:.1f} s"

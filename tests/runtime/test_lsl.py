"""LslImuSource: channel order and units from the stream's metadata, unique source_id."""

from __future__ import annotations

import time

import numpy as np
import pytest

from comodo_live.records import DEG_TO_RAD, G_TO_MS2, IMU_CHANNELS
from comodo_live.runtime.lsl import LslImuSource
from comodo_live.runtime.signal import ChannelError

pytestmark = pytest.mark.lsl


def _outlet(source_id: str, labels: list[tuple[str, str]]):  # -> pylsl.StreamOutlet
    import pylsl

    info = pylsl.StreamInfo("test-imu", "IMU", len(labels), 100.0, pylsl.cf_float32, source_id)
    channels = info.desc().append_child("channels")
    for label, unit in labels:
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("unit", unit)
    return pylsl.StreamOutlet(info)


def test_lsl_imu_source__reorders_and_converts_units(source_id: str) -> None:
    import pylsl

    labels = [(f"Gyro{a.upper()}", "deg/s") for a in "xyz"] + [
        (f"Acc{a.upper()}", "g") for a in "xyz"
    ]
    outlet = _outlet(source_id, labels)
    raw = np.arange(60, dtype=np.float32).reshape(10, 6)  # gyro xyz (deg/s) then accel xyz (g)
    with LslImuSource(IMU_CHANNELS, "IMU", source_id, resolve_timeout_s=5.0) as source:
        time.sleep(0.2)
        outlet.push_chunk(raw, timestamp=pylsl.local_clock())
        times, samples = np.empty(0), np.empty((0, 6))
        deadline = time.monotonic() + 5.0
        while len(times) < 10 and time.monotonic() < deadline:
            t, x = source.read(timeout_s=0.2)
            times, samples = np.concatenate([times, t]), np.concatenate([samples, x])
    assert samples.shape == (10, 6)
    np.testing.assert_allclose(samples[:, :3], raw[:, 3:] * G_TO_MS2, rtol=1e-6)
    np.testing.assert_allclose(samples[:, 3:], raw[:, :3] * DEG_TO_RAD, rtol=1e-6)
    np.testing.assert_allclose(np.diff(times), 0.01, atol=1e-6)
    del outlet


def test_lsl_imu_source__unknown_unit_and_missing_stream_refused(source_id: str) -> None:
    outlet = _outlet(source_id, [(c, "furlong/s") for c in IMU_CHANNELS])
    with pytest.raises(ChannelError, match=rf"source_id='{source_id}'.*unit 'furlong/s'"):
        LslImuSource(IMU_CHANNELS, "IMU", source_id, resolve_timeout_s=5.0)
    del outlet
    with pytest.raises(LookupError, match="no LSL stream with type='IMU', source_id='nobody-"):
        LslImuSource(IMU_CHANNELS, "IMU", "nobody-" + source_id, resolve_timeout_s=0.5)

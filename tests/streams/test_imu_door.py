"""open_imu: one stream with its units, or accelerometer + gyroscope streams joined."""

from __future__ import annotations

import numpy as np
import pylsl
import pytest

from comodo_live.records import DEG_TO_RAD, G_TO_MS2
from comodo_live.streams.imu_door import JoinedImuReader, open_imu
from comodo_live.streams.windowing import Windower
from comodo_live.units import UnitError
from tests.streams.lsl_helpers import push_stamped, wait_for

pytestmark = pytest.mark.lsl


def _outlet(source_id: str, kind: str, rate_hz: float, unit: str) -> pylsl.StreamOutlet:
    """A muselsl-style 3-channel stream: labels X, Y, Z, one unit."""
    info = pylsl.StreamInfo(kind, kind, 3, rate_hz, "float32", source_id)
    channels = info.desc().append_child("channels")
    for axis in "XYZ":
        channel = channels.append_child("channel")
        channel.append_child_value("label", axis)
        channel.append_child_value("unit", unit)
    return pylsl.StreamOutlet(info)


def _motion(t: np.ndarray) -> np.ndarray:
    """(M, 6) smooth motion, m/s² and rad/s."""
    w = 2 * np.pi * t
    return np.stack(
        [np.sin(w), 9.81 + np.cos(0.5 * w), 0.2 * t, np.cos(0.3 * w), np.sin(0.8 * w), 0 * t], 1
    )


def test_open_imu__acc_and_gyro_streams_join_on_the_common_clock(source_id: str) -> None:
    base = pylsl.local_clock() - 12.0
    accel_t = base + np.arange(520) / 52.0  # 10 s at 52 Hz, in g
    gyro_t = base + 0.003 + np.arange(1040) / 104.0  # 10 s at 104 Hz, in deg/s, offset
    accel_out = _outlet(f"{source_id}-acc", "ACC", 52.0, "g")
    gyro_out = _outlet(f"{source_id}-gyro", "GYRO", 104.0, "dps")
    door = open_imu(f"{source_id}-acc + {source_id}-gyro", timeout_s=5.0)
    try:
        assert isinstance(door.reader, JoinedImuReader) and door.channel_map is None
        assert door.units == ("g",) * 3 + ("dps",) * 3
        assert set(door.readers) == {"imu-accel", "imu-gyro"}
        push_stamped(accel_out, accel_t, (_motion(accel_t - base)[:, :3] / G_TO_MS2))
        push_stamped(gyro_out, gyro_t, (_motion(gyro_t - base)[:, 3:] / DEG_TO_RAD))
        readers = door.readers.values()
        assert wait_for(lambda: sum(r.health().samples for r in readers) == 1560, 10.0)
        ts, values, _ = door.reader.between(-np.inf, np.inf)
        windower = Windower(door.reader, 2.0, 0.5, 50.0, max_windows_per_poll=100)
        windows = windower.poll()
    finally:
        for reader in door.readers.values():
            reader.stop()
        del accel_out, gyro_out
    offset = door.readers["imu-gyro"].time_offset_s
    assert len(ts) >= 510 and np.all(np.diff(ts) > 0)  # the faster gyro's times, both covered
    np.testing.assert_allclose(values, _motion(ts - offset - base), atol=2e-3)
    assert len(windows) >= 14
    for window in windows:
        grid = np.linspace(window.imu.t_start, window.imu.t_end, 100) - offset - base
        np.testing.assert_allclose(window.imu.data, _motion(grid).T, atol=0.02)


def test_open_imu__wrong_kind_and_bad_ids_refused(source_id: str) -> None:
    gyro_out = _outlet(f"{source_id}-gyro", "GYRO", 52.0, "dps")
    accel_out = _outlet(f"{source_id}-acc", "ACC", 52.0, "g")
    with pytest.raises(UnitError, match=rf"source_id='{source_id}-gyro'.*not an acceleration"):
        open_imu(f"{source_id}-gyro+{source_id}-acc", timeout_s=5.0)  # gyro named first
    with pytest.raises(ValueError, match="'ID' or 'ACC_ID\\+GYRO_ID'"):
        open_imu("a+b+c")
    del gyro_out, accel_out

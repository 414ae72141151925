"""read_imu_csv: documented columns, unit conversion, unitless columns and wrong counts refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from comodo_live.records import DEG_TO_RAD, IMU_CHANNELS
from comodo_live.runtime.csvfile import read_imu_csv
from comodo_live.runtime.signal import ChannelError, UnitError
from tests.conftest import requires_shared
from tests.export.factory import activity_signal, write_csv


def test_read_imu_csv__g_and_deg_s_are_converted(tmp_path: Path) -> None:
    samples = activity_signal("wave", 3.0, 100.0)
    times = np.arange(len(samples)) / 100.0
    contract = read_imu_csv(write_csv(tmp_path / "a.csv", times, samples), IMU_CHANNELS)
    other = read_imu_csv(write_csv(tmp_path / "b.csv", times, samples, "g", "deg_s"), IMU_CHANNELS)
    np.testing.assert_allclose(contract[1], samples, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(other[1], samples, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(other[0], times)


def test_read_imu_csv__any_column_order_extra_columns_units_required(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "gyro_z,temperature,accel_x [g],time_ms,accel_y,accel_z,gyro_x,gyro_y\n"
        "0.5,21.0,1.0,10,0.1,0.2,0.3,0.4\n0.6,21.0,0.5,20,0.1,0.2,0.3,0.4\n"
    )
    with pytest.raises(UnitError, match=r"column 'accel_y' of c.csv \(accel_y\) has no unit"):
        read_imu_csv(path, IMU_CHANNELS)  # never silently taken for m/s² and rad/s
    times, samples = read_imu_csv(path, IMU_CHANNELS, units="m/s^2,rad/s")
    np.testing.assert_allclose(times, [0.01, 0.02])
    np.testing.assert_allclose(samples[0], [9.80665, 0.1, 0.2, 0.3, 0.4, 0.5])


def test_read_imu_csv__headerless_needs_units_and_a_time_column_or_rate(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    np.savetxt(path, np.ones((5, 6)), delimiter=",")
    with pytest.raises(ValueError, match=r"no time column.*rate_hz"):
        read_imu_csv(path, IMU_CHANNELS, units="m/s^2,rad/s")
    with pytest.raises(UnitError, match="no header, so its units are unknown"):
        read_imu_csv(path, IMU_CHANNELS, rate_hz=50.0)
    times, samples = read_imu_csv(path, IMU_CHANNELS, rate_hz=50.0, units="m/s^2,rad/s")
    np.testing.assert_allclose(times, np.arange(5) / 50.0)
    assert samples.shape == (5, 6)


def test_read_imu_csv__wrong_channel_count_names_expected_and_found(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("time_s,accel_x,accel_y,accel_z\n0,1,2,3\n0.01,1,2,3\n")
    with pytest.raises(
        ChannelError, match=r"has 3 IMU channels \(accel_x, accel_y, accel_z\), expected 6"
    ):
        read_imu_csv(path, IMU_CHANNELS)
    headerless = tmp_path / "f.csv"
    np.savetxt(headerless, np.ones((3, 4)), delimiter=",")
    with pytest.raises(ChannelError, match="has 4 columns, expected 6 IMU channels"):
        read_imu_csv(headerless, IMU_CHANNELS)


@requires_shared
def test_read_imu_csv__real_gopro_file(shared_data: Path) -> None:
    times, samples = read_imu_csv(shared_data / "video_imu" / "gopro_walk_imu.csv", IMU_CHANNELS)
    assert samples.shape == (2082, 6) and times[0] == 0.0 and 10.0 < times[-1] < 11.0
    assert samples[0, 3] == pytest.approx(-12.752735 * DEG_TO_RAD)  # deg/s → rad/s
    assert samples[0, 0] == pytest.approx(8.616307)  # already m/s²

"""The one IMU CSV reader: units from column names, refusals that name the column, times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from comodo_live.imu_csv import parse_units, read_imu_csv
from comodo_live.records import DEG_TO_RAD, G_TO_MS2
from comodo_live.units import ChannelError, UnitError


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_read_imu_csv__units_from_column_names_any_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "a.csv",
        "gyro_z_dps,temperature,accel_x [g],time_ms,ay_mg,accel_z_m_s2,gyro_x_rad_s,GyroY (deg/s)\n"
        "0.5,21.0,1.0,10,1000,0.2,0.3,0.4\n0.6,21.0,0.5,20,0,0.2,0.3,0.4\n",
    )
    table = read_imu_csv(path)
    np.testing.assert_allclose(table.times, [0.01, 0.02])
    expected = [G_TO_MS2, G_TO_MS2, 0.2, 0.3, 0.4 * DEG_TO_RAD, 0.5 * DEG_TO_RAD]
    np.testing.assert_allclose(table.samples[0], expected)
    assert table.columns[0] == "accel_x [g]" and table.units[5] == "dps" and table.timed


def test_read_imu_csv__column_without_unit_refused_naming_it(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "b.csv",
        "time_s,accel_x_g,accel_y_g,accel_z_g,gyro_x,gyro_y_dps,gyro_z_dps\n"
        "0,1,1,1,1,1,1\n0.01,1,1,1,1,1,1\n",
    )
    with pytest.raises(UnitError, match=r"column 'gyro_x' of b.csv \(gyro_x\) has no unit.*dps"):
        read_imu_csv(path)
    table = read_imu_csv(path, units="g,deg/s")  # stated units fill the gap
    np.testing.assert_allclose(table.samples[0, 3], DEG_TO_RAD)
    table = read_imu_csv(path, units="m/s^2,rad/s")  # a column's own unit wins
    np.testing.assert_allclose(table.samples[0], [G_TO_MS2] * 3 + [1.0] + [DEG_TO_RAD] * 2)


def test_read_imu_csv__wrong_kind_unknown_and_duplicate_columns_refused(tmp_path: Path) -> None:
    head = "time_s,accel_x_g,accel_y_g,accel_z_g,gyro_x_dps,gyro_y_dps"
    rows = "\n0,1,1,1,1,1,1\n0.01,1,1,1,1,1,1\n"
    with pytest.raises(UnitError, match=r"unit 'g' of column 'gyro_z_g' .*not a rotation-rate"):
        read_imu_csv(_write(tmp_path / "c.csv", head + ",gyro_z_g" + rows))
    with pytest.raises(UnitError, match=r"unit 'rpm' of column 'gyro_z_rpm'.*unknown"):
        read_imu_csv(_write(tmp_path / "d.csv", head + ",gyro_z_rpm" + rows))
    with pytest.raises(ChannelError, match="two columns for accel_x: 'accel_x_g' and 'ax_m_s2'"):
        read_imu_csv(_write(tmp_path / "e.csv", head + ",ax_m_s2,gyro_z_dps\n0,1,1,1,1,1,1,1"))


def test_read_imu_csv__headerless_needs_units_and_time_or_rate(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    np.savetxt(path, np.ones((5, 6)), delimiter=",")
    with pytest.raises(UnitError, match=r"f.csv has no header, so its units are unknown"):
        read_imu_csv(path, rate_hz=50.0)
    with pytest.raises(ValueError, match=r"no time column.*rate_hz"):
        read_imu_csv(path, units="g,dps")
    table = read_imu_csv(path, rate_hz=50.0, units="g,dps")
    np.testing.assert_allclose(table.times, np.arange(5) / 50.0)
    np.testing.assert_allclose(table.samples[0], [G_TO_MS2] * 3 + [DEG_TO_RAD] * 3)
    assert not table.timed


def test_read_imu_csv__times_must_increase(tmp_path: Path) -> None:
    head = "time_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps\n"
    path = _write(tmp_path / "g.csv", head + "0,1,1,1,1,1,1\n0.02,1,1,1,1,1,1\n0.01,1,1,1,1,1,1\n")
    with pytest.raises(ValueError, match=r"strictly increasing; line 4 has 0.01 after 0.02"):
        read_imu_csv(path)


def test_parse_units__validates_both() -> None:
    assert parse_units(" g , deg/s ") == ("g", "deg/s")
    with pytest.raises(UnitError, match="must be '<accel>,<gyro>'"):
        parse_units("g")
    with pytest.raises(UnitError, match="gyro unit in units='g,rpm'"):
        parse_units("g,rpm")

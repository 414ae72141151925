"""drivers.imu_sources: unit conversion, line formats, serial (pty), UDP (loopback), CSV timing."""

from __future__ import annotations

import json
import os
import socket
import time

import numpy as np
import pylsl
import pytest

import comodo_live  # noqa: F401
from comodo_live.records import DEG_TO_RAD, G_TO_MS2
from drivers.imu import ImuDriver
from drivers.imu_sources import (
    CsvImuSource,
    ImuUnits,
    SerialImuSource,
    UdpImuSource,
    parse_imu_line,
)
from tests.conftest import requires_shared
from tests.drivers.conftest import pull_for


def test_imu_units__converts_g_and_deg_per_s():
    raw = np.array([[1.0, -0.5, 0.0, 90.0, -180.0, 0.0]])
    si = ImuUnits("g", "deg/s").to_si(raw)
    assert si.dtype == np.float32
    np.testing.assert_allclose(si[0, :3], [G_TO_MS2, -0.5 * G_TO_MS2, 0.0], rtol=1e-6)
    np.testing.assert_allclose(si[0, 3:], [np.pi / 2, -np.pi, 0.0], rtol=1e-6)
    np.testing.assert_allclose(ImuUnits().to_si(raw), raw.astype(np.float32))


def test_imu_units__the_shared_table_rejects_unknown_units_naming_them():
    with pytest.raises(ValueError, match=r"unit 'furlong' of the accelerometer .* unknown"):
        ImuUnits("furlong", "rad/s")
    with pytest.raises(ValueError, match=r"gyro unit in units='g,rpm'.*accepted"):
        ImuUnits.parse("g,rpm")
    assert ImuUnits.parse("g, deg/s") == ImuUnits("g", "deg/s") == ImuUnits("G", "dps")
    np.testing.assert_allclose(
        ImuUnits("mg", "rad/s").to_si(np.full((1, 6), 1000.0))[0, 0], G_TO_MS2
    )


def test_parse_imu_line__accepted_formats():
    six = [0.1, 0.2, 9.8, 0.01, 0.02, 0.03]
    np.testing.assert_allclose(parse_imu_line("0.1,0.2,9.8,0.01,0.02,0.03"), six)
    np.testing.assert_allclose(parse_imu_line("1234 0.1 0.2 9.8 0.01 0.02 0.03"), six)
    np.testing.assert_allclose(parse_imu_line("0.1;0.2;9.8;0.01;0.02;0.03\r"), six)
    sensorstream = "5.123, 3, 0.1, 0.2, 9.8, 4, 0.01, 0.02, 0.03, 5, 20.0, -3.0, 40.0"
    np.testing.assert_allclose(parse_imu_line(sensorstream), six)
    np.testing.assert_allclose(parse_imu_line(json.dumps({"accel": six[:3], "gyro": six[3:]})), six)
    keys = dict(zip(("ax", "ay", "az", "gx", "gy", "gz"), six, strict=True))
    np.testing.assert_allclose(parse_imu_line(json.dumps(keys)), six)
    for junk in (
        "",
        "# header",
        "MPU6050 ready",
        "ax,ay,az,gx,gy,gz",
        "1,2,3",
        "1,2,3,4,5,nan",
        "{bad json",
    ):
        assert parse_imu_line(junk) is None, junk


def test_serial_source__pty_lines_in_g_and_deg_s_arrive_in_si(source_id, open_inlet):
    master, slave = os.openpty()
    source = SerialImuSource(os.ttyname(slave), 115200, ImuUnits("g", "deg/s"), rate_hz=100.0)
    try:
        with ImuDriver(source, source_id, "SerialIMU") as driver:
            inlet = open_inlet(source_id)
            os.write(master, b"IMU booting...\r\n")
            for i in range(20):
                os.write(master, f"{i},0.5,-1.0,0.0,90.0,-45.0\r\n".encode())
                time.sleep(0.005)
            os.write(master, b"1.0,2.0")  # a partial line: held until its newline arrives
            values, stamps = pull_for(inlet, 3.0, min_samples=20)
            assert driver.error is None
        assert source.lines_skipped == 1
    finally:
        os.close(master)
        os.close(slave)
    assert values.shape == (20, 6)
    np.testing.assert_allclose(values[:, 0], np.arange(20) * G_TO_MS2, rtol=1e-5)
    np.testing.assert_allclose(
        values[0, 1:],
        [0.5 * G_TO_MS2, -G_TO_MS2, 0, 90 * DEG_TO_RAD, -45 * DEG_TO_RAD],
        rtol=1e-5,
        atol=1e-6,
    )
    assert np.all(np.diff(stamps) > 0)
    assert abs(stamps[-1] - pylsl.local_clock()) < 3.0


def test_udp_source__loopback_datagrams_with_several_formats(source_id, open_inlet):
    source = UdpImuSource("127.0.0.1", 0, rate_hz=50.0)
    with ImuDriver(source, source_id, "UdpIMU") as driver:
        inlet = open_inlet(source_id)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        lines = [
            "1,0,0,9.8,0,0,0.1",
            "2.5, 3, 0.1, 0.2, 9.7, 4, 0.01, 0.02, 0.03",
            json.dumps({"accel": [0, 9.81, 0], "gyro": [1, 2, 3]}),
        ]
        sender.sendto("\n".join(lines[:2]).encode(), ("127.0.0.1", source.port))
        sender.sendto(lines[2].encode(), ("127.0.0.1", source.port))
        sender.sendto(b"not imu data", ("127.0.0.1", source.port))
        sender.close()
        values, stamps = pull_for(inlet, 3.0, min_samples=3)
        assert driver.error is None
    assert values.shape == (3, 6)
    np.testing.assert_allclose(values[0], [0, 0, 9.8, 0, 0, 0.1], rtol=1e-6)
    np.testing.assert_allclose(values[1], [0.1, 0.2, 9.7, 0.01, 0.02, 0.03], rtol=1e-6)
    np.testing.assert_allclose(values[2], [0, 9.81, 0, 1, 2, 3], rtol=1e-6)
    assert stamps[1] - stamps[0] == pytest.approx(0.02, abs=1e-6)  # same datagram: spread by 1/rate
    assert source.lines_skipped == 1


def _write_csv(path, times, data, header="time_s,ax_g,ay_g,az_g,gx_deg_s,gy_deg_s,gz_deg_s"):
    rows = [header] + [
        ",".join(f"{v:.6f}" for v in (t, *d)) for t, d in zip(times, data, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")


def test_csv_source__preserves_relative_timing_and_converts_units(tmp_path, source_id, open_inlet):
    rng = np.random.default_rng(0)
    times = 100.0 + np.cumsum(rng.uniform(0.004, 0.016, 60))  # jittered ~100 Hz, arbitrary origin
    times[30:] += 0.2  # a gap
    data = rng.normal(size=(60, 6))
    path = tmp_path / "imu.csv"
    _write_csv(path, times, data)
    source = CsvImuSource(path, loop=False, t0=pylsl.local_clock() + 1.5)  # time to subscribe
    assert source.units == ImuUnits("g", "deg/s")
    with ImuDriver(source, source_id, "CsvIMU") as driver:
        inlet = open_inlet(source_id)
        values, stamps = pull_for(inlet, 4.0, min_samples=60)
        deadline = time.monotonic() + 2
        while driver.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert driver.ended and not driver.running
    assert len(stamps) == 60
    np.testing.assert_allclose(np.diff(stamps), np.diff(times), atol=2e-6)
    np.testing.assert_allclose(values, ImuUnits("g", "deg/s").to_si(data), rtol=1e-4, atol=1e-5)


def test_csv_source__validates_columns_and_values(tmp_path):
    path = tmp_path / "bad.csv"
    _write_csv(path, [0.0, 0.01], np.zeros((2, 6)))
    with pytest.raises(ValueError, match="time_column 't' is not in"):
        CsvImuSource(path, time_column="t")
    with pytest.raises(ValueError, match="columns must name 6 columns"):
        CsvImuSource(path, columns=["ax_g", "nope", "az_g", "gx_deg_s", "gy_deg_s", "gz_deg_s"])
    path.write_text("time_s,a,b,c,d,e,f\n0,1,2,3,4,5,6\n0.01,1,2,nan,4,5,6\n")
    with pytest.raises(ValueError, match="non-finite value on line 3"):
        CsvImuSource(path, units=ImuUnits())
    with pytest.raises(ValueError, match=r"column 'a' of bad.csv \(accel_x\) has no unit"):
        CsvImuSource(path)  # never taken for m/s² and rad/s because it says nothing


def test_csv_source__loops_with_continuing_timestamps(tmp_path):
    path = tmp_path / "imu.csv"
    _write_csv(path, [0.0, 0.01, 0.02], np.zeros((3, 6)))
    source = CsvImuSource(path, t0=pylsl.local_clock() - 0.1)
    source.open()
    chunk = source.read(0.1)
    assert chunk is not None
    stamps = chunk.timestamps
    np.testing.assert_allclose(np.diff(stamps), 0.01, atol=1e-9)  # period = 0.02 + median 0.01
    assert len(stamps) >= 9


@requires_shared
def test_csv_source__gopro_walk_imu(shared_data):
    source = CsvImuSource(shared_data / "video_imu" / "gopro_walk_imu.csv")
    assert source.units == ImuUnits("m/s^2", "deg/s")
    assert 190 < source.rate_hz < 205
    assert source.data.shape == (2082, 6)
    gravity = np.linalg.norm(source.data[:, :3].mean(0))
    assert 8.0 < gravity < 11.5  # m/s², so accel was not rescaled
    assert np.abs(source.data[:, 3:]).max() < 20  # rad/s after deg/s conversion

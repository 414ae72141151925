"""drivers.imu.ImuDriver: a background publisher with metadata, chunks, clean stop and errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import comodo_live  # noqa: F401
from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from drivers._lsl import read_channels
from drivers.imu import ImuDriver, main
from drivers.imu_sources import EMPTY_CHUNK, ImuChunk, ImuSource
from drivers.synthetic_motion import SyntheticImuSource
from tests.drivers.conftest import pull_for


def test_imu_driver__synthetic_stream_rate_metadata_and_stop(source_id, open_inlet):
    driver = ImuDriver(SyntheticImuSource(rate_hz=200.0, seed=1), source_id, "SynthIMU")
    with driver:
        assert driver.running
        inlet = open_inlet(source_id)
        info = inlet.info(timeout=5.0)
        assert [c["label"] for c in read_channels(info)] == list(IMU_CHANNELS)
        assert [c["unit"] for c in read_channels(info)] == list(IMU_UNITS)
        assert info.nominal_srate() == 200.0
        values, stamps = pull_for(inlet, 1.0)
    assert not driver.running
    driver.stop()  # idempotent
    assert values.shape[1] == 6 and 150 <= len(values) <= 230
    np.testing.assert_allclose(np.diff(stamps), 1 / 200.0, atol=1e-6)
    assert 8 < np.linalg.norm(values[:, :3].mean(0)) < 12
    assert driver.chunks_pushed < driver.samples_pushed  # pushed in chunks


class _FailingSource(ImuSource):
    rate_hz = 10.0

    def __init__(self) -> None:
        self.closed = threading.Event()

    def read(self, timeout: float, stop: threading.Event | None = None) -> ImuChunk | None:
        time.sleep(0.01)
        raise OSError("device unplugged")

    def close(self) -> None:
        self.closed.set()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_imu_driver__worker_error_stops_cleanly_and_reraises_under_tests(source_id):
    source = _FailingSource()
    driver = ImuDriver(source, source_id)
    driver.start()
    deadline = time.monotonic() + 3
    while driver.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not driver.running
    assert isinstance(driver.error, OSError)
    with pytest.raises(OSError, match="device unplugged"):  # COMODO_RAISE=1 under tests
        driver.stop()
    assert source.closed.is_set()
    driver.stop()  # the error was reported once; stopping again is quiet


class _EmptySource(ImuSource):
    def read(self, timeout: float, stop: threading.Event | None = None) -> ImuChunk | None:
        time.sleep(timeout)
        return EMPTY_CHUNK


def test_imu_driver__validates_arguments_and_refuses_double_start(source_id):
    with pytest.raises(ValueError, match="source_id"):
        ImuDriver(_EmptySource(), "")
    with pytest.raises(ValueError, match="read_timeout_s"):
        ImuDriver(_EmptySource(), source_id, read_timeout_s=5.0)
    driver = ImuDriver(_EmptySource(), source_id)
    with driver, pytest.raises(RuntimeError, match="already running"):
        driver.start()
    assert not driver.running


def test_imu_cli__synthetic_runs_for_duration(source_id, capsys):
    assert (
        main(
            ["--source", "synthetic", "--rate", "50", "--source-id", source_id, "--duration", "0.5"]
        )
        == 0
    )
    assert "pushed" in capsys.readouterr().out

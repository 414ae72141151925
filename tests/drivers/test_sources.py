"""drivers.sources.LiveSources: the microphone recorded with a live session; an IMU already on LSL (``lsl:ID``)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from comodo_live.config import ConfigError
from comodo_live.records import PairedWindow
from comodo_live.session.controller import Controller
from comodo_live.streams.resolve import StreamNotFoundError
from drivers.imu import ImuDriver, SyntheticImuSource
from drivers.sources import LiveSources, make_sources
from tests.drivers.pulse import pulse_null_sink  # noqa: F401  (fixture)
from tests.engine_fixtures import fast_config, wait_for

pytestmark = pytest.mark.lsl

LIVE = {"source__mode": "live", "camera__source": "", "imu__source": "synthetic"}


def test_live_sources__config_validates_audio_and_lsl_imu(tmp_path: Path) -> None:
    config = fast_config(tmp_path, **LIVE)
    assert config.audio.enabled is False  # many machines have no microphone
    with pytest.raises(ConfigError, match=r"audio\.rate_hz = 1000 is out of range"):
        config.replace({"audio.rate_hz": 1000})
    with pytest.raises(ConfigError, match=r"imu\.source = 'lsl:' is invalid"):
        config.replace({"imu.source": "lsl:"})


def test_live_sources__audio_open_failure_names_audio_device(tmp_path: Path) -> None:
    config = fast_config(
        tmp_path, **LIVE, audio__enabled=True, audio__device="no-such-microphone-xyz"
    )
    sources = LiveSources(config, markers=None)
    with pytest.raises(RuntimeError, match=r"audio\.device = 'no-such-microphone-xyz'"):
        sources.start()
    assert not sources.imu_driver.running  # what had started was stopped again


def test_live_sources__audio_stream_listed_and_recorded(
    tmp_path: Path,
    pulse_null_sink: None,  # noqa: F811
) -> None:
    config = fast_config(tmp_path, **LIVE, audio__enabled=True, audio__rate_hz=16000)
    ctl = Controller(config, sources_factory=make_sources)
    ctl.start()
    try:
        audio = [s for s in ctl.snapshot().streams if s.type == "Audio"]
        assert len(audio) == 1 and audio[0].nominal_rate_hz == 16000
        assert wait_for(lambda: ctl.snapshot().recording, 10)
        time.sleep(2.5)
        session = ctl.session_dir
    finally:
        ctl.stop()
    assert session is not None
    streams, _ = pyxdf.load_xdf(str(session / "session.xdf"))
    by_type = {s["info"]["type"][0]: s for s in streams}
    assert {"Audio", "IMU"} <= set(by_type)
    samples = np.asarray(by_type["Audio"]["time_series"])
    assert samples.shape[1] == 1 and samples.shape[0] >= 16000  # >= 1 s of mono audio
    stamps = by_type["Audio"]["time_stamps"]
    assert np.all(np.diff(stamps) >= 0)


def test_live_sources__lsl_imu_stream_feeds_windows(tmp_path: Path, source_id: str) -> None:
    publisher = ImuDriver(SyntheticImuSource(rate_hz=50.0), source_id, name="OtherLabImu")
    publisher.start()
    try:
        config = fast_config(tmp_path, **{**LIVE, "imu__source": f"lsl:{source_id}"})
        config = config.replace({"session.record": False})
        ctl = Controller(config, sources_factory=make_sources)
        windows: list[PairedWindow] = []
        ctl.add_window_listener(windows.append)
        ctl.start()
        try:
            assert ctl.sources is not None and ctl.sources.imu_driver is None  # type: ignore[attr-defined]
            assert any(s.source_id == source_id for s in ctl.snapshot().streams)
            assert wait_for(lambda: len(windows) >= 4, 15)
            window = windows[-1]
            assert window.imu.data.shape == (6, config.window.samples)
            assert window.clip is None  # no camera
            assert np.isfinite(window.imu.data).all() and window.imu.data.std() > 0
        finally:
            ctl.stop()
    finally:
        publisher.stop()


def test_live_sources__missing_lsl_imu_stream_is_a_clear_error(
    tmp_path: Path, source_id: str
) -> None:
    config = fast_config(
        tmp_path, **{**LIVE, "imu__source": f"lsl:{source_id}"}, session__resolve_timeout_s=0.5
    )
    ctl = Controller(config.replace({"session.record": False}), sources_factory=make_sources)
    with pytest.raises(StreamNotFoundError, match=source_id):
        ctl.start()
    assert not ctl.running

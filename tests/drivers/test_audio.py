"""drivers.audio.AudioDriver: microphone → LSL, on a PulseAudio null sink (tests/drivers/pulse.py)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pylsl
import pytest

import comodo_live  # noqa: F401
from comodo_live.streams.names import AUDIO_TYPE
from drivers._lsl import read_channels
from drivers.audio import AudioDriver
from tests.drivers.conftest import pull_for


def test_audio_module__imports_without_sounddevice():
    code = "import drivers.audio, sys; assert 'sounddevice' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_audio_driver__validates_arguments():
    with pytest.raises(ValueError, match="rate_hz must be in"):
        AudioDriver(rate_hz=100)
    with pytest.raises(ValueError, match="block_s"):
        AudioDriver(block_s=5.0)


def test_audio_driver__null_sink_monitor_streams_16khz_mono(pulse_null_sink, source_id, open_inlet):
    with AudioDriver(rate_hz=16000, source_id=source_id) as driver:
        assert driver.running
        inlet = open_inlet(source_id, AUDIO_TYPE)
        info = inlet.info(timeout=5.0)
        assert info.nominal_srate() == 16000 and info.channel_count() == 1
        assert info.channel_format() == pylsl.cf_float32
        assert read_channels(info)[0]["label"] == "mono"
        pull_for(inlet, 8.0, min_samples=1)  # a fresh virtual device takes 0.5-2 s to start
        values, stamps = pull_for(inlet, 1.5)
        assert driver.error is None
    assert not driver.running
    driver.stop()  # idempotent
    assert 0.7 * 1.5 * 16000 < len(values) < 1.3 * 1.5 * 16000  # real time once running
    assert np.all(np.isfinite(values)) and np.abs(values).max() <= 1.0
    np.testing.assert_allclose(np.median(np.diff(stamps)), 1 / 16000, rtol=1e-3)
    assert abs(stamps[-1] - pylsl.local_clock()) < 1.0

"""A stale stream's status: a real LSL outlet that stops pushing, or that pushes samples stamped
long ago, turns laggy, then missing, in the engine's stream status (what the GUI light shows)."""

from __future__ import annotations

import time
import types
from pathlib import Path

import numpy as np
import pylsl
import pytest

from comodo_live.session.snapshot import StreamStatus
from comodo_live.session.streams import LAGGY_AFTER_S, MISSING_AFTER_S, EngineStreams
from comodo_live.streams.reader import StreamReader

from .conftest import fast_config, wait_for

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(60)]
RATE_HZ = 50.0


def _status(streams: EngineStreams) -> StreamStatus:
    (status,) = streams.status(camera_on=True).streams
    return status


def _engine_streams(tmp_path: Path, reader: StreamReader) -> EngineStreams:
    """The engine's stream status over one started reader (the IMU role)."""
    sources = types.SimpleNamespace(camera_on=True)
    streams = EngineStreams(fast_config(tmp_path), sources, tmp_path, lambda paired: None)  # type: ignore[arg-type]
    streams.readers = {"imu": reader}
    return streams


def _push(outlet: pylsl.StreamOutlet, seconds: float, stamped_ago_s: float = 0.0) -> None:
    """Push 6-channel chunks at RATE_HZ for ``seconds``, stamped ``stamped_ago_s`` in the past."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        chunk = np.zeros((5, 6), np.float32)  # (5, 6): 0.1 s at 50 Hz
        outlet.push_chunk(chunk, pylsl.local_clock() - stamped_ago_s)
        time.sleep(5 / RATE_HZ)


def test_stream_status__laggy_then_missing_after_the_outlet_stops(
    tmp_path: Path, source_id: str
) -> None:
    info = pylsl.StreamInfo("StaleIMU", "IMU", 6, RATE_HZ, "float32", source_id)
    outlet = pylsl.StreamOutlet(info)
    with StreamReader(source_id, buffer_s=10.0) as reader:
        streams = _engine_streams(tmp_path, reader)
        _push(outlet, 2.0)
        fresh = _status(streams)
        assert fresh.health == "ok" and fresh.seconds_since_data < 0.5
        assert 0.8 * RATE_HZ < fresh.measured_rate_hz < 1.2 * RATE_HZ
        stopped = time.monotonic()  # the outlet stays up, silent (a frozen device)
        assert wait_for(lambda: _status(streams).health == "laggy", MISSING_AFTER_S)
        laggy_after = time.monotonic() - stopped
        assert LAGGY_AFTER_S - 0.3 < laggy_after < MISSING_AFTER_S
        assert wait_for(lambda: _status(streams).health == "missing", MISSING_AFTER_S + 2)
        missing_after = time.monotonic() - stopped
        assert MISSING_AFTER_S - 0.3 < missing_after < MISSING_AFTER_S + 2
        gone = _status(streams)
        assert gone.seconds_since_data > MISSING_AFTER_S and gone.measured_rate_hz == 0.0
    del outlet


def test_stream_status__samples_stamped_20_s_ago_are_stale(tmp_path: Path, source_id: str) -> None:
    info = pylsl.StreamInfo("LateIMU", "IMU", 6, RATE_HZ, "float32", source_id)
    outlet = pylsl.StreamOutlet(info)
    with StreamReader(source_id, buffer_s=10.0) as reader:
        streams = _engine_streams(tmp_path, reader)
        _push(outlet, 2.0, stamped_ago_s=20.0)  # arriving now, at the full rate, but 20 s old
        late = _status(streams)
        assert late.samples > 50 and late.measured_rate_hz > 0.8 * RATE_HZ
        assert late.health == "missing" and 19.5 < late.seconds_since_data < 21.0
        _push(outlet, 1.0, stamped_ago_s=3.0)  # catching up: 3 s behind
        assert _status(streams).health == "laggy"
        _push(outlet, 1.0)  # current again
        assert _status(streams).health == "ok"
    del outlet

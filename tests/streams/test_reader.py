from __future__ import annotations

import math

import numpy as np
import pylsl
import pytest

from comodo_live.streams.reader import StreamReader
from tests.streams.lsl_helpers import imu_outlet, marker_outlet, push_stamped, wait_for


def test_reader__receives_every_sample_with_health(source_id: str) -> None:
    outlet = imu_outlet(source_id, 100.0)
    t0 = pylsl.local_clock() - 5.0
    stamps = t0 + np.arange(300) / 100.0
    data = np.arange(1800, dtype=np.float32).reshape(300, 6)
    with StreamReader(source_id, buffer_s=10.0) as reader:
        push_stamped(outlet, stamps, data)
        assert wait_for(lambda: reader.health().samples == 300)
        ts, values, received = reader.newest(1000)
        health = reader.health()
    np.testing.assert_array_equal(values, data)
    np.testing.assert_allclose(ts, stamps + reader.time_offset_s, atol=1e-6)
    assert health.rate_hz == pytest.approx(100.0, rel=0.01)
    assert 0 <= health.seconds_since_data < 5.0
    assert (health.gaps, health.nan_samples, health.error) == (0, 0, None)
    assert abs(health.time_offset_s) < 0.01  # same host
    assert np.all(received <= pylsl.local_clock())


def test_reader__records_gaps_and_counts_nans(source_id: str) -> None:
    outlet = imu_outlet(source_id, 100.0)
    t0 = pylsl.local_clock() - 10.0
    stamps = np.concatenate([t0 + np.arange(200) / 100.0, t0 + 3.0 + np.arange(200) / 100.0])
    data = np.ones((400, 6), dtype=np.float32)
    data[[10, 11, 250], 2] = np.nan
    with StreamReader(source_id, buffer_s=10.0) as reader:
        push_stamped(outlet, stamps, data)
        assert wait_for(lambda: reader.health().samples == 400)
        gaps = reader.gaps()
        health = reader.health()
        values = reader.newest(400)[1]
    assert len(gaps) == 1
    off = reader.time_offset_s
    assert gaps[0].t0 == pytest.approx(t0 + 1.99 + off, abs=1e-3)
    assert gaps[0].t1 == pytest.approx(t0 + 3.0 + off, abs=1e-3)
    assert health.nan_samples == 3
    assert int(np.isnan(values).any(axis=1).sum()) == 3  # kept, not dropped


def test_reader__string_stream_and_hook(source_id: str) -> None:
    outlet = marker_outlet(source_id)
    seen: list[str] = []
    reader = StreamReader(source_id, on_chunk=lambda ts, samples: seen.extend(samples))
    with reader:
        t0 = pylsl.local_clock()
        texts = [["camera:off"], ["label:start:walk"], ["label:stop"]]
        push_stamped(outlet, t0 + np.array([0.0, 0.5, 1.0]), texts)
        assert wait_for(lambda: len(seen) == 3)
        markers = reader.markers()
        count, new = reader.markers_after(1)
        with pytest.raises(TypeError, match="string stream"):
            reader.newest(1)
    assert seen == ["camera:off", "label:start:walk", "label:stop"]
    assert [m for _, m in markers] == seen
    assert markers[1][0] == pytest.approx(t0 + 0.5 + reader.time_offset_s, abs=1e-6)
    assert count == 3 and [m for _, m in new] == seen[1:]


def test_reader__metadata_round_trip(source_id: str) -> None:
    outlet = imu_outlet(source_id)
    with StreamReader(source_id) as reader:
        assert reader.info is not None
        channel = reader.info.desc().child("channels").child("channel")
        labels = []
        while not channel.empty():
            labels.append((channel.child_value("label"), channel.child_value("unit")))
            channel = channel.next_sibling("channel")
    assert labels[0] == ("accel_x", "m/s^2") and labels[-1] == ("gyro_z", "rad/s")
    assert len(labels) == 6
    del outlet


def test_reader__stop_joins_and_is_idempotent(source_id: str) -> None:
    outlet = imu_outlet(source_id)
    reader = StreamReader(source_id, chunk_timeout_s=0.05).start()
    assert reader.running
    reader.stop()
    reader.stop()
    assert not reader.running
    assert math.isinf(reader.health().seconds_since_data)
    del outlet


def test_reader__rejects_bad_arguments(source_id: str) -> None:
    outlet = imu_outlet(source_id)
    with pytest.raises(ValueError, match="buffer_s"):
        StreamReader(source_id, buffer_s=0)
    with pytest.raises(ValueError, match="chunk_timeout_s"):
        StreamReader(source_id, chunk_timeout_s=0)
    with pytest.raises(ValueError, match="open_timeout_s must be finite and > 0 s, got 0"):
        StreamReader(source_id, open_timeout_s=0)
    del outlet


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_reader__a_failing_hook_stops_the_reader_and_shows_in_health(source_id: str) -> None:
    def hook(stamps: np.ndarray, samples: object) -> None:
        raise RuntimeError("consumer broke")

    outlet = imu_outlet(source_id, 100.0)
    reader = StreamReader(source_id, chunk_timeout_s=0.05, on_chunk=hook).start()
    push_stamped(outlet, pylsl.local_clock() + np.arange(5) / 100.0, np.ones((5, 6), np.float32))
    assert wait_for(lambda: not reader.running)
    assert isinstance(reader.error, RuntimeError)
    assert reader.health().error == "RuntimeError('consumer broke')"
    with pytest.raises(RuntimeError, match="consumer broke"):  # COMODO_RAISE=1 under tests
        reader.stop()
    reader.stop()  # once only; the inlet is closed
    assert reader.health().samples == 5
    del outlet


def test_reader__restarts_after_stop(source_id: str) -> None:
    outlet = imu_outlet(source_id, 100.0)
    reader = StreamReader(source_id, chunk_timeout_s=0.05)
    with reader:
        assert reader.start() is reader  # idempotent while running
    with reader:
        push_stamped(
            outlet, pylsl.local_clock() + np.arange(5) / 100.0, np.ones((5, 6), np.float32)
        )
        assert wait_for(lambda: reader.health().samples == 5)
    assert not reader.running
    del outlet

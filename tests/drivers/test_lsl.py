"""drivers._lsl: stream metadata round trip, schedules and drift-free pacing."""

from __future__ import annotations

import threading

import numpy as np
import pylsl
import pytest

import comodo_live  # noqa: F401
from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from drivers._lsl import (
    Pacer,
    Schedule,
    imu_stream_info,
    make_stream_info,
    push_stamped,
    read_channels,
)


def test_imu_stream_info__metadata_round_trip_through_an_inlet(source_id, open_inlet):
    info = imu_stream_info("TestIMU", source_id, 50.0, {"source": "unit-test"})
    outlet = pylsl.StreamOutlet(info)
    inlet = open_inlet(source_id)
    received = inlet.info(timeout=5.0)  # keep alive while reading desc()
    channels = read_channels(received)
    assert [c["label"] for c in channels] == list(IMU_CHANNELS)
    assert [c["unit"] for c in channels] == list(IMU_UNITS)
    assert [c["type"] for c in channels] == ["Acceleration"] * 3 + ["AngularVelocity"] * 3
    assert received.nominal_srate() == 50.0
    assert received.type() == "IMU"
    assert received.source_id() == source_id
    assert received.channel_format() == pylsl.cf_float32
    assert received.desc().child_value("source") == "unit-test"
    del outlet


def test_make_stream_info__rejects_mismatched_units():
    with pytest.raises(ValueError, match="units must have 2 entries"):
        make_stream_info(
            "x",
            "T",
            "sid",
            rate_hz=1.0,
            channel_format=pylsl.cf_float32,
            labels=("a", "b"),
            units=("u",),
        )
    with pytest.raises(ValueError, match="rate_hz"):
        make_stream_info(
            "x", "T", "sid", rate_hz=-1.0, channel_format=pylsl.cf_float32, labels=("a",)
        )
    with pytest.raises(ValueError, match="source_id"):
        make_stream_info("x", "T", "", rate_hz=1.0, channel_format=pylsl.cf_float32, labels=("a",))


def test_schedule__regular_and_looping_offsets():
    regular = Schedule(rate_hz=100.0)
    assert regular.count_due(-0.001) == 0
    assert regular.count_due(0.0) == 1
    assert regular.count_due(0.0999) == 10
    np.testing.assert_allclose(regular.times(3, 6), [0.03, 0.04, 0.05])
    offsets = np.array([10.0, 10.1, 10.3])  # median interval 0.15 → period 0.45
    looping = Schedule(offsets_s=offsets)
    np.testing.assert_allclose(looping.times(0, 6), [0.0, 0.1, 0.3, 0.45, 0.55, 0.75])
    assert looping.count_due(0.5) == 4
    once = Schedule(offsets_s=offsets, loop=False)
    assert once.count_due(100.0) == 3 and once.length == 3
    with pytest.raises(ValueError, match="non-decreasing"):
        Schedule(offsets_s=np.array([0.0, 1.0, 0.5]))


def test_pacer__releases_on_absolute_schedule_without_drift():
    rate = 200.0
    pacer = Pacer(Schedule(rate_hz=rate), t0=pylsl.local_clock() + 0.05, min_items=2)
    released: list[tuple[int, int, float]] = []
    while pacer.next_index < 100:
        k0, k1 = pacer.wait_due(0.2)
        released.append((k0, k1, pylsl.local_clock()))
    indices = np.concatenate([np.arange(k0, k1) for k0, k1, _ in released])
    np.testing.assert_array_equal(indices[:100], np.arange(100))
    for _, k1, at in released:
        due_last = pacer.t0 + (k1 - 1) / rate
        assert at >= due_last - 1e-4  # never released early
    # Absolute timing: the last release happens close to its due time, whatever the sleeps did.
    k0, k1, at = released[-1]
    assert at - (pacer.t0 + (k1 - 1) / rate) < 0.05
    assert pacer.skipped == 0


def test_pacer__skips_stale_items_when_far_behind():
    pacer = Pacer(Schedule(rate_hz=100.0), t0=pylsl.local_clock() - 5.0, max_lag_s=1.0)
    k0, k1 = pacer.wait_due(0.1)
    assert pacer.skipped >= 390  # ~4 s of items older than max_lag_s
    assert 95 <= k1 - k0 <= 110  # the last ~1 s is released


def test_pacer__stop_event_interrupts_wait():
    stop = threading.Event()
    stop.set()
    pacer = Pacer(Schedule(rate_hz=1.0), t0=pylsl.local_clock() + 10.0)
    assert pacer.wait_due(5.0, stop) == (0, 0)


def test_push_stamped__rejects_wrong_timestamp_count(source_id):
    outlet = pylsl.StreamOutlet(imu_stream_info("T", source_id, 10.0))
    with pytest.raises(ValueError, match="timestamps must have 2"):
        push_stamped(outlet, np.zeros((2, 6), np.float32), np.zeros(3))

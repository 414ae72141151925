from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pylsl
import pytest

from comodo_live.records import PairedWindow
from comodo_live.streams.frames import drop_frame_bus, frame_bus
from comodo_live.streams.reader import StreamReader
from comodo_live.streams.windowing import Timeline, Windower
from tests.streams.lsl_helpers import imu_outlet, marker_outlet, push_stamped, wait_for

RATE = 100.0


def _signal(t: np.ndarray) -> np.ndarray:
    """(N, 6) smooth test signal of LSL time: line, sines, constant."""
    return np.stack(
        [
            t - t[0] if len(t) else t,
            np.sin(2 * np.pi * t),
            np.cos(2 * np.pi * 0.5 * t),
            np.full_like(t, 3.0),
            0.1 * t,
            np.sin(t),
        ],
        axis=1,
    ).astype(np.float64)


@pytest.fixture
def imu(source_id: str) -> Iterator[tuple[pylsl.StreamOutlet, StreamReader]]:
    outlet = imu_outlet(source_id, RATE)
    reader = StreamReader(source_id, buffer_s=30.0).start()
    yield outlet, reader
    reader.stop()


def _feed(
    outlet: pylsl.StreamOutlet, reader: StreamReader, stamps: np.ndarray, data: np.ndarray
) -> None:
    push_stamped(outlet, stamps, data.astype(np.float32))
    assert wait_for(lambda: reader.health().samples == len(stamps))


def _spans(window: PairedWindow, t0: float, t1: float) -> bool:
    return window.imu.t_start < t1 and window.imu.t_end > t0


def test_windower__resamples_onto_a_regular_grid(imu: tuple, source_id: str) -> None:
    outlet, reader = imu
    base = pylsl.local_clock() - 8.0
    stamps = base + np.arange(600) / 200.0 * 2  # 100 Hz for 6 s
    _feed(outlet, reader, stamps, _signal(stamps))
    windower = Windower(
        reader,
        window_s=1.0,
        hop_s=0.5,
        rate_hz=50.0,
        max_windows_per_poll=100,
        align_to_newest=False,
    )
    windows = windower.poll()
    assert len(windows) >= 9
    offset = reader.time_offset_s
    for window in windows:
        imu_window = window.imu
        assert imu_window.data.shape == (6, 50) and imu_window.data.dtype == np.float32
        assert imu_window.t_end - imu_window.t_start == pytest.approx(49 / 50.0)
        assert imu_window.rate_hz == 50.0 and not imu_window.camera_on and window.clip is None
        grid = np.linspace(imu_window.t_start, imu_window.t_end, 50) - offset
        expected = _signal(np.concatenate([[stamps[0]], grid]))[1:].T
        np.testing.assert_allclose(imu_window.data, expected, atol=2e-3)
        assert 0 < imu_window.t_last_push <= pylsl.local_clock()
    ends = np.array([w.imu.t_end for w in windows])
    np.testing.assert_allclose(np.diff(ends), 0.5, atol=1e-9)
    assert windower.poll() == []  # nothing new


def test_windower__no_window_spans_a_gap(imu: tuple) -> None:
    outlet, reader = imu
    base = pylsl.local_clock() - 10.0
    stamps = base + np.arange(800) / RATE
    stamps = stamps[(stamps < base + 3.0) | (stamps > base + 3.5)]
    _feed(outlet, reader, stamps, _signal(stamps))
    windower = Windower(reader, window_s=1.0, hop_s=0.25, rate_hz=50.0, max_windows_per_poll=100)
    windows = windower.poll()
    gap = reader.gaps()[0]
    assert not any(_spans(w, gap.t0, gap.t1) for w in windows)
    assert any(w.imu.t_end < gap.t0 for w in windows) and any(
        w.imu.t_start > gap.t1 for w in windows
    )
    assert windower.stats.skipped_gap >= 4


def test_windower__drops_windows_with_nans(imu: tuple) -> None:
    outlet, reader = imu
    base = pylsl.local_clock() - 10.0
    stamps = base + np.arange(400) / RATE
    data = _signal(stamps)
    data[200, 1] = np.nan
    _feed(outlet, reader, stamps, data)
    windower = Windower(reader, window_s=1.0, hop_s=0.5, rate_hz=50.0, max_windows_per_poll=100)
    windows = windower.poll()
    t_nan = stamps[200] + reader.time_offset_s
    assert windows and not any(_spans(w, t_nan - 0.011, t_nan + 0.011) for w in windows)
    assert windower.stats.skipped_nan >= 2
    assert reader.health().nan_samples == 1


def _publish_frames(source_id: str, t0: float, t1: float, fps: float = 30.0) -> np.ndarray:
    bus = frame_bus(source_id, capacity=1000)
    stamps = np.arange(t0, t1, 1.0 / fps)
    for index, stamp in enumerate(stamps):
        bus.publish(index, float(stamp), np.full((8, 8, 3), index % 256, dtype=np.uint8))
    return stamps


def test_windower__camera_switch_splits_windows_and_pairs_frames(
    imu: tuple, source_id: str
) -> None:
    outlet, reader = imu
    base = pylsl.local_clock() - 10.0
    stamps = base + np.arange(800) / RATE
    _feed(outlet, reader, stamps, _signal(stamps))
    t_off = base + 4.0
    _publish_frames(f"{source_id}-cam", base, t_off)
    camera = Timeline(initial=True)
    camera.set(False, t=t_off)
    try:
        windower = Windower(
            reader,
            1.0,
            0.25,
            50.0,
            frame_source=frame_bus(f"{source_id}-cam"),
            camera_state=camera,
            frames_per_clip=8,
            max_windows_per_poll=100,
        )
        windows = windower.poll()
    finally:
        drop_frame_bus(f"{source_id}-cam")
    assert not any(_spans(w, t_off, t_off) for w in windows)
    assert windower.stats.skipped_switch >= 3
    before = [w for w in windows if w.imu.t_end < t_off]
    after = [w for w in windows if w.imu.t_start > t_off]
    assert len(before) >= 8 and len(after) >= 8
    assert all(w.clip is None and not w.imu.camera_on for w in after)
    for window in before:
        clip = window.clip
        assert clip is not None and window.imu.camera_on
        assert clip.frames.shape == (8, 8, 8, 3)
        assert np.all(clip.timestamps >= window.imu.t_start) and np.all(
            clip.timestamps <= window.imu.t_end
        )
        assert np.all(np.diff(clip.timestamps) > 0.08)  # evenly spread over the 1 s window
        np.testing.assert_array_equal(clip.frames[:, 0, 0, 0], clip.frame_indices % 256)


def test_windower__infers_camera_from_frames_without_state(imu: tuple, source_id: str) -> None:
    outlet, reader = imu
    base = pylsl.local_clock() - 10.0
    stamps = base + np.arange(800) / RATE
    _feed(outlet, reader, stamps, _signal(stamps))
    frames = _publish_frames(f"{source_id}-cam", base + 2.0, base + 5.0)
    try:
        windower = Windower(
            reader,
            1.0,
            0.25,
            50.0,
            frame_source=frame_bus(f"{source_id}-cam"),
            max_windows_per_poll=100,
        )
        windows = windower.poll()
    finally:
        drop_frame_bus(f"{source_id}-cam")
    first, last = frames[0], frames[-1]
    paired = [w for w in windows if w.clip is not None]
    assert paired and all(
        first - 0.2 <= w.imu.t_start and w.imu.t_end <= last + 0.2 for w in paired
    )
    assert all(w.clip is None for w in windows if w.imu.t_end < first or w.imu.t_start > last)
    assert windower.stats.skipped_switch >= 4  # partly covered windows


def test_windower__markers_give_camera_switches_and_labels(imu: tuple, source_id: str) -> None:
    outlet, reader = imu
    markers_out = marker_outlet(f"{source_id}-mk")
    markers = StreamReader(f"{source_id}-mk").start()
    try:
        base = pylsl.local_clock() - 10.0
        texts = [["label:start:walking"], ["camera:off"], ["label:stop"]]
        push_stamped(markers_out, base + np.array([1.0, 5.0, 6.0]), texts)
        assert wait_for(lambda: markers.health().samples == 3)
        stamps = base + np.arange(800) / RATE
        _feed(outlet, reader, stamps, _signal(stamps))
        windower = Windower(reader, 1.0, 0.5, 50.0, markers=markers, max_windows_per_poll=100)
        windows = windower.poll()
    finally:
        markers.stop()
    off = markers.time_offset_s
    t_switch = base + 5.0 + off
    assert not any(_spans(w, t_switch, t_switch) for w in windows)
    assert all(w.imu.camera_on == (w.imu.t_end < t_switch) for w in windows)
    assert all(w.clip is None for w in windows)  # no frame source: no clips
    labelled = [w for w in windows if w.label == "walking"]
    assert labelled
    assert all(
        base + 1.0 - 1e-3 <= w.imu.t_start and w.imu.t_end <= base + 6.0 + 1e-3 for w in labelled
    )
    assert all(w.label is None for w in windows if w.imu.t_start > base + 6.01)
    assert windower.camera is not None and windower.camera.value_at(base) is True


def test_windower__limits_backlog_per_poll(imu: tuple) -> None:
    outlet, reader = imu
    base = pylsl.local_clock() - 10.0
    stamps = base + np.arange(800) / RATE
    _feed(outlet, reader, stamps, _signal(stamps))
    windower = Windower(reader, 1.0, 0.1, 50.0, max_windows_per_poll=5)
    windows = windower.poll()
    assert len(windows) == 5
    assert windows[-1].imu.t_end == pytest.approx(stamps[-1] + reader.time_offset_s, abs=0.1)
    assert windower.stats.skipped_backlog > 50


def test_windower__newest_window_ends_at_the_newest_sample(imu: tuple) -> None:
    outlet, reader = imu
    base = pylsl.local_clock() - 10.0
    stamps = base + np.arange(400) / RATE
    _feed(outlet, reader, stamps, _signal(stamps))
    windower = Windower(reader, 1.0, 0.3, 50.0, max_windows_per_poll=100)
    windows = windower.poll()
    newest_t, _, newest_received = reader.newest(1)
    assert windows[-1].imu.t_end == newest_t[0]
    assert windows[-1].imu.t_last_push == newest_received[0]
    ends = np.array([w.imu.t_end for w in windows])
    assert np.all(np.diff(ends) >= 0.3 - 1e-9)
    more = stamps[-1] + np.arange(1, 21) / RATE  # 0.2 s more: less than a hop
    push_stamped(outlet, more, _signal(more).astype(np.float32))
    assert wait_for(lambda: reader.health().samples == 420)
    assert windower.poll() == []
    even_more = more[-1] + np.arange(1, 21) / RATE
    push_stamped(outlet, even_more, _signal(even_more).astype(np.float32))
    assert wait_for(lambda: reader.health().samples == 440)
    (window,) = windower.poll()
    assert window.imu.t_end == reader.newest(1)[0][0]


def test_windower__rejects_bad_arguments(imu: tuple) -> None:
    _, reader = imu
    with pytest.raises(ValueError, match="window_s"):
        Windower(reader, 0.0, 0.5, 50.0)
    with pytest.raises(ValueError, match="frames_per_clip"):
        Windower(reader, 1.0, 0.5, 50.0, frames_per_clip=0)
    with pytest.raises(ValueError, match=">= 2 samples"):
        Windower(reader, 0.01, 0.5, 50.0)


def test_timeline__uncertain_change_blocks_the_whole_range() -> None:
    timeline = Timeline(initial=False)
    timeline.set(True, t=10.0, t_lo=9.0)
    assert timeline.constant_over(0.0, 8.9) == (True, False)
    assert timeline.constant_over(8.5, 9.5)[0] is False
    assert timeline.constant_over(10.1, 20.0) == (True, True)
    timeline.set(True, t=12.0)  # no change: ignored
    assert timeline.constant_over(10.1, 20.0) == (True, True)

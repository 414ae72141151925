"""Resampling and windowing of raw IMU samples (units: tests/test_units.py)."""

from __future__ import annotations

import numpy as np
import pytest

from comodo_live.runtime.signal import ChannelError, StreamWindower, offline_windows, resample


def test_resample__linear_interpolation_onto_grid() -> None:
    times = np.array([0.0, 0.1, 0.3])
    samples = np.array([[0.0, 1.0], [1.0, 1.0], [3.0, 0.0]])
    out = resample(times, samples, np.array([0.0, 0.05, 0.2, 0.3]))
    np.testing.assert_allclose(out, [[0.0, 0.5, 2.0, 3.0], [1.0, 1.0, 0.5, 0.0]], atol=1e-6)


def test_offline_windows__window_and_hop_at_nominal_rate() -> None:
    times = np.arange(0, 5.0, 1 / 200)  # 200 Hz source, 5 s
    samples = np.stack([np.sin(times), times], axis=1)
    windows = list(offline_windows(times, samples, rate_hz=50.0, window_samples=50, hop_s=0.5))
    assert len(windows) == 9  # 1 s windows every 0.5 s over 0..4.98 s: ends 0.98, 1.48, ..., 4.98
    t_end, first = windows[0]
    assert first.shape == (2, 50) and t_end == pytest.approx(0.98)
    np.testing.assert_allclose(first[1], np.arange(50) / 50.0, atol=1e-6)  # resampled clock
    assert windows[1][0] - windows[0][0] == pytest.approx(0.5)


def test_offline_windows__drops_nan_rows() -> None:
    times = np.arange(0, 2.0, 0.01)
    samples = np.ones((len(times), 6))
    samples[50:60, 2] = np.nan
    windows = list(offline_windows(times, samples, 50.0, 50, 0.5))
    assert windows and all(np.isfinite(w).all() for _, w in windows)


def test_stream_windower__emits_every_hop_with_bounded_memory() -> None:
    windower = StreamWindower(channels=6, rate_hz=50.0, window_samples=50, hop_s=0.25)
    emitted = []
    for chunk in range(200):  # 20 s of 100 Hz data in 0.1 s chunks
        t = chunk * 0.1 + np.arange(10) / 100.0
        samples = np.tile(t[:, None], (1, 6))
        emitted += windower.push(t, samples)
    ends = np.array([t for t, _ in emitted])
    assert ends[0] == pytest.approx(0.99)  # first chunk that covers 0.98 s of data
    assert np.all(np.diff(ends) >= 0.25 - 1e-9) and np.all(np.diff(ends) <= 0.3 + 1e-9)
    t_end, window = emitted[-1]
    np.testing.assert_allclose(window[0], t_end - (49 - np.arange(50)) / 50.0, atol=1e-5)
    assert len(windower._times) <= 100 * (0.98 + 2.0) + 10  # bounded: window + 2 s


def test_stream_windower__wrong_channel_count_refused() -> None:
    windower = StreamWindower(channels=6, rate_hz=50.0, window_samples=50, hop_s=0.25)
    with pytest.raises(ChannelError, match=r"samples must be \(M, 6\), got \(4, 3\)"):
        windower.push(np.arange(4.0), np.zeros((4, 3)))


def test_offline_windows__skips_windows_across_a_gap() -> None:
    times = np.r_[np.arange(0, 3.0, 0.01), np.arange(5.0, 8.0, 0.01)]  # 2 s without data
    samples = np.ones((len(times), 6))
    ends = [t for t, _ in offline_windows(times, samples, 50.0, 50, 0.5)]
    assert ends and all(t < 3.0 or t - 0.98 >= 5.0 - 1e-9 for t in ends)
    assert any(t > 5.9 for t in ends)


def test_stream_windower__skips_windows_across_a_gap() -> None:
    windower = StreamWindower(channels=6, rate_hz=50.0, window_samples=50, hop_s=0.25)
    before = windower.push(np.arange(0, 2.0, 0.01), np.zeros((200, 6)))
    after = [
        windower.push(t + np.arange(5) * 0.01, np.zeros((5, 6))) for t in np.arange(4.0, 6.0, 0.05)
    ]
    emitted = [t for batch in after for t, _ in batch]
    assert len(before) == 1 and windower.skipped_gaps > 0
    assert (
        emitted and min(emitted) - 0.98 >= 4.0 - 1e-9
    )  # first window after the gap is all new data

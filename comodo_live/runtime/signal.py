"""Raw IMU samples → contract windows: resampling, window + hop.

Numpy only. The same code serves recorded CSV files (:func:`offline_windows`) and live streams
(:class:`StreamWindower`). Units and channel order come from :mod:`comodo_live.units` (the one
table shared with the app); resampling from :mod:`comodo_live.signal` (the app's anti-aliasing
low-pass when the input is faster than the model's rate).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from comodo_live import signal as antialias
from comodo_live.units import (  # noqa: F401  (re-exported: the runtime's unit API)
    ChannelError,
    UnitError,
    canonical_channel,
    check_channel_count,
    unit_factor,
)


def resample(
    times: np.ndarray, samples: np.ndarray, grid: np.ndarray, rate_hz: float | None = None
) -> np.ndarray:
    """(M, C) samples at (M,) increasing times onto the (G,) grid → (C, G) float32.

    Anti-aliased when downsampling (:mod:`comodo_live.signal`: the app's own filter), linear
    interpolation otherwise. ``rate_hz``: the grid's rate (default: from its spacing).
    """
    if rate_hz is None:
        rate_hz = antialias.median_rate(grid) if len(grid) > 1 else 1.0
    return antialias.resample(times, samples, grid, rate_hz).astype(np.float32)  # (C, G)


MAX_GAP_S = 0.25  # a window spanning a longer gap between samples is skipped, not interpolated


def _gap_inside(times: np.ndarray, t_first: float, t_last: float, max_gap_s: float) -> bool:
    """Whether samples around [t_first, t_last] are further apart than ``max_gap_s``."""
    lo = max(int(np.searchsorted(times, t_first, side="right")) - 1, 0)
    hi = min(int(np.searchsorted(times, t_last, side="left")), len(times) - 1)
    return hi > lo and float(np.max(np.diff(times[lo : hi + 1]))) > max_gap_s


def _finite_rows(times: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(times) & np.isfinite(samples).all(axis=1)
    return times[keep], samples[keep]


def offline_windows(
    times: np.ndarray,
    samples: np.ndarray,
    rate_hz: float,
    window_samples: int,
    hop_s: float,
    max_gap_s: float = MAX_GAP_S,
) -> Iterator[tuple[float, np.ndarray]]:
    """Windows over a whole recording: resample to ``rate_hz`` from the first sample, then slide.

    Args:
        times: (M,) seconds, increasing.
        samples: (M, C) in contract units and order; rows with NaN/inf are dropped.
        rate_hz: nominal rate of the model.
        window_samples: N.
        hop_s: step between windows, seconds (rounded to whole samples, at least one).
        max_gap_s: windows spanning a gap between samples longer than this are skipped, s.

    Yields:
        (time of the window's last grid point, (C, N) float32 window).
    """
    times, samples = _finite_rows(np.asarray(times, np.float64), np.asarray(samples, np.float64))
    if len(times) < 2:
        return
    count = int(np.floor((times[-1] - times[0]) * rate_hz + 1e-9)) + 1
    grid = times[0] + np.arange(count) / rate_hz  # (G,)
    uniform = resample(times, samples, grid, rate_hz)  # (C, G)
    hop = max(1, round(hop_s * rate_hz))
    for end in range(window_samples, count + 1, hop):
        if not _gap_inside(times, grid[end - window_samples], grid[end - 1], max_gap_s):
            yield float(grid[end - 1]), uniform[:, end - window_samples : end]


class StreamWindower:
    """Live windows: keeps recent samples, emits a window every ``hop_s`` of stream time.

    Each window is the N grid points at ``rate_hz`` ending at the newest sample's timestamp.
    Memory is bounded to ``window_s + 2`` seconds of samples. A window that would span a gap in
    the stream (longer than ``max_gap_s``) is not emitted; ``skipped_gaps`` counts them.

    Args:
        channels: C.
        rate_hz: nominal rate of the model, Hz.
        window_samples: N.
        hop_s: seconds of stream time between windows.
        max_gap_s: longest tolerated gap between samples inside a window, s.
    """

    def __init__(
        self,
        channels: int,
        rate_hz: float,
        window_samples: int,
        hop_s: float,
        max_gap_s: float = MAX_GAP_S,
    ) -> None:
        if not hop_s > 0:
            raise ValueError(f"hop_s must be > 0, got {hop_s!r}")
        self.channels, self.rate_hz, self.window_samples = channels, rate_hz, window_samples
        self.hop_s, self.max_gap_s = hop_s, max_gap_s
        self.skipped_gaps = 0
        self.span_s = (window_samples - 1) / rate_hz
        self._keep_s = self.span_s + 2.0
        self._times = np.empty(0, dtype=np.float64)
        self._samples = np.empty((0, channels), dtype=np.float64)
        self._last_emit = -np.inf

    def push(self, times: np.ndarray, samples: np.ndarray) -> list[tuple[float, np.ndarray]]:
        """Add (M,) timestamps and (M, C) samples; returns the windows now due, oldest first."""
        times, samples = _finite_rows(
            np.asarray(times, np.float64), np.asarray(samples, np.float64)
        )
        if samples.shape[1:] != (self.channels,):
            raise ChannelError(f"samples must be (M, {self.channels}), got {samples.shape}")
        if len(times):
            newer = times > (self._times[-1] if len(self._times) else -np.inf)
            self._times = np.concatenate([self._times, times[newer]])
            self._samples = np.concatenate([self._samples, samples[newer]])
            keep = self._times >= self._times[-1] - self._keep_s
            self._times, self._samples = self._times[keep], self._samples[keep]
        windows: list[tuple[float, np.ndarray]] = []
        if len(self._times) < 2:
            return windows
        t_end = float(self._times[-1])
        if t_end - self.span_s < self._times[0] or t_end - self._last_emit < self.hop_s - 1e-9:
            return windows
        self._last_emit = t_end
        if _gap_inside(self._times, t_end - self.span_s, t_end, self.max_gap_s):
            self.skipped_gaps += 1
            return windows
        grid = t_end - self.span_s + np.arange(self.window_samples) / self.rate_hz  # (N,)
        windows.append((t_end, resample(self._times, self._samples, grid, self.rate_hz)))
        return windows

"""Anti-aliased resampling of timestamped IMU samples onto a uniform grid (numpy only).

Used by the app's windower, the standalone runtime and the export contract alike, so a model
sees the same input wherever it runs.

Downsampling (input rate > 1.05 × output rate): each output point is a low-pass filtered value,
the samples around it weighted by a Kaiser-windowed sinc with cutoff at the output's Nyquist
frequency (``rate_hz / 2``), ``beta`` 5 and a half-length of 10 output periods — the filter of
``scipy.signal.resample_poly`` — evaluated at the actual sample times (so timing jitter and any
grid phase are handled) and normalised to unit gain at every point. Where the data end within
the half-length (a live window ending at the newest sample), the samples are mirrored about the
last one (odd reflection, as ``scipy.signal.filtfilt`` pads), which keeps a linear trend exact.
Without this, vibration above the output's Nyquist frequency folds into the window (a drone IMU
at 398 Hz gave a 50 Hz gyro std 3.7–8.8× too high).

Same rate or upsampling: linear interpolation (nothing above the output's Nyquist to remove).
"""

from __future__ import annotations

import numpy as np

KAISER_BETA = 5.0
HALF_LENGTH_PERIODS = 10  # kernel half-length in output periods (scipy's resample_poly: 10)
LOWPASS_ABOVE_RATIO = 1.05  # input/output rate above which the low-pass is applied
_CHUNK = 2048  # output points per vectorised block (bounds memory on whole recordings)


def median_rate(times: np.ndarray) -> float:
    """Median sampling rate of (M,) increasing times, Hz (0 with fewer than 2 samples)."""
    if len(times) < 2:
        return 0.0
    step = float(np.median(np.diff(times)))
    return 1.0 / step if step > 0 else 0.0


def needs_lowpass(in_rate_hz: float, out_rate_hz: float) -> bool:
    """Whether resampling from ``in_rate_hz`` to ``out_rate_hz`` must low-pass first."""
    return in_rate_hz > LOWPASS_ABOVE_RATIO * out_rate_hz


def half_length_s(out_rate_hz: float) -> float:
    """Seconds of input needed on each side of an output point by the low-pass."""
    return HALF_LENGTH_PERIODS / out_rate_hz


def _kaiser_exact(u: np.ndarray) -> np.ndarray:
    """Kaiser window on u ∈ [-1, 1] (0 outside)."""
    inside = np.abs(u) <= 1.0
    arg = KAISER_BETA * np.sqrt(np.clip(1.0 - u * u, 0.0, None))
    return np.where(inside, np.i0(arg) / np.i0(KAISER_BETA), 0.0)


# The kernel in units of its half-length, u = dt / half_length ∈ [-1, 1]: the cutoff
# (rate_hz / 2) times the half-length (HALF_LENGTH_PERIODS / rate_hz) makes the sinc's argument
# HALF_LENGTH_PERIODS · u whatever the rate, so one table serves every rate (np.i0 and np.sinc
# are slow; the tabulated kernel is within 1e-6 of the exact one).
_KERNEL_U = np.linspace(0.0, 1.0, 16385)
_KERNEL_TABLE = _kaiser_exact(_KERNEL_U) * np.sinc(HALF_LENGTH_PERIODS * _KERNEL_U)


def _kernel(u: np.ndarray) -> np.ndarray:
    """Kaiser-windowed sinc at u = dt / half-length (0 outside [-1, 1])."""
    return np.interp(np.abs(u), _KERNEL_U, _KERNEL_TABLE, right=0.0)


def _reflect(
    times: np.ndarray, samples: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror samples (odd reflection) about the first/last one to reach [lo, hi]."""
    n = len(times)
    parts_t, parts_x = [times], [samples]
    if lo < times[0] and n > 1:  # mirrored times 2*t0 - t[j] >= lo for j = 1..last
        last = min(int(np.searchsorted(times, 2 * times[0] - lo, side="right")), n - 1)
        mirror = slice(last, 0, -1)
        parts_t.insert(0, 2 * times[0] - times[mirror])
        parts_x.insert(0, 2 * samples[0] - samples[mirror])
    if hi > times[-1] and n > 1:  # mirrored times 2*t[-1] - t[j] <= hi for j = first..n-2
        first = max(int(np.searchsorted(times, 2 * times[-1] - hi, side="left")) - 1, 0)
        mirror = slice(first, n - 1)
        parts_t.append((2 * times[-1] - times[mirror])[::-1])
        parts_x.append((2 * samples[-1] - samples[mirror])[::-1])
    return np.concatenate(parts_t), np.concatenate(parts_x)


@np.errstate(invalid="ignore", over="ignore")
def lowpass_resample(
    times: np.ndarray, samples: np.ndarray, grid: np.ndarray, out_rate_hz: float
) -> np.ndarray:
    """Windowed-sinc low-pass of (M, C) samples at (M,) times, evaluated at (G,) grid → (C, G).

    A non-finite sample makes the outputs within its reach NaN (or ±inf), quietly: the windower
    drops such windows and the IMU quality check names the stream (no RuntimeWarning per chunk).
    """
    half = half_length_s(out_rate_hz)  # cutoff: out_rate_hz / 2, the output's Nyquist frequency
    t, x = _reflect(times, samples, float(grid[0]) - half, float(grid[-1]) + half)
    out = np.empty((samples.shape[1], len(grid)), dtype=np.float64)  # (C, G)
    for start in range(0, len(grid), _CHUNK):
        g = grid[start : start + _CHUNK]  # (B,)
        lo = np.searchsorted(t, g - half, side="left")  # (B,)
        hi = np.searchsorted(t, g + half, side="right")  # (B,)
        width = max(int((hi - lo).max()), 1)
        index = lo[:, None] + np.arange(width)  # (B, K)
        valid = index < hi[:, None]
        index = np.minimum(index, len(t) - 1)
        dt = g[:, None] - t[index]  # (B, K) s
        weights = _kernel(dt / half) * valid  # (B, K)
        total = weights.sum(axis=1, keepdims=True)
        weights = weights / np.where(np.abs(total) > 1e-12, total, 1.0)
        out[:, start : start + len(g)] = np.matmul(weights[:, None, :], x[index])[:, 0, :].T
    return out


def resample(
    times: np.ndarray,
    samples: np.ndarray,
    grid: np.ndarray,
    out_rate_hz: float,
    in_rate_hz: float | None = None,
) -> np.ndarray:
    """(M, C) samples at (M,) increasing times → (C, G) float64 at the (G,) grid.

    Args:
        times: (M,) sample times, s, increasing (M >= 2).
        samples: (M, C) values; NaN spreads to the outputs whose kernel covers it.
        grid: (G,) output times, s, spaced ``1 / out_rate_hz``.
        out_rate_hz: the grid's rate, Hz (> 0).
        in_rate_hz: the input's nominal rate, Hz (default: the median of ``times``' intervals).
    """
    if not out_rate_hz > 0:
        raise ValueError(f"out_rate_hz must be > 0, got {out_rate_hz!r}")
    times = np.asarray(times, dtype=np.float64)
    samples = np.asarray(samples, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    rate = median_rate(times) if not in_rate_hz or in_rate_hz <= 0 else in_rate_hz
    if needs_lowpass(rate, out_rate_hz) and len(times) > 1:
        return lowpass_resample(times, samples, grid, out_rate_hz)
    return np.stack([np.interp(grid, times, samples[:, c]) for c in range(samples.shape[1])])

"""Dejittering and gap detection for regular LSL streams.

LSL timestamps carry transport and scheduling jitter (samples stamped on arrival, bursts from
serial/UDP devices). For a stream with a nominal rate, the sample count is a far better clock:
:class:`Dejitter` fits ``timestamp = a + b * count`` with exponentially decaying weights and
restarts the fit at every gap, so a pause of the source never bends the timestamps after it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Gap:
    """Missing data: no sample between ``t0`` (last before) and ``t1`` (first after), LSL s.

    ``t1 < t0`` marks a clock that jumped backwards.
    """

    t0: float
    t1: float


class Dejitter:
    """Timestamps of a regular stream from a running linear fit of time vs. sample count.

    The fit is exponentially weighted (``halftime_s``) and restarts at every gap (an interval
    longer than ``max(gap_factor / nominal_srate, min_gap_s)``, or any backwards jump). Until
    ``min_samples`` of a segment have arrived the raw timestamps are passed through. Chunks are
    processed vectorised: every sample of a chunk gets the fit that includes the whole chunk.
    Output is non-decreasing (except after a backwards clock jump, which is reported as a gap).

    Args:
        nominal_srate: the stream's nominal rate, Hz (> 0).
        gap_factor: an interval longer than this many nominal periods is a gap (> 1).
        min_gap_s: ... but never shorter than this, seconds.
        halftime_s: weight half-life of old samples in the fit, seconds.
        min_samples: samples per segment before fitted timestamps are used.
        enabled: False to only detect gaps (timestamps pass through unchanged).
    """

    def __init__(
        self,
        nominal_srate: float,
        gap_factor: float = 5.0,
        min_gap_s: float = 0.05,
        halftime_s: float = 30.0,
        min_samples: int = 10,
        enabled: bool = True,
    ) -> None:
        if not (nominal_srate > 0 and math.isfinite(nominal_srate)):
            raise ValueError(f"nominal_srate must be finite and > 0, got {nominal_srate}")
        if gap_factor <= 1:
            raise ValueError(f"gap_factor must be > 1, got {gap_factor}")
        if not halftime_s > 0:
            raise ValueError(f"halftime_s must be > 0, got {halftime_s}")
        self.gap_s = max(gap_factor / nominal_srate, min_gap_s)
        self.enabled = enabled
        self.min_samples = max(2, int(min_samples))
        self._decay = 0.5 ** (1.0 / (halftime_s * nominal_srate))
        self._last_raw = math.nan
        self._last_out = -math.inf
        self._reset(math.nan)

    def _reset(self, origin: float) -> None:
        self._origin = origin  # raw time of the segment's first sample
        self._count = 0  # samples in this segment
        self._w = 0.0  # total (decayed) weight
        self._mx = self._my = self._cxx = self._cxy = 0.0

    def process(self, timestamps: np.ndarray) -> tuple[np.ndarray, list[Gap]]:
        """Dejitter one chunk.

        Args:
            timestamps: (n,) raw (clock-corrected) LSL seconds, in arrival order.

        Returns:
            ``(timestamps (n,), gaps)``: output times and the gaps found before/inside the chunk.
        """
        raw = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        out = np.empty_like(raw)
        gaps: list[Gap] = []
        if raw.size == 0:
            return out, gaps
        intervals = np.diff(raw, prepend=self._last_raw)  # (n,); first may be NaN
        breaks = np.flatnonzero(np.abs(np.nan_to_num(intervals)) > self.gap_s).tolist()
        bounds = sorted({0, *breaks, raw.size})
        for start, end in itertools.pairwise(bounds):
            if start in breaks:
                gaps.append(Gap(float(self._last_out), float(raw[start])))
                if intervals[start] < 0:  # clock reset: restart the monotonic floor too
                    self._last_out = -math.inf
                self._reset(float(raw[start]))
            elif math.isnan(self._origin):
                self._reset(float(raw[start]))
            out[start:end] = self._segment(raw[start:end])
        self._last_raw = float(raw[-1])
        return out, gaps

    def _segment(self, raw: np.ndarray) -> np.ndarray:
        """Fold one gap-free piece (m,) into the fit; return its output times (m,)."""
        m = raw.size
        x = self._count + np.arange(m, dtype=np.float64)  # (m,) sample counts
        y = raw - self._origin  # (m,)
        weights = self._decay ** np.arange(m - 1, -1, -1, dtype=np.float64)  # (m,) newest = 1
        shrink = self._decay**m
        w_old, w_new = self._w * shrink, float(weights.sum())
        mx_new = float(weights @ x) / w_new
        my_new = float(weights @ y) / w_new
        dx_new, dy_new = x - mx_new, y - my_new
        cxx_new, cxy_new = float(weights @ (dx_new * dx_new)), float(weights @ (dx_new * dy_new))
        total = w_old + w_new
        delta_x, delta_y = mx_new - self._mx, my_new - self._my
        cross = w_old * w_new / total
        self._cxx = self._cxx * shrink + cxx_new + delta_x * delta_x * cross
        self._cxy = self._cxy * shrink + cxy_new + delta_x * delta_y * cross
        self._mx += delta_x * w_new / total
        self._my += delta_y * w_new / total
        self._w = total
        self._count += m
        result = raw.copy()
        if self.enabled and self._count >= self.min_samples and self._cxx > 0:
            fitted = self._origin + self._my + (self._cxy / self._cxx) * (x - self._mx)
            use = x + 1 >= self.min_samples
            result[use] = fitted[use]
        result = np.maximum.accumulate(np.maximum(result, self._last_out))
        self._last_out = float(result[-1])
        return result

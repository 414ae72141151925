"""Shared LSL helpers for drivers: IMU stream metadata and drift-free pacing on ``local_clock()``.

:func:`make_stream_info` lives in the core (:mod:`comodo_live.streams.outlet`); re-exported here.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import math
import threading
import time
from collections.abc import Mapping

import numpy as np
import pylsl

from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from comodo_live.streams.names import IMU_TYPE
from comodo_live.streams.outlet import make_stream_info as make_stream_info

CHUNK_S = 0.02  # regular sources push chunks of this duration (latency vs. wake-ups)
IMU_CHANNEL_TYPES: tuple[str, ...] = ("Acceleration",) * 3 + ("AngularVelocity",) * 3


def imu_stream_info(
    name: str, source_id: str, rate_hz: float, meta: Mapping[str, object] | None = None
) -> pylsl.StreamInfo:
    """The 6-channel float32 IMU stream: accel m/s², gyro rad/s (:data:`IMU_CHANNELS` order)."""
    return make_stream_info(
        name,
        IMU_TYPE,
        source_id,
        rate_hz=rate_hz,
        channel_format=pylsl.cf_float32,
        labels=IMU_CHANNELS,
        units=IMU_UNITS,
        channel_types=IMU_CHANNEL_TYPES,
        meta=meta,
    )


def read_channels(info: pylsl.StreamInfo) -> list[dict[str, str]]:
    """Channel metadata (label, unit, type) back from a StreamInfo (keep ``info`` alive)."""
    out: list[dict[str, str]] = []
    channel = info.desc().child("channels").child("channel")
    while not channel.empty():
        out.append({k: channel.child_value(k) for k in ("label", "unit", "type")})
        channel = channel.next_sibling("channel")
    return out


class Schedule:
    """When item ``k = 0, 1, 2, ...`` is due, in seconds after the start.

    Either regular (``rate_hz``: item k at k / rate) or given by one pass of ``offsets_s``
    (non-decreasing, relative to the first), optionally looping with ``period_s`` per pass.

    Args:
        rate_hz: regular rate in Hz.
        offsets_s: (N,) relative times of one pass, seconds.
        period_s: duration of one pass (default: last offset + median interval).
        loop: repeat the pass forever (otherwise there are N items).
    """

    def __init__(
        self,
        rate_hz: float | None = None,
        offsets_s: np.ndarray | None = None,
        period_s: float | None = None,
        loop: bool = True,
    ) -> None:
        if (rate_hz is None) == (offsets_s is None):
            raise ValueError("give exactly one of rate_hz and offsets_s")
        self.loop = loop
        self.rate_hz = rate_hz
        if rate_hz is not None:
            if not (rate_hz > 0 and math.isfinite(rate_hz)):
                raise ValueError(f"rate_hz must be finite and > 0, got {rate_hz}")
            self._offsets = np.zeros(0)
            self.period_s = 0.0
            return
        offsets = np.asarray(offsets_s, dtype=np.float64)
        if offsets.ndim != 1 or offsets.size < 2:
            raise ValueError(f"offsets_s must be 1-D with >= 2 entries, got shape {offsets.shape}")
        if not np.all(np.isfinite(offsets)) or np.any(np.diff(offsets) < 0):
            raise ValueError("offsets_s must be finite and non-decreasing")
        self._offsets = offsets - offsets[0]
        median_dt = float(np.median(np.diff(offsets)))
        self.period_s = float(period_s) if period_s else float(self._offsets[-1] + median_dt)
        if self.period_s <= self._offsets[-1]:
            raise ValueError(f"period_s must exceed the last offset, got {self.period_s}")

    @property
    def length(self) -> int | None:
        """Number of items, or None when unbounded."""
        if self.rate_hz is not None or self.loop:
            return None
        return int(self._offsets.size)

    def times(self, k0: int, k1: int) -> np.ndarray:
        """(k1 - k0,) due times of items k0..k1-1, seconds after the start."""
        k = np.arange(k0, k1)
        if self.rate_hz is not None:
            return k / self.rate_hz
        n = self._offsets.size
        return self._offsets[k % n] + (k // n) * self.period_s

    def count_due(self, elapsed_s: float) -> int:
        """Number of items due at ``elapsed_s`` (due time <= elapsed)."""
        if elapsed_s < 0:
            return 0
        if self.rate_hz is not None:
            return math.floor(elapsed_s * self.rate_hz + 1e-9) + 1
        n = self._offsets.size
        passes = int(elapsed_s // self.period_s)
        within = int(np.searchsorted(self._offsets, elapsed_s - passes * self.period_s, "right"))
        count = passes * n + within
        return min(count, n) if not self.loop else count


class Pacer:
    """Releases the items of a :class:`Schedule` when due on ``pylsl.local_clock()``.

    Timing is absolute (item k at ``t0 + schedule.times(k)``), so sleeping late never
    accumulates drift. If the caller falls more than ``max_lag_s`` behind, the stale items are
    skipped (counted in :attr:`skipped`) rather than pushed in a burst.

    Args:
        schedule: when items are due.
        t0: LSL time of item 0 (default: now).
        max_lag_s: largest backlog released at once, seconds.
        max_items: largest number of items released at once.
        min_items: wait until this many items are due before releasing (chunking), >= 1.
    """

    def __init__(
        self,
        schedule: Schedule,
        t0: float | None = None,
        max_lag_s: float = 1.0,
        max_items: int = 4096,
        min_items: int = 1,
    ) -> None:
        if not 1 <= min_items <= max_items:
            raise ValueError(f"min_items must be in [1, max_items={max_items}], got {min_items}")
        self.schedule = schedule
        self.min_items = min_items
        self.t0 = pylsl.local_clock() if t0 is None else float(t0)
        self.max_lag_s = max_lag_s
        self.max_items = max_items
        self.next_index = 0
        self.skipped = 0

    def lsl_times(self, k0: int, k1: int) -> np.ndarray:
        """(k1 - k0,) LSL due times of items k0..k1-1."""
        return self.t0 + self.schedule.times(k0, k1)

    @property
    def exhausted(self) -> bool:
        length = self.schedule.length
        return length is not None and self.next_index >= length

    def wait_due(self, timeout: float, stop: threading.Event | None = None) -> tuple[int, int]:
        """Wait (at most ``timeout`` s) until item ``next_index`` is due; release what is due.

        Returns:
            ``(k0, k1)``: items k0..k1-1 are due now (empty if the timeout passed first, the
            schedule is exhausted, or ``stop`` was set).
        """
        deadline = time.monotonic() + timeout
        while not self.exhausted:
            k = self.next_index
            last = k + self.min_items - 1
            length = self.schedule.length
            if length is not None:
                last = min(last, length - 1)
            due = float(self.lsl_times(last, last + 1)[0])
            delay = due - pylsl.local_clock()
            if delay > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                wait = min(delay, remaining)
                if stop is not None:
                    if stop.wait(wait):
                        break
                else:
                    time.sleep(wait)
                continue
            elapsed = pylsl.local_clock() - self.t0
            k1 = self.schedule.count_due(elapsed)
            k1 = max(k1, k + 1)
            k_fresh = min(self.schedule.count_due(elapsed - self.max_lag_s), k1 - 1)
            if k_fresh > k:
                self.skipped += k_fresh - k
                k = k_fresh
            k1 = min(k1, k + self.max_items)
            self.next_index = k1
            return k, k1
        return self.next_index, self.next_index


def push_stamped(outlet: pylsl.StreamOutlet, data: np.ndarray, timestamps: np.ndarray) -> None:
    """Push ``data`` (N, C) with one LSL timestamp per sample (``timestamps`` (N,))."""
    n = len(data)
    if n == 0:
        return
    if len(timestamps) != n:
        raise ValueError(
            f"timestamps must have {n} entries (one per sample), got {len(timestamps)}"
        )
    if n == 1:
        outlet.push_chunk(data, float(timestamps[0]))
    else:
        outlet.push_chunk(data, np.asarray(timestamps, dtype=np.float64).tolist())

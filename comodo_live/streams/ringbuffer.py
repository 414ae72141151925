"""Bounded, thread-safe ring buffer of timestamped numeric samples.

One writer (a :class:`~comodo_live.streams.reader.StreamReader` thread) appends chunks; any
number of readers copy out a time interval or the newest samples. The lock is held only while
copying, so a slow reader never stalls the writer for longer than one memcpy.
"""

from __future__ import annotations

import threading

import numpy as np


class RingBuffer:
    """The newest ``capacity`` samples of a stream with their timestamps.

    Each sample carries its LSL timestamp (seconds, after clock correction and dejittering) and
    the ``local_clock()`` time at which it was received (for latency accounting).

    Args:
        capacity: samples kept (older ones are overwritten), >= 1.
        n_channels: channels per sample, >= 1.
        dtype: sample dtype (e.g. ``np.float32``).

    Timestamps must be pushed in non-decreasing order for the interval queries to be exact.
    """

    def __init__(self, capacity: int, n_channels: int, dtype: type | np.dtype = np.float32) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        if n_channels < 1:
            raise ValueError(f"n_channels must be >= 1, got {n_channels}")
        self.capacity = int(capacity)
        self.n_channels = int(n_channels)
        self._timestamps = np.zeros(self.capacity, dtype=np.float64)  # (N,)
        self._received = np.zeros(self.capacity, dtype=np.float64)  # (N,)
        self._samples = np.zeros((self.capacity, self.n_channels), dtype=dtype)  # (N, C)
        self._write = 0  # next slot to write
        self._size = 0
        self._total = 0
        self._lock = threading.Lock()

    @property
    def dtype(self) -> np.dtype:
        return self._samples.dtype

    def __len__(self) -> int:
        return self._size

    @property
    def total(self) -> int:
        """Samples pushed since creation (including overwritten ones)."""
        return self._total

    def push(self, timestamps: np.ndarray, samples: np.ndarray, received: float = 0.0) -> None:
        """Append a chunk.

        Args:
            timestamps: (n,) LSL seconds.
            samples: (n, C) values (cast to the buffer dtype).
            received: ``local_clock()`` at which the chunk arrived, seconds.
        """
        timestamps = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        samples = np.asarray(samples)
        n = timestamps.shape[0]
        if samples.shape != (n, self.n_channels):
            raise ValueError(
                f"samples must have shape ({n}, {self.n_channels}), got {samples.shape}"
            )
        if n == 0:
            return
        if n > self.capacity:  # only the newest fit
            timestamps, samples = timestamps[-self.capacity :], samples[-self.capacity :]
        with self._lock:
            self._total += n
            m = timestamps.shape[0]
            first = min(m, self.capacity - self._write)
            end = self._write + first
            self._timestamps[self._write : end] = timestamps[:first]
            self._samples[self._write : end] = samples[:first]
            self._received[self._write : end] = received
            rest = m - first
            if rest:
                self._timestamps[:rest] = timestamps[first:]
                self._samples[:rest] = samples[first:]
                self._received[:rest] = received
            self._write = (self._write + m) % self.capacity
            self._size = min(self.capacity, self._size + m)

    def clear(self) -> None:
        with self._lock:
            self._write = 0
            self._size = 0

    def _ordered(self, start: int, count: int) -> np.ndarray:
        """Physical slot indices of ``count`` logical samples from logical ``start``."""
        oldest = (self._write - self._size) % self.capacity
        return (oldest + start + np.arange(count)) % self.capacity

    def newest(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the newest ``n`` samples (fewer if fewer are held).

        Returns:
            ``(timestamps (k,), samples (k, C), received (k,))``, oldest first.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        with self._lock:
            count = min(n, self._size)
            idx = self._ordered(self._size - count, count)
            return self._timestamps[idx], self._samples[idx], self._received[idx]

    def between(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the samples with ``t0 <= timestamp <= t1``.

        Returns:
            ``(timestamps (k,), samples (k, C), received (k,))``, oldest first.
        """
        with self._lock:
            idx = self._ordered(0, self._size)
            ts = self._timestamps[idx]
            lo = int(np.searchsorted(ts, t0, side="left"))
            hi = int(np.searchsorted(ts, t1, side="right"))
            sel = idx[lo:hi]
            return ts[lo:hi], self._samples[sel], self._received[sel]

    def time_span(self) -> tuple[float, float] | None:
        """``(oldest, newest)`` timestamp held, or None when empty."""
        with self._lock:
            if self._size == 0:
                return None
            oldest = (self._write - self._size) % self.capacity
            newest = (self._write - 1) % self.capacity
            return float(self._timestamps[oldest]), float(self._timestamps[newest])

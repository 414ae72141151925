"""Bounded replay store of recent (IMU window, teacher embedding) pairs for continual training.

Preallocated rings (memory is fixed at construction); the newest pair overwrites the oldest.
Each pair remembers whether its teacher embedding has entered the COMODO queue yet: the queue
should hold each teacher embedding once, not once per replay.
"""

from __future__ import annotations

import threading

import numpy as np
import torch


class PairStore:
    """Thread-safe ring of ``capacity`` pairs.

    Args:
        capacity: pairs kept.
        channels: IMU channels C.
        samples: samples per window N.
        dim: teacher embedding size D.

    Shape:
        imu: (capacity, C, N) float32; z_v: (capacity, D) float32.
    """

    def __init__(self, capacity: int, channels: int, samples: int, dim: int) -> None:
        for name, value in (
            ("capacity", capacity),
            ("channels", channels),
            ("samples", samples),
            ("dim", dim),
        ):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.capacity = int(capacity)
        self.shape = (int(channels), int(samples))
        self.dim = int(dim)
        self._imu = np.zeros((self.capacity, *self.shape), np.float32)  # (R, C, N)
        self._z = np.zeros((self.capacity, self.dim), np.float32)  # (R, D)
        self._queued = np.zeros(self.capacity, bool)  # (R,)
        self._next = 0
        self._count = 0
        self._added = 0
        self._rejected = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    @property
    def added(self) -> int:
        """Pairs accepted since creation."""
        return self._added

    @property
    def rejected(self) -> int:
        """Pairs refused (wrong shape or not finite)."""
        return self._rejected

    def add(self, imu: np.ndarray, z_v: np.ndarray) -> bool:
        """Store one pair: (C, N) IMU window and (D,) embedding. False (and counted) if invalid."""
        if imu.shape != self.shape or z_v.shape != (self.dim,):
            self._rejected += 1
            return False
        if not (np.isfinite(imu).all() and np.isfinite(z_v).all()):
            self._rejected += 1
            return False
        with self._lock:
            slot = self._next
            self._imu[slot] = imu
            self._z[slot] = z_v
            self._queued[slot] = False
            self._next = (slot + 1) % self.capacity
            self._count = min(self._count + 1, self.capacity)
            self._added += 1
        return True

    def sample(
        self, batch: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A training batch: every not-yet-queued pair (newest first, up to ``batch``) plus
        random older pairs, without repetition.

        Returns:
            slots (B,), imu (B, C, N) copy, z_v (B, D) copy; B = min(batch, len(self)).
        """
        with self._lock:
            count = self._count
            size = min(batch, count)
            order = (self._next - 1 - np.arange(count)) % self.capacity  # newest first
            fresh = order[~self._queued[order]][:size]
            rest = np.setdiff1d(order, fresh, assume_unique=True)
            extra = (
                rng.choice(rest, size - fresh.size, replace=False)
                if size > fresh.size
                else rest[:0]
            )
            slots = np.concatenate([fresh, extra]).astype(np.int64)
            return slots, self._imu[slots].copy(), self._z[slots].copy()

    def mark_queued(self, slots: np.ndarray) -> np.ndarray:
        """Mark ``slots`` as enqueued; returns a bool mask of those that were not yet."""
        with self._lock:
            fresh = ~self._queued[slots]
            self._queued[slots] = True
            return fresh

    def state(self) -> dict[str, object]:
        """Plain-tensor snapshot (oldest first) for checkpoints."""
        with self._lock:
            order = (self._next - self._count + np.arange(self._count)) % self.capacity
            return {
                "imu": torch.from_numpy(self._imu[order].copy()),
                "z_v": torch.from_numpy(self._z[order].copy()),
                "queued": torch.from_numpy(self._queued[order].copy()),
            }

    def load_state(self, state: dict[str, object]) -> None:
        """Refill from a :meth:`state` snapshot (pairs of another shape are ignored)."""
        imu = np.asarray(state["imu"], dtype=np.float32)
        z_v = np.asarray(state["z_v"], dtype=np.float32)
        queued = np.asarray(state["queued"], dtype=bool)
        if imu.ndim != 3 or imu.shape[1:] != self.shape or z_v.shape[1:] != (self.dim,):
            return
        keep = slice(max(0, imu.shape[0] - self.capacity), imu.shape[0])
        imu, z_v, queued = imu[keep], z_v[keep], queued[keep]
        with self._lock:
            n = imu.shape[0]
            self._imu[:n], self._z[:n], self._queued[:n] = imu, z_v, queued
            self._count = n
            self._next = n % self.capacity

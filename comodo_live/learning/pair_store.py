"""Replay store of the session's (IMU window, teacher embedding) pairs for continual training.

Pairs are small (6 × 100 floats + a 128-d embedding, ~3 KB), so the store keeps the whole
session up to ``capacity`` pairs (default 50,000: ~7 hours of camera at hop 0.5 s, ~145 MB);
storage grows by doubling as pairs arrive, and only at the cap does the newest pair overwrite
the oldest. Each pair remembers whether its teacher embedding has entered the COMODO queue yet:
the queue should hold each teacher embedding once, not once per replay. Batches take every
not-yet-queued pair first (newest first), the rest uniformly over all stored pairs.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

INITIAL_SLOTS = 256  # storage allocated at first; doubled while below capacity


class PairStore:
    """Thread-safe store of up to ``capacity`` pairs (a ring once full).

    Args:
        capacity: pairs kept at most.
        channels: IMU channels C.
        samples: samples per window N.
        dim: teacher embedding size D.

    Shape:
        imu: (S, C, N) float32; z_v: (S, D) float32; S = allocated slots <= capacity.
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
        slots = min(self.capacity, INITIAL_SLOTS)
        self._imu = np.zeros((slots, *self.shape), np.float32)  # (S, C, N)
        self._z = np.zeros((slots, self.dim), np.float32)  # (S, D)
        self._queued = np.zeros(slots, bool)  # (S,)
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
            if self._count == self._queued.size < self.capacity:
                self._grow(min(self.capacity, 2 * self._queued.size))
            slot = self._next
            self._imu[slot] = imu
            self._z[slot] = z_v
            self._queued[slot] = False
            self._next = (slot + 1) % self._queued.size
            self._count = min(self._count + 1, self.capacity)
            self._added += 1
        return True

    def _grow(self, slots: int) -> None:
        """Reallocate to ``slots`` (only before the ring wrapped: slots [0, count) in order)."""
        n = self._count
        imu = np.zeros((slots, *self.shape), np.float32)
        z = np.zeros((slots, self.dim), np.float32)
        queued = np.zeros(slots, bool)
        imu[:n], z[:n], queued[:n] = self._imu[:n], self._z[:n], self._queued[:n]
        self._imu, self._z, self._queued = imu, z, queued
        self._next = n % slots

    def sample(
        self, batch: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A training batch: every not-yet-queued pair (newest first, up to ``batch``) plus
        pairs drawn uniformly from all the others, without repetition.

        Returns:
            slots (B,), imu (B, C, N) copy, z_v (B, D) copy; B = min(batch, len(self)).
        """
        with self._lock:
            count = self._count  # stored pairs occupy slots [0, count)
            size = min(batch, count)
            unqueued = np.flatnonzero(~self._queued[:count])
            age = (self._next - 1 - unqueued) % self._queued.size  # 0 = newest
            fresh = unqueued[np.argsort(age, kind="stable")[:size]]
            extra = np.zeros(0, np.int64)
            if size > fresh.size:
                others = np.ones(count, bool)
                others[fresh] = False
                rest = np.flatnonzero(others)
                extra = rest[rng.choice(rest.size, size - fresh.size, replace=False)]
            slots = np.concatenate([fresh, extra]).astype(np.int64)
            return slots, self._imu[slots].copy(), self._z[slots].copy()

    def queued_mask(self, slots: np.ndarray) -> np.ndarray:
        """(B,) bool: which of ``slots`` already entered the queue (nothing is marked)."""
        with self._lock:
            return self._queued[slots].copy()

    def mark_queued(self, slots: np.ndarray) -> np.ndarray:
        """Mark ``slots`` as enqueued; returns a bool mask of those that were not yet."""
        with self._lock:
            fresh = ~self._queued[slots]
            self._queued[slots] = True
            return fresh

    def state(self) -> dict[str, object]:
        """Plain-tensor snapshot (oldest first) for checkpoints."""
        with self._lock:
            order = (self._next - self._count + np.arange(self._count)) % self._queued.size
            return {
                "imu": torch.from_numpy(self._imu[order].copy()),
                "z_v": torch.from_numpy(self._z[order].copy()),
                "queued": torch.from_numpy(self._queued[order].copy()),
                "added": self._added,
            }

    def load_state(self, state: dict[str, object]) -> None:
        """Refill from a :meth:`state` snapshot (pairs of another shape are ignored).

        ``added`` (pairs seen in the session, which the round schedule counts) is restored when
        the snapshot has it, else it is the number of pairs loaded."""
        imu = np.asarray(state["imu"], dtype=np.float32)
        z_v = np.asarray(state["z_v"], dtype=np.float32)
        queued = np.asarray(state["queued"], dtype=bool)
        if imu.ndim != 3 or imu.shape[1:] != self.shape or z_v.shape[1:] != (self.dim,):
            return
        keep = slice(max(0, imu.shape[0] - self.capacity), imu.shape[0])
        imu, z_v, queued = imu[keep], z_v[keep], queued[keep]
        with self._lock:
            n = imu.shape[0]
            slots = min(self.capacity, max(INITIAL_SLOTS, n))
            self._imu = np.zeros((slots, *self.shape), np.float32)
            self._z = np.zeros((slots, self.dim), np.float32)
            self._queued = np.zeros(slots, bool)
            self._imu[:n], self._z[:n], self._queued[:n] = imu, z_v, queued
            self._count = n
            self._next = n % slots
            self._added = max(n, int(state.get("added", n)))  # type: ignore[call-overload]

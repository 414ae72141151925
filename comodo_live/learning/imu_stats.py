"""Per-channel IMU normalisation statistics, gathered from the first windows of a session.

The student normalises each channel with a fixed (mean, std) kept in its state; they are
estimated once from the first ``windows`` valid IMU windows (camera on or off) and then frozen,
so the input distribution does not drift under the continually trained student.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

MIN_STD = 1e-3  # floor for channels that barely move (e.g. a gyro at rest), input units


class ChannelStats:
    """Accumulates (C, N) windows until ``windows`` were seen, then holds (C,) mean and std.

    Args:
        channels: C.
        windows: windows to accumulate before the statistics are ready.
    """

    def __init__(self, channels: int, windows: int) -> None:
        if channels < 1 or windows < 1:
            raise ValueError(f"channels and windows must be >= 1, got {channels}, {windows}")
        self.channels = int(channels)
        self.windows = int(windows)
        self._sum = np.zeros(channels, np.float64)
        self._sumsq = np.zeros(channels, np.float64)
        self._n = 0  # samples
        self._seen = 0  # windows
        self._mean: np.ndarray | None = None
        self._std: np.ndarray | None = None
        self.applied = False  # set by the trainer once the student uses them
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._mean is not None

    @property
    def seen(self) -> int:
        """Valid windows folded in so far (``windows`` once ready)."""
        return self._seen

    def observe(self, data: np.ndarray) -> None:
        """Fold in one (C, N) window (ignored once ready, or when not finite)."""
        if self.ready or data.ndim != 2 or data.shape[0] != self.channels:
            return
        if not np.isfinite(data).all():
            return
        with self._lock:
            if self._mean is not None:
                return
            x = data.astype(np.float64)
            self._sum += x.sum(axis=1)
            self._sumsq += (x**2).sum(axis=1)
            self._n += x.shape[1]
            self._seen += 1
            if self._seen >= self.windows:
                mean = self._sum / self._n
                var = np.maximum(self._sumsq / self._n - mean**2, 0.0)
                self._mean = mean.astype(np.float32)
                self._std = np.maximum(np.sqrt(var), MIN_STD).astype(np.float32)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(C,) mean and (C,) std (RuntimeError before ready)."""
        if self._mean is None or self._std is None:
            raise RuntimeError("IMU channel statistics are not ready yet")
        return self._mean.copy(), self._std.copy()

    def state(self) -> dict[str, object]:
        if self._mean is None or self._std is None:
            return {"ready": False}
        return {
            "ready": True,
            "mean": torch.from_numpy(self._mean.copy()),
            "std": torch.from_numpy(self._std.copy()),
        }

    def load_state(self, state: dict[str, object]) -> None:
        """Restore; ready statistics count as already applied (the student state holds them)."""
        if not state.get("ready"):
            return
        with self._lock:
            self._mean = np.asarray(state["mean"], dtype=np.float32)
            self._std = np.asarray(state["std"], dtype=np.float32)
            self.applied = True

"""Local (in-process) hand-off of camera frames: egocentric video never travels over LSL by default.

The camera driver (or the replay player) publishes each downscaled frame here together with the
LSL capture timestamp it pushed on the frame-index stream; consumers (teacher worker, GUI preview)
read frames by time interval. A bounded ring: the oldest frames are dropped.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Frame:
    """One camera frame. ``rgb``: (H, W, 3) uint8; ``timestamp``: LSL seconds; ``index``: file frame."""

    index: int
    timestamp: float
    rgb: np.ndarray


class FrameBus:
    """Bounded, thread-safe ring of recent frames from one camera source.

    Args:
        source_id: the LSL ``source_id`` of the matching frame-index stream.
        capacity: frames kept (e.g. 10 s at 30 fps = 300).
    """

    def __init__(self, source_id: str, capacity: int = 300) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.source_id = source_id
        self._frames: deque[Frame] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._published = 0

    @property
    def published(self) -> int:
        """Frames published since creation."""
        return self._published

    def publish(self, index: int, timestamp: float, rgb: np.ndarray) -> None:
        with self._lock:
            self._frames.append(Frame(index, timestamp, rgb))
            self._published += 1

    def clear(self) -> None:
        """Drop every frame (camera switched off: no last frame lingers)."""
        with self._lock:
            self._frames.clear()

    def latest(self) -> Frame | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def between(self, t0: float, t1: float) -> list[Frame]:
        """Frames with ``t0 <= timestamp <= t1`` in time order."""
        with self._lock:
            return [f for f in self._frames if t0 <= f.timestamp <= t1]


_registry: dict[str, FrameBus] = {}
_registry_lock = threading.Lock()


def frame_bus(source_id: str, capacity: int = 300) -> FrameBus:
    """The process-wide bus for ``source_id`` (created on first use)."""
    with _registry_lock:
        bus = _registry.get(source_id)
        if bus is None:
            bus = _registry[source_id] = FrameBus(source_id, capacity)
        return bus


def drop_frame_bus(source_id: str) -> None:
    with _registry_lock:
        _registry.pop(source_id, None)

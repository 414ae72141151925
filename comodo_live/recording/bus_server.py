"""What a replay's frame servers share: frames on the in-process frame bus, the camera toggle,
and a start on the player's clock (video file: :class:`~comodo_live.recording.frameserver.
FrameServer`; video carried in the XDF: :class:`~comodo_live.recording.rawvideo.RawFrameServer`).
"""

from __future__ import annotations

from typing import TypeVar

import pylsl

from comodo_live.streams.frames import FrameBus
from comodo_live.worker import Worker

_B = TypeVar("_B", bound="BusFrameServer")


class BusFrameServer(Worker):
    """A replay frame server's camera switch and start; subclasses serve ``self.bus``."""

    bus: FrameBus
    _camera_on: bool = True
    _t0: float = 0.0

    def set_camera(self, on: bool) -> None:
        """Camera off: no frame is served and the bus is emptied; on: serving resumes."""
        self._camera_on = on
        if not on:
            self.bus.clear()

    def start_at(self: _B, t0: float, camera_on: bool) -> _B:
        """Start serving a replay whose first pass begins at LSL time ``t0``."""
        self._t0 = float(t0)
        self._camera_on = camera_on
        return self.start()

    def _wait_until(self, due: float) -> bool:
        """Sleep until LSL time ``due``; False if stopped."""
        while not self._stop_event.is_set():
            delay = due - pylsl.local_clock()
            if delay <= 0:
                return True
            self._stop_event.wait(min(delay, 0.05))
        return False

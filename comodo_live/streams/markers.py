"""String marker stream for activity labels and mode changes (camera on/off).

Vocabulary (:mod:`comodo_live.streams.names`): ``label:start:<activity>``, ``label:stop``,
``activity:<name>`` (synthetic ground truth), ``camera:on``, ``camera:off``; and from the camera
driver ``video:start:<file name>`` / ``video:stop:<file name>`` (:data:`VIDEO_START`,
:data:`VIDEO_STOP`). Labels from other lab software arrive the same way: any LSL string stream
of type ``Markers``. The engine's own marker stream is one :class:`MarkerOutlet`; the drivers
(camera, synthetic session) push on theirs. CLI: ``python -m drivers.markers``.
"""

from __future__ import annotations

import logging
import threading

import pylsl

from comodo_live.streams import names
from comodo_live.streams.outlet import make_stream_info
from comodo_live.worker import StartStop

logger = logging.getLogger(__name__)

VIDEO_START = "video:start:"  # + video file name: frame-index values now count frames of that file
VIDEO_STOP = "video:stop:"  # + video file name: the file was finished

_EXACT = (names.MARKER_LABEL_STOP, names.MARKER_CAMERA_ON, names.MARKER_CAMERA_OFF)
_PREFIXES = (names.MARKER_LABEL_START, names.MARKER_ACTIVITY, VIDEO_START, VIDEO_STOP)


def known_marker(text: str) -> bool:
    """Whether ``text`` belongs to comodo-live's marker vocabulary."""
    if text in _EXACT:
        return True
    return any(text.startswith(p) and len(text) > len(p) for p in _PREFIXES)


class MarkerOutlet(StartStop):
    """An irregular LSL string stream of type ``Markers``.

    No thread of its own: ``start()`` creates the outlet, ``stop()`` destroys it. Pushing is
    thread-safe (the camera driver and the synthetic script push from their threads).

    Args:
        source_id: unique LSL source id.
        name: stream name.
    """

    def __init__(self, source_id: str, name: str = "Markers") -> None:
        if not source_id:
            raise ValueError(f"source_id must be a non-empty string, got {source_id!r}")
        self.source_id = source_id
        self.name = name
        self._outlet: pylsl.StreamOutlet | None = None
        self._lock = threading.Lock()
        self.pushed = 0

    @property
    def running(self) -> bool:
        return self._outlet is not None

    def start(self) -> MarkerOutlet:
        with self._lock:
            if self._outlet is None:
                info = make_stream_info(
                    self.name,
                    names.MARKER_TYPE,
                    self.source_id,
                    rate_hz=0.0,
                    channel_format=pylsl.cf_string,
                    labels=("marker",),
                    meta={"vocabulary": " ".join((*_EXACT, *(p + "<name>" for p in _PREFIXES)))},
                )
                self._outlet = pylsl.StreamOutlet(info)
        return self

    def stop(self) -> None:
        with self._lock:
            self._outlet = None

    def push(self, text: str, timestamp: float | None = None) -> float:
        """Push one marker; returns its LSL timestamp (``timestamp`` or now)."""
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty string, got {text!r}")
        stamp = pylsl.local_clock() if timestamp is None else float(timestamp)
        with self._lock:
            if self._outlet is None:
                raise RuntimeError("MarkerOutlet.push() before start()")
            self._outlet.push_sample([text], stamp)
            self.pushed += 1
        return stamp

    def wait_for_consumers(self, timeout: float) -> bool:
        """Block until an inlet is connected (or ``timeout`` s passed)."""
        outlet = self._outlet
        return outlet is not None and bool(outlet.wait_for_consumers(timeout))

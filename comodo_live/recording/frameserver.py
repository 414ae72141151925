"""Serves a session video's frames on the local frame bus at the replayed frame-index times.

The replay twin of the camera driver's frame hand-off: decodes ahead, downscales to the
teacher size (RGB), and publishes each frame on :func:`~comodo_live.streams.frames.frame_bus`
of the replayed frame-index stream exactly when that stream's sample is due, stamped with the
same LSL time. Frames more than ``max_late_s`` late are skipped (counted), never bunched.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pylsl

from comodo_live.recording.bus_server import BusFrameServer
from comodo_live.recording.track import Track
from comodo_live.recording.xdfmeta import desc_text
from comodo_live.streams.frames import drop_frame_bus, frame_bus

logger = logging.getLogger(__name__)


class FrameServer(BusFrameServer):
    """Decodes the videos and publishes each frame when its frame-index sample is due.

    A :class:`~comodo_live.worker.Worker` owned by the player: :meth:`start_at` starts the
    thread for a pass that begins at an LSL time; ``stop()`` joins it, releases the video and
    drops the frame bus.

    Args:
        videos: per frame-index sample, the video file its value indexes (None: not served).
        track: the replayed ``VideoFrameIndex`` track (schedule and frame indices).
        period_s: duration of one replay pass, seconds (for ``loop``).
        loop: follow the player's passes.
        frame_size: (width, height) of served frames; default from the stream's
            ``desc/teacher_width`` / ``teacher_height``, else 160×160.
        max_late_s: frames later than this are skipped, seconds.
    """

    def __init__(
        self,
        videos: list[Path | None],
        track: Track,
        period_s: float,
        loop: bool,
        frame_size: tuple[int, int] | None = None,
        max_late_s: float = 0.5,
    ) -> None:
        if len(videos) != len(track):
            raise ValueError(
                f"videos must have one entry per frame-index sample ({len(track)}), "
                f"got {len(videos)}"
            )
        super().__init__("replay-frames")
        self.videos = videos
        self.video = next(v for v in videos if v is not None)  # the first file served
        self.source_id = track.source_id
        self._offsets = track.offsets  # (N,) seconds after the pass start
        self._indices = np.asarray(track.data, dtype=np.float64).reshape(-1).astype(np.int64)
        self._period = period_s
        self.loop = loop
        if frame_size is None:
            width = desc_text(track.xml, "teacher_width") if track.xml else None
            height = desc_text(track.xml, "teacher_height") if track.xml else None
            frame_size = (int(width), int(height)) if width and height else (160, 160)
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.max_late_s = max_late_s
        self.bus = frame_bus(self.source_id)
        self._camera_on = True
        self._t0 = 0.0  # LSL time of the first pass's start
        self.published = 0
        self.skipped_late = 0
        self.decode_errors = 0
        self._capture: cv2.VideoCapture | None = None
        self._capture_path: Path | None = None
        self._position = 0  # index of the next frame the capture returns

    def _open(self) -> None:
        self.bus = frame_bus(self.source_id)  # registered again after a stop()

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture, self._capture_path = None, None
        self.bus.clear()
        drop_frame_bus(self.source_id)

    def _capture_of(self, path: Path) -> cv2.VideoCapture:
        if self._capture_path != path or self._capture is None:
            if self._capture is not None:
                self._capture.release()
            self._capture = cv2.VideoCapture(str(path))
            if not self._capture.isOpened():
                raise OSError(f"cannot open session video {path}")
            self._capture_path = path
            self._position = 0
        return self._capture

    def _loop(self) -> None:
        pass_t0 = self._t0
        items = list(zip(self._offsets.tolist(), self._indices.tolist(), self.videos, strict=True))
        while not self._stop_event.is_set():
            for offset, index, video in items:
                due = pass_t0 + offset
                late = pylsl.local_clock() - due > self.max_late_s
                if index < 0 or video is None or not self._camera_on or late:
                    if late and index >= 0 and video is not None and self._camera_on:
                        self.skipped_late += 1
                    if not self._wait_until(due):
                        return
                    continue
                capture = self._capture_of(video)
                position = self._position
                if index != position:
                    if index < position or index - position > 60:
                        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                    else:
                        for _ in range(index - position):
                            capture.grab()
                    position = index
                ok, frame = capture.read()
                if not ok:
                    self.decode_errors += 1
                    self._position = -(10**9)  # unknown: seek next time
                    continue
                self._position = index + 1
                small = cv2.resize(frame, self.frame_size, interpolation=cv2.INTER_AREA)
                small = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)  # (h, w, 3) uint8
                if not self._wait_until(due):
                    return
                if self._camera_on:
                    self.bus.publish(index, due, small)
                    self.published += 1
            if not self.loop:
                return
            pass_t0 += self._period

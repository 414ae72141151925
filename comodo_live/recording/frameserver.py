"""Serves a session video's frames on the local frame bus at the replayed frame-index times.

The replay twin of the camera driver's frame hand-off: decodes ahead, downscales to the
teacher size (RGB), and publishes each frame on :func:`~comodo_live.streams.frames.frame_bus`
of the replayed frame-index stream exactly when that stream's sample is due, stamped with the
same LSL time. Frames more than ``max_late_s`` late are skipped (counted), never bunched.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pylsl

from comodo_live.recording.xdfmeta import desc_text
from comodo_live.streams.frames import drop_frame_bus, frame_bus

if TYPE_CHECKING:
    from comodo_live.recording.player import Track

logger = logging.getLogger(__name__)


class FrameServer:
    """Decodes the videos and publishes each frame when its frame-index sample is due.

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
            raise ValueError(f"videos must have one entry per frame-index sample ({len(track)})")
        self.videos = videos
        self.video = next(v for v in videos if v is not None)  # the first file served
        self.source_id = track.source_id
        self._offsets = track.offsets  # (N,) seconds after the pass start
        self._indices = np.asarray(track.data, dtype=np.float64).reshape(-1).astype(np.int64)
        self._period = period_s
        self._loop = loop
        if frame_size is None:
            width = desc_text(track.xml, "teacher_width") if track.xml else None
            height = desc_text(track.xml, "teacher_height") if track.xml else None
            frame_size = (int(width), int(height)) if width and height else (160, 160)
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.max_late_s = max_late_s
        self.bus = frame_bus(self.source_id)
        self._camera_on = True
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0
        self.skipped_late = 0
        self.decode_errors = 0
        self.error: BaseException | None = None
        self._capture: cv2.VideoCapture | None = None
        self._capture_path: Path | None = None
        self._position = 0  # index of the next frame the capture returns

    def set_camera(self, on: bool) -> None:
        self._camera_on = on
        if not on:
            self.bus.clear()
        self._wake.set()

    def start(self, t0: float, camera_on: bool) -> None:
        self.bus = frame_bus(self.source_id)  # registered again after a stop()
        self._camera_on = camera_on
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(t0,), name="replay-frames")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None
        self.bus.clear()
        drop_frame_bus(self.source_id)

    def _wait_until(self, due: float) -> bool:
        """Sleep until LSL time ``due``; False if stopped."""
        while not self._stop.is_set():
            delay = due - pylsl.local_clock()
            if delay <= 0:
                return True
            self._stop.wait(min(delay, 0.05))
        return False

    def _run(self, t0: float) -> None:
        try:
            self._serve(t0)
        except Exception as exc:
            self.error = exc
            logger.exception("serving frames of %s stopped", self.video)
            if os.environ.get("COMODO_RAISE") == "1":
                raise
        finally:
            if self._capture is not None:
                self._capture.release()
            self._capture, self._capture_path = None, None

    def _open(self, path: Path) -> cv2.VideoCapture:
        if self._capture_path != path or self._capture is None:
            if self._capture is not None:
                self._capture.release()
            self._capture = cv2.VideoCapture(str(path))
            if not self._capture.isOpened():
                raise OSError(f"cannot open session video {path}")
            self._capture_path = path
            self._position = 0
        return self._capture

    def _serve(self, pass_t0: float) -> None:
        items = list(zip(self._offsets.tolist(), self._indices.tolist(), self.videos, strict=True))
        while not self._stop.is_set():
            for offset, index, video in items:
                due = pass_t0 + offset
                late = pylsl.local_clock() - due > self.max_late_s
                if index < 0 or video is None or not self._camera_on or late:
                    if late and index >= 0 and video is not None and self._camera_on:
                        self.skipped_late += 1
                    if not self._wait_until(due):
                        return
                    continue
                capture = self._open(video)
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
            if not self._loop:
                return
            pass_t0 += self._period

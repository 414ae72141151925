"""Frame sources for :class:`drivers.camera.CameraDriver`: OpenCV devices/files, or anything alike.

A source hands the driver full-resolution BGR frames (OpenCV's order); the driver paces sources
whose ``paced`` is true (video files, synthetic scenes) on ``local_clock()``, downsizes, stamps,
publishes and records them. The synthetic scene (:mod:`drivers.synthetic_scene`) is another
source, so the synthetic demo goes through the same camera code path as a real camera.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np


class FrameSource(ABC):
    """What a :class:`~drivers.camera.CameraDriver` reads frames from.

    Attributes:
        fps: nominal frame rate in Hz, or None when unknown (known after ``open()`` for files).
        paced: the driver must pace reads at ``fps`` (files, synthetic); a device paces itself.
        is_file: frames come from a file (loops, seeks).
        stamps_at_due_time: frames depict their scheduled time exactly (synthetic), so the driver
            stamps them with it instead of the time ``read()`` returned.
        t0: LSL time of frame 0 of the pacing schedule, or None (the driver's start time).
        frame_size: (width, height) of full-resolution frames in pixels, or None when unknown.
        frame_count: frames in a file, or None.
        description: short text for stream metadata.
    """

    fps: float | None = None
    paced: bool = False
    is_file: bool = False
    stamps_at_due_time: bool = False
    t0: float | None = None
    frame_size: tuple[int, int] | None = None
    frame_count: int | None = None
    description: str = "frames"

    @abstractmethod
    def open(self) -> None:
        """Acquire the device/file. Raises on failure."""

    @abstractmethod
    def read(self, due_time: float) -> np.ndarray | None:
        """The next frame, (H, W, 3) uint8 BGR at full resolution; None at the end of a file.

        Args:
            due_time: LSL time the frame is scheduled for (paced sources), else ``local_clock()``.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the device/file (idempotent)."""

    @property
    @abstractmethod
    def is_open(self) -> bool: ...

    def seek(self, frame: int) -> None:  # noqa: B027  (optional hook)
        """Files: continue at ``frame`` (0-based). Others ignore it."""

    def skip(self, n: int) -> None:  # noqa: B027  (optional hook)
        """Drop ``n`` frames without decoding them where possible (keeping pace)."""


class OpenCvFrameSource(FrameSource):
    """An OpenCV capture: a device index (``0``) or a video file path.

    Args:
        source: device index, or path of a video file.
        fps: device: frame rate to request; file: ignored (the file's rate is used).
    """

    def __init__(self, source: int | str | Path, fps: float | None = None) -> None:
        if isinstance(source, (str, Path)) and not str(source).isdigit():
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"source video file {str(path)!r} does not exist")
            self.source: int | str = str(path)
            self.is_file = self.paced = True
            self.description = f"file:{path.name}"
        else:
            index = int(str(source))
            if index < 0:
                raise ValueError(f"source device index must be >= 0, got {index}")
            self.source = index
            self.description = f"device:{index}"
        self.requested_fps = fps
        self._capture: cv2.VideoCapture | None = None

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def open(self) -> None:
        capture = cv2.VideoCapture(self.source)
        if not capture.isOpened():
            capture.release()
            raise OSError(
                f"cannot open video source {self.source!r} (expected a camera device index or a "
                "readable video file; in the app set camera.source, e.g. --set camera.source=FILE.mp4, "
                "or run the demo with --demo)"
            )
        if not self.is_file and self.requested_fps:
            capture.set(cv2.CAP_PROP_FPS, float(self.requested_fps))
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0 < fps < 1000 else None
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.frame_size = (width, height) if width > 0 and height > 0 else None
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if self.is_file else 0
        self.frame_count = count if count > 0 else None
        self._capture = capture

    def read(self, due_time: float) -> np.ndarray | None:
        if self._capture is None:
            raise RuntimeError("OpenCvFrameSource.read() before open()")
        ok, frame = self._capture.read()
        return frame if ok else None

    def seek(self, frame: int) -> None:
        if self._capture is not None and self.is_file:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, float(frame))

    def skip(self, n: int) -> None:
        if self._capture is not None:
            for _ in range(n):
                if not self._capture.grab():
                    break

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

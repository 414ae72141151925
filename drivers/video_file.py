"""The session video file the camera writes: full-resolution frames, counted from 0."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

CODEC_BY_SUFFIX = {".avi": "MJPG", ".mp4": "mp4v", ".mkv": "FFV1"}


def codec_for(path: Path, codec: str | None = None) -> str:
    """The FourCC for ``path`` (``.avi`` MJPG, ``.mp4`` mp4v, ``.mkv`` FFV1) unless given."""
    if codec is not None:
        if len(codec) != 4:
            raise ValueError(f"codec must be a 4-character FourCC (e.g. 'MJPG'), got {codec!r}")
        return codec
    try:
        return CODEC_BY_SUFFIX[path.suffix.lower()]
    except KeyError:
        raise ValueError(
            f"video file suffix must be one of {sorted(CODEC_BY_SUFFIX)}, got {path.name!r}"
        ) from None


class VideoFile:
    """A cv2.VideoWriter that counts frames: the i-th frame written is frame i of the file.

    Args:
        path: output file (``.avi``, ``.mp4`` or ``.mkv``); its folder must exist.
        fps: frame rate written into the file header, Hz.
        frame_size: (width, height) in pixels; frames of another size are resized to it.
        codec: FourCC; default from the suffix.
    """

    def __init__(
        self, path: Path, fps: float, frame_size: tuple[int, int], codec: str | None = None
    ) -> None:
        self.path = Path(path)
        self.codec = codec_for(self.path, codec)
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"video file folder {str(self.path.parent)!r} does not exist")
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        fourcc = cv2.VideoWriter.fourcc(*self.codec)
        self._writer: cv2.VideoWriter | None = cv2.VideoWriter(
            str(self.path), fourcc, float(fps), self.frame_size
        )
        if not self._writer.isOpened():
            self._writer = None
            raise OSError(f"cannot write video file {str(self.path)!r} with codec {self.codec}")
        self.frames_written = 0

    def write(self, frame_bgr: np.ndarray) -> int:
        """Write one (H, W, 3) uint8 BGR frame; returns its index in the file."""
        if self._writer is None:
            raise RuntimeError(f"video file {self.path.name} is closed")
        if (frame_bgr.shape[1], frame_bgr.shape[0]) != self.frame_size:
            frame_bgr = cv2.resize(frame_bgr, self.frame_size, interpolation=cv2.INTER_AREA)
        self._writer.write(frame_bgr)
        self.frames_written += 1
        return self.frames_written - 1

    def close(self) -> int:
        """Finish the file (idempotent); returns the number of frames written."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        return self.frames_written

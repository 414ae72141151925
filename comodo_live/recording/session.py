"""Session folder conventions: one XDF file, plus the camera's video file beside it.

A session folder (``recordings/<name>/``) holds ``session.xdf`` and the full-resolution video
whose frames map one-to-one to the ``VideoFrameIndex`` stream's sample values; that stream's
``desc/video_file`` names the video (relative to the folder).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from comodo_live.recording.xdfmeta import desc_text
from comodo_live.streams.names import MARKER_VIDEO_START

logger = logging.getLogger(__name__)

SESSION_XDF = "session.xdf"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv")


def load_session_xdf(xdf: Path) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """``pyxdf.load_xdf`` (no dejitter) and the raw stream headers of a recording.

    Raises:
        ValueError: the file is not a readable XDF recording (truncated, corrupt, foreign),
            in one line naming the file and what the reader found.
    """
    import pyxdf

    from comodo_live.recording.xdfmeta import read_stream_headers

    try:
        streams, _ = pyxdf.load_xdf(str(xdf), dejitter_timestamps=False)
        headers = read_stream_headers(xdf)
    except Exception as exc:  # pyxdf raises anything (ParseError, struct.error, KeyError, ...)
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        raise ValueError(
            f"{xdf} is not a readable XDF recording (truncated or corrupt?): "
            f"{type(exc).__name__}: {reason}"
        ) from exc
    return streams, headers


def find_session(path: Path) -> tuple[Path, Path]:
    """``(xdf_file, session_folder)`` for an ``.xdf`` file or a folder holding one.

    Raises:
        FileNotFoundError: no such file, or no XDF file in the folder.
        ValueError: several XDF files in the folder and none named ``session.xdf``.
    """
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() != ".xdf":
            raise ValueError(f"session must be an .xdf file or a folder, got {path}")
        return path, path.parent
    if not path.is_dir():
        raise FileNotFoundError(f"no session at {path} (expected an .xdf file or a folder)")
    found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".xdf" and p.is_file())
    if not found:
        raise FileNotFoundError(f"no .xdf file in session folder {path}")
    if len(found) > 1:
        named = [p for p in found if p.name == SESSION_XDF]
        if not named:
            names = ", ".join(p.name for p in found)
            raise ValueError(f"several .xdf files in {path} ({names}); pass one of them")
        found = named
    return found[0], path


def videos_per_frame(
    folder: Path, frame_index_xml: str, frame_times: np.ndarray, markers: list[tuple[float, str]]
) -> list[Path | None]:
    """The video file each frame-index sample refers to (None: unknown or missing).

    Frame indices restart at 0 in each new video file. The camera announces files started after
    its stream was created with ``video:start:<file name>`` markers; a sample belongs to the
    file of the last such marker at or before it, else to :func:`find_video`'s file.

    Args:
        folder: the session folder.
        frame_index_xml: the frame-index stream's header XML.
        frame_times: (N,) timestamps of the frame-index samples, seconds.
        markers: ``(timestamp, text)`` of every string marker in the session.
    """
    starts = sorted(
        (t, text[len(MARKER_VIDEO_START) :])
        for t, text in markers
        if text.startswith(MARKER_VIDEO_START)
    )
    start_times = np.array([t for t, _ in starts])
    which = np.searchsorted(start_times, frame_times, side="right") - 1  # (N,) -1 = before any
    default = find_video(folder, frame_index_xml) if np.any(which < 0) else None
    files = [Path(folder) / name for _, name in starts]
    present = [f if f.is_file() else None for f in files]
    for f, ok in zip(files, present, strict=True):
        if ok is None:
            logger.warning("video file %s announced by a video:start marker is missing", f)
    return [default if k < 0 else present[k] for k in which.tolist()]


def find_video(folder: Path, frame_index_xml: str) -> Path | None:
    """The session video named by the frame-index stream's metadata, else the only one there."""
    name = (
        desc_text(frame_index_xml, "video_file", "video/file", "filename")
        if frame_index_xml
        else None
    )
    if name:
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
        logger.warning("video file %s named in the frame-index stream is missing", candidate)
    videos = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if len(videos) == 1:
        return videos[0]
    if videos:
        logger.warning("several video files in %s and none named by the stream: no frames", folder)
    return None

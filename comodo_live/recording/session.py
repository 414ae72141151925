"""Session folder conventions: one XDF file, plus the camera's video file beside it.

A session folder (``recordings/<name>/``) holds ``session.xdf`` and the full-resolution video
whose frames map one-to-one to the ``VideoFrameIndex`` stream's sample values; that stream's
``desc/video_file`` names the video (relative to the folder).
"""

from __future__ import annotations

import logging
from pathlib import Path

from comodo_live.recording.xdfmeta import desc_text

logger = logging.getLogger(__name__)

SESSION_XDF = "session.xdf"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv")


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


def find_video(folder: Path, frame_index_xml: str) -> Path | None:
    """The session video named by the frame-index stream's metadata, else the only one there."""
    name = desc_text(frame_index_xml, "video_file", "video/file", "filename") if frame_index_xml else None
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

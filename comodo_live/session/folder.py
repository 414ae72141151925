"""The session folder: ``<root>/<YYYYmmdd-HHMMSS>-<name>/`` with the XDF recording, the video
file, ``checkpoints/``, ``metrics.jsonl`` and the session's ``config.toml``."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

from comodo_live.config import AppConfig, dump_toml

XDF_NAME = "session.xdf"
VIDEO_NAME = "video.avi"
METRICS_NAME = "metrics.jsonl"
CONFIG_NAME = "config.toml"
CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_NAME = "latest.pt"


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.")
    return cleaned or "session"


def create_session_dir(root: str | Path, name: str, config: AppConfig | None = None) -> Path:
    """Make a new, unique session folder (and ``checkpoints/``); write ``config.toml``."""
    root = Path(root)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = root / f"{stamp}-{_safe(name)}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    (path / CHECKPOINT_DIR).mkdir(parents=True)
    if config is not None:
        (path / CONFIG_NAME).write_text(dump_toml(config))
    return path


def checkpoint_path(session_dir: str | Path) -> Path:
    """Where a session's resumable checkpoint lives."""
    return Path(session_dir) / CHECKPOINT_DIR / CHECKPOINT_NAME


def resolve_resume(spec: str, root: str | Path, exclude: Path | None = None) -> Path | None:
    """The checkpoint file to resume from.

    Args:
        spec: ``""`` (none), ``"latest"`` (newest session under ``root`` with a checkpoint), a
            session folder, or a checkpoint file.
        root: folder of session folders.
        exclude: a session folder to ignore for ``"latest"`` (the one just created).

    Raises:
        FileNotFoundError: the named folder/file has no checkpoint.
    """
    if not spec:
        return None
    if spec == "latest":
        candidates = sorted(
            (
                p
                for p in Path(root).glob(f"*/{CHECKPOINT_DIR}/{CHECKPOINT_NAME}")
                if p.parents[1] != exclude
            ),
            key=lambda p: p.stat().st_mtime,
        )
        return candidates[-1] if candidates else None
    path = Path(spec)
    if path.is_dir():
        path = checkpoint_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"session.resume = {spec!r}: no checkpoint at {path}")
    return path


def folder_bytes(session_dir: str | Path) -> int:
    """Current size of the recording files (``session*.xdf``, ``video*.avi``), bytes."""
    total = 0
    folder = Path(session_dir)
    for path in [*folder.glob("session*.xdf"), *folder.glob("video*.avi")]:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total

"""Teacher features computed once and cached on disk.

A cache entry is keyed by the teacher's name, its configuration (anything JSON-serialisable)
and a fingerprint of every data file it was computed from (resolved path, size, mtime). Change
any of them and the features are recomputed. Entries are written atomically (temp + rename).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_CACHE_DIR = Path(".cache") / "features"
log = logging.getLogger(__name__)


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    """Resolved path, size in bytes and modification time (ns) of a data file."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return {"path": str(resolved), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def cache_key(
    teacher_name: str, teacher_config: Mapping[str, Any], data_files: Sequence[str | Path]
) -> str:
    """Hex digest naming one cache entry."""
    if not teacher_name:
        raise ValueError("teacher_name must be a non-empty string")
    payload = {
        "teacher": teacher_name,
        "config": dict(teacher_config),
        "data": [file_fingerprint(p) for p in data_files],
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_features(
    teacher_name: str,
    teacher_config: Mapping[str, Any],
    data_files: Sequence[str | Path],
    compute: Callable[[], np.ndarray],
    cache_dir: str | Path | None = None,
) -> np.ndarray:
    """Load the features for this (teacher, config, data) or compute and store them.

    Args:
        teacher_name: e.g. ``"efficientnet-lite0"``.
        teacher_config: settings that change the features (frames, size, pooling, ...).
        data_files: the files the features are computed from.
        compute: called on a cache miss; returns (n, D) float features.
        cache_dir: where entries live; default ``./.cache/features``.

    Returns:
        (n, D) float32 features.
    """
    directory = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    key = cache_key(teacher_name, teacher_config, data_files)
    entry = directory / f"{teacher_name}-{key}.npy"
    if entry.exists():
        try:
            return np.load(entry, allow_pickle=False).astype(np.float32)
        except (OSError, ValueError) as err:
            log.warning("feature cache entry %s unreadable (%s); recomputing", entry, err)
    features = np.asarray(compute(), dtype=np.float32)
    if features.ndim != 2:
        raise ValueError(f"compute() must return (n, D) features, got shape {features.shape}")
    save_npy_atomic(entry, features)
    return features


def save_npy_atomic(entry: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``entry`` (.npy, no pickle) via a temp file and a rename: a reader never
    sees a half-written cache entry, and a failed write leaves no temp behind."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".npy.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, array, allow_pickle=False)
        os.replace(tmp, entry)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

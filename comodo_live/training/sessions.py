"""Recorded sessions → a distillation dataset of (IMU window, teacher features, label).

Each session (an ``.xdf`` file or its folder: the app's own recordings, converted or imported
ones, or another program's XDF with a VideoRaw camera) is cut exactly as the live app and the
fast replay cut it: the recording goes through :func:`~comodo_live.session.fast_replay.load_recording`
(units at the door), the live reader's dejitter and ring buffer, the session video's frames (or
the XDF's own raw video frames) and the live :class:`~comodo_live.streams.windowing.Windower`.
Every window paired with a clip gets the frozen teacher's raw (F,) features; its label is the
activity of the ``label:start:<activity>`` / ``label:stop`` interval that holds it ('' for none).

The features of a session are cached on disk, keyed by the teacher (class and configuration),
the windowing and camera settings and the SHA-256 of every file of the session (XDF and videos),
so a second run — or another rank of a distributed run — reads them instead of running the
teacher. Entries are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from comodo_live.config import AppConfig
from comodo_live.learning.labels import LabelStore
from comodo_live.models.teachers import Teacher
from comodo_live.streams.frames import FrameBus
from comodo_live.streams.names import MARKER_LABEL_START, MARKER_LABEL_STOP
from comodo_live.streams.windowing import Timeline, Windower

logger = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when the cached arrays change meaning
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class SessionPairs:
    """The pairs of one session.

    Attributes:
        name: the session (its folder's name).
        imu: (M, C, N) float32 IMU windows (m/s², rad/s).
        features: (M, F) float32 raw teacher features of each window's clip.
        labels: (M,) activity of each window ('' when unlabelled).
        t_end: (M,) window end times on the recording's clock, seconds.
    """

    name: str
    imu: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    t_end: np.ndarray

    def __len__(self) -> int:
        return int(self.imu.shape[0])


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def session_files(path: str | Path) -> tuple[Path, list[Path]]:
    """``(xdf, [the XDF and every video it indexes])`` of a session file or folder."""
    from comodo_live.session.fast_replay import load_recording

    recording = load_recording(path)
    videos = sorted({v for v in recording.videos if v is not None})
    return recording.xdf, [recording.xdf, *videos]


def cache_key(config: AppConfig, teacher: Teacher, files: list[Path]) -> str:
    """Hex key of a session's pairs: teacher, windowing, camera size and file contents."""
    payload = {
        "version": CACHE_VERSION,
        "teacher": {"class": type(teacher).__qualname__, "config": teacher.config},
        "window": {
            "window_s": config.window.window_s,
            "hop_s": config.window.hop_s,
            "rate_hz": config.window.rate_hz,
            "max_frame_gap_s": config.window.max_frame_gap_s,
            "frames": config.teacher.frames,
        },
        "camera": [config.camera.width_px, config.camera.height_px],
        "files": [file_sha256(f) for f in files],
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def extract_pairs(
    path: str | Path,
    config: AppConfig,
    teacher: Teacher,
    progress: Callable[[int], None] | None = None,
) -> SessionPairs:
    """Cut one session into (IMU window, teacher features, label) as the live app would.

    Args:
        path: the session (``.xdf`` file or folder).
        config: windowing, camera size and teacher clip length.
        teacher: the frozen teacher (raw features; the projection is fitted later).
        progress: called with the number of windows cut so far (progress bars).

    Raises:
        ValueError: no 6-channel IMU stream, or a recording shorter than one window.
    """
    from comodo_live.recording.rawvideo import RecordedRawFrames
    from comodo_live.session.fast_replay import (
        RecordedFrames,
        RecordedMarkers,
        RecordedReader,
        load_recording,
    )

    recording = load_recording(path)
    if recording.imu_t.size < config.window.samples:
        raise ValueError(
            f"session {path!s} holds {recording.imu_t.size} IMU samples; a window needs "
            f"{config.window.samples}"
        )
    reader = RecordedReader(recording.imu_t, recording.imu, recording.imu_rate_hz, "IMU")
    markers = RecordedMarkers(recording.markers)
    fps = _rate(recording.frame_t)
    bus = FrameBus("distill", max(300, math.ceil(fps * (config.window.window_s + 4.0))))
    size = (config.camera.width_px, config.camera.height_px)
    frames: Any = (
        RecordedRawFrames(recording.raw_video, bus, size)
        if recording.raw_video is not None
        else RecordedFrames(recording, bus, size)
    )
    windower = Windower(
        reader,  # type: ignore[arg-type]  # duck-typed StreamReader
        config.window.window_s,
        config.window.hop_s,
        config.window.rate_hz,
        frame_source=bus if recording.frame_t.size else None,
        camera_state=Timeline(initial=True),
        frames_per_clip=config.teacher.frames,
        markers=markers,  # type: ignore[arg-type]
        max_windows_per_poll=1_000_000,
        align_to_newest=False,
        max_frame_gap_s=config.window.max_frame_gap_s,
    )
    store = LabelStore(1)  # label intervals only (no windows kept)
    imu: list[np.ndarray] = []
    features: list[np.ndarray] = []
    labels: list[str] = []
    ends: list[float] = []
    horizon, end = float(recording.imu_t[0]), float(recording.imu_t[-1])
    try:
        while horizon < end:
            horizon = min(horizon + config.window.hop_s, end)
            for t, text in markers.feed_until(horizon):
                _apply_marker(store, t, text)
            reader.feed_until(horizon)
            frames.feed_until(horizon)
            for paired in windower.poll():
                if paired.clip is None:
                    continue
                feature = teacher.embed([paired.clip.frames])[0].numpy()  # (F,)
                if not np.isfinite(feature).all():
                    continue
                window = paired.imu
                imu.append(window.data.astype(np.float32))  # (C, N)
                features.append(feature.astype(np.float32))
                labels.append(store.label_for(window.t_start, window.t_end) or "")
                ends.append(float(window.t_end))
                if progress is not None:
                    progress(len(imu))
    finally:
        frames.close()
    name = recording.folder.name
    if not imu:
        logger.warning("session %s gave no window paired with a clip", name)
        dim = int(teacher.feature_dim)
        return SessionPairs(
            name,
            np.zeros((0, 6, config.window.samples), np.float32),
            np.zeros((0, dim), np.float32),
            np.zeros(0, dtype=str),
            np.zeros(0),
        )
    return SessionPairs(
        name, np.stack(imu), np.stack(features), np.asarray(labels), np.asarray(ends)
    )


def _apply_marker(store: LabelStore, t: float, text: str) -> None:
    try:
        if text.startswith(MARKER_LABEL_START):
            store.start_label(text[len(MARKER_LABEL_START) :], t)
        elif text == MARKER_LABEL_STOP:
            store.stop_label(t)
    except ValueError as exc:
        logger.warning("marker %r ignored: %s", text[:80], exc)


def _rate(t: np.ndarray) -> float:
    if t.size < 2:
        return 30.0
    return float(1.0 / max(np.median(np.diff(t)), 1e-3))


def cached_pairs(
    path: str | Path,
    config: AppConfig,
    teacher: Teacher,
    cache_dir: Path,
    progress: Callable[[int], None] | None = None,
) -> tuple[SessionPairs, bool]:
    """:func:`extract_pairs` through the on-disk cache; returns ``(pairs, cache hit)``."""
    _, files = session_files(path)
    entry = Path(cache_dir) / f"{cache_key(config, teacher, files)}.npz"
    if entry.is_file():
        try:
            with np.load(entry, allow_pickle=False) as data:
                pairs = SessionPairs(
                    str(data["name"]),
                    data["imu"],
                    data["features"],
                    data["labels"],
                    data["t_end"],
                )
            return pairs, True
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("session cache entry %s unreadable (%s); recomputing", entry, exc)
    pairs = extract_pairs(path, config, teacher, progress)
    entry.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(
                handle,
                name=np.asarray(pairs.name),
                imu=pairs.imu,
                features=pairs.features,
                labels=pairs.labels.astype(str),
                t_end=pairs.t_end,
            )
        os.replace(tmp, entry)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return pairs, False

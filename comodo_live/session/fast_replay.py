"""Deterministic fast replay: a recorded session through the live learning pipeline, in lockstep.

``python app.py --headless --replay FILE.xdf --speed max`` reads the XDF with pyxdf (the
recording's own timestamps: no LSL, no wall clock) and drives the live engine's own code in
recording-time order, as fast as the machine allows:

- the IMU samples go through the live reader's :class:`~comodo_live.streams.dejitter.Dejitter`
  and :class:`~comodo_live.streams.ringbuffer.RingBuffer` into the live
  :class:`~comodo_live.streams.windowing.Windower` (window ends on the ``hop_s`` grid, so every
  window of the recording is cut, none skipped as backlog);
- the session video's frames are decoded in order and put on a
  :class:`~comodo_live.streams.frames.FrameBus` at their recorded frame-index times;
- markers (``label:start:<activity>`` / ``label:stop``, ``camera:on/off``) are applied on the
  recording's clock before the windows that end after them (as the live controller does);
- each window goes to :meth:`Pipeline.submit` (labels, IMU statistics); its clip to the
  teacher's own per-clip function (:meth:`TeacherWorker.process`), whose pair enters the replay
  store; the trainer then takes its step budget for the new pairs (:func:`train_budget`); EMA
  snapshots, classifier refits and predictions follow the live periods, on the recording clock.

Nothing runs in a background thread, so the student is the same run to run for a given seed
on a given machine (``student.seed``; torch uses every core, :func:`replay_threads`: nothing
else competes with the trainer here, unlike live where ``trainer.torch_threads`` leaves the
predictor a core). A teacher-feature cache (:class:`CachedTeacher`, keyed
by the teacher's configuration and the clip's content hash) lets repeated runs skip the frozen
teacher; a cached feature is the stored float32 array, bit-identical to computing it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from comodo_live.config import AppConfig
from comodo_live.data.feature_cache import save_npy_atomic
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pipeline import Pipeline
from comodo_live.learning.predictions import PredictionBoard
from comodo_live.learning.teacher import make_teacher
from comodo_live.models.teachers import Teacher
from comodo_live.models.teachers.base import Clips, as_clip_list
from comodo_live.records import PairedWindow
from comodo_live.streams.dejitter import Dejitter, Gap
from comodo_live.streams.frames import FrameBus
from comodo_live.streams.names import (
    FRAME_INDEX_TYPE,
    IMU_TYPE,
    MARKER_LABEL_START,
    MARKER_LABEL_STOP,
)
from comodo_live.streams.ringbuffer import RingBuffer
from comodo_live.streams.windowing import Timeline, Windower

logger = logging.getLogger(__name__)

DEFAULT_STEPS_PER_PAIR = 4  # fixed budget per new pair for a trainer without a schedule
READER_BUFFER_S = 30.0  # the live IMU reader's buffer


# --- the recording -------------------------------------------------------------------------------
@dataclass
class Recording:
    """The streams of one XDF session the pipeline needs, on the recording's clock.

    Attributes:
        xdf: the file read; folder: its session folder.
        imu_t: (N,) IMU timestamps, seconds; imu: (N, 6) float32 (m/s², rad/s).
        imu_rate_hz: the IMU stream's nominal rate (0: irregular).
        frame_t: (F,) frame-index timestamps; frame_index: (F,) int64 frame numbers.
        videos: per frame-index sample, the video file it indexes (None: not available).
        markers: every string marker of the session, ``(t, text)`` in time order.
    """

    xdf: Path
    folder: Path
    imu_t: np.ndarray
    imu: np.ndarray
    imu_rate_hz: float
    frame_t: np.ndarray
    frame_index: np.ndarray
    videos: list[Path | None]
    markers: list[tuple[float, str]]
    raw_video: Any = None  # a RawVideo: frames carried in the XDF itself (VideoRaw)

    @property
    def duration_s(self) -> float:
        """IMU span of the recording, seconds."""
        return float(self.imu_t[-1] - self.imu_t[0]) if self.imu_t.size > 1 else 0.0


def load_recording(path: str | Path) -> Recording:
    """Read an ``.xdf`` file (or a session folder holding one) for fast replay.

    Raises:
        ValueError: the file has no 6-channel IMU stream with samples, or its streams were
            stamped on different clocks (as the real-time player refuses them); UnitError (a
            ValueError) when its channel units are missing or unknown (converted to m/s², rad/s
            otherwise).
    """
    from comodo_live.recording.player import check_one_clock
    from comodo_live.recording.rawvideo import is_compressed_video
    from comodo_live.recording.session import find_session, load_session_xdf, videos_per_frame
    from comodo_live.units import xdf_channel_map

    xdf, folder = find_session(Path(path))
    streams, headers = load_session_xdf(xdf)  # ValueError: unreadable, in words

    def field_of(stream: dict[str, Any], key: str) -> str:
        return str((stream["info"].get(key) or [""])[0] or "")

    imu = [
        s
        for s in streams
        if field_of(s, "type") == IMU_TYPE
        and int(field_of(s, "channel_count") or 0) == 6
        and len(s["time_stamps"])
    ]
    if not imu:
        found = [(field_of(s, "name"), field_of(s, "type")) for s in streams]
        raise ValueError(f"replay path {path!s} has no 6-channel IMU stream with samples: {found}")
    imu_stream = imu[0]
    check_one_clock(
        [
            (float(np.min(s["time_stamps"])), float(np.max(s["time_stamps"])))
            for s in streams
            if len(s["time_stamps"])
        ],
        xdf,
    )
    markers = sorted(
        (
            (float(t), str(sample[0]))
            for s in streams
            if field_of(s, "channel_format") == "string"
            and len(s["time_stamps"])
            and not is_compressed_video(field_of(s, "type"), "string", 1)  # frames, not markers
            for t, sample in zip(s["time_stamps"], s["time_series"], strict=True)
        ),
        key=lambda m: m[0],
    )
    index = [
        s for s in streams if field_of(s, "type") == FRAME_INDEX_TYPE and len(s["time_stamps"])
    ]
    frame_t = np.zeros(0)
    frame_index = np.zeros(0, np.int64)
    videos: list[Path | None] = []
    if index:
        stream = index[0]
        frame_t = np.asarray(stream["time_stamps"], np.float64).reshape(-1)
        frame_index = np.asarray(stream["time_series"], np.float64).reshape(-1).astype(np.int64)
        xml = headers.get(int(stream["info"]["stream_id"]), "")
        videos = videos_per_frame(folder, xml, frame_t, markers)
    raw_video = None
    if not index:  # no frame-index stream: video carried over LSL (VideoRaw), frames in the file
        from comodo_live.recording.rawvideo import find_raw_video

        raw_video = find_raw_video(streams, headers)
        if raw_video is not None:
            frame_t = raw_video.times
            frame_index = np.arange(frame_t.size, dtype=np.int64)
    order = np.argsort(np.asarray(imu_stream["time_stamps"], np.float64), kind="stable")
    return Recording(
        xdf=xdf,
        folder=folder,
        imu_t=np.asarray(imu_stream["time_stamps"], np.float64)[order],
        imu=xdf_channel_map(imu_stream)  # units at the door: m/s², rad/s (or refused)
        .apply(np.asarray(imu_stream["time_series"], np.float64).reshape(-1, 6)[order])
        .astype(np.float32),
        imu_rate_hz=float(field_of(imu_stream, "nominal_srate") or 0.0),
        frame_t=frame_t,
        frame_index=frame_index,
        videos=videos,
        markers=markers,
        raw_video=raw_video,
    )


# --- readers fed on the recording clock ----------------------------------------------------------
class RecordedReader:
    """What the :class:`Windower` reads of a live IMU :class:`StreamReader`, fed from arrays.

    Samples enter through the live reader's own dejitter and ring buffer when
    :meth:`feed_until` advances the recording clock; the "received" time of a chunk is its last
    recorded timestamp (no wall clock anywhere).
    """

    def __init__(self, t: np.ndarray, values: np.ndarray, nominal_srate: float, name: str) -> None:
        self.description = f"recorded IMU stream {name!r}"
        self._t, self._values = t, values
        self.dejitter: Dejitter | None = Dejitter(nominal_srate) if nominal_srate > 0 else None
        rate = nominal_srate if nominal_srate > 0 else 1000.0
        self.buffer: RingBuffer | None = RingBuffer(
            max(16, math.ceil(READER_BUFFER_S * rate) + 1), values.shape[1], np.float32
        )
        self._gaps: deque[Gap] = deque(maxlen=256)
        self.cursor = 0

    def feed_until(self, t: float) -> int:
        """Push the samples stamped ``<= t`` not yet pushed, as one chunk; returns how many."""
        end = int(np.searchsorted(self._t, t, side="right"))
        if end <= self.cursor:
            return 0
        stamps = self._t[self.cursor : end].copy()
        values = self._values[self.cursor : end]
        received = float(stamps[-1])
        self.cursor = end
        if self.dejitter is not None:
            stamps, gaps = self.dejitter.process(stamps)
            self._gaps.extend(g for g in gaps if g.t0 > -math.inf)
        assert self.buffer is not None
        self.buffer.push(stamps, values, received)
        return int(stamps.size)

    def between(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.buffer is not None
        return self.buffer.between(t0, t1)

    def gaps(self, since: float = -math.inf) -> list[Gap]:
        return [g for g in self._gaps if g.t1 > since]


class RecordedMarkers:
    """The marker reader the :class:`Windower` polls (``markers_after``), fed on the recording
    clock."""

    def __init__(self, markers: list[tuple[float, str]]) -> None:
        self._markers = markers
        self.visible = 0

    def feed_until(self, t: float) -> list[tuple[float, str]]:
        """Make the markers stamped ``<= t`` visible; returns the newly visible ones."""
        start = self.visible
        while self.visible < len(self._markers) and self._markers[self.visible][0] <= t:
            self.visible += 1
        return self._markers[start : self.visible]

    def markers_after(self, count: int) -> tuple[int, list[tuple[float, str]]]:
        return self.visible, self._markers[count : self.visible]


class RecordedFrames:
    """Decodes the session video in order and publishes each frame at its frame-index time.

    The same decode as the replay player's frame server (resize with ``INTER_AREA`` to the
    camera's teacher size, BGR → RGB).
    """

    def __init__(self, recording: Recording, bus: FrameBus, size: tuple[int, int]) -> None:
        self._t = recording.frame_t
        self._index = recording.frame_index
        self._videos = recording.videos
        self.bus = bus
        self.size = (int(size[0]), int(size[1]))
        self.cursor = 0
        self.published = 0
        self.decode_errors = 0
        self._capture: Any = None
        self._path: Path | None = None
        self._position = 0

    def feed_until(self, t: float) -> None:
        import cv2

        end = int(np.searchsorted(self._t, t, side="right"))
        while self.cursor < end:
            k = self.cursor
            self.cursor += 1
            video, index = self._videos[k], int(self._index[k])
            if video is None or index < 0:
                continue
            if self._path != video or self._capture is None:
                if self._capture is not None:
                    self._capture.release()
                self._capture = cv2.VideoCapture(str(video))
                if not self._capture.isOpened():
                    raise OSError(f"cannot open session video {video}")
                self._path, self._position = video, 0
            if index != self._position:
                if index < self._position or index - self._position > 60:
                    self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                else:
                    for _ in range(index - self._position):
                        self._capture.grab()
            ok, frame = self._capture.read()
            if not ok:
                self.decode_errors += 1
                self._position = -(10**9)
                continue
            self._position = index + 1
            small = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
            self.bus.publish(index, float(self._t[k]), cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
            self.published += 1

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


# --- teacher-feature cache -----------------------------------------------------------------------
class CachedTeacher(Teacher):
    """A frozen teacher whose per-clip features are cached on disk.

    Keyed by the teacher's configuration (:attr:`Teacher.config` and class) and the SHA-256 of
    the clip's bytes and shape; an entry is the float32 array the teacher returned (``.npy``),
    so a cached feature is bit-identical to computing it. Entries are written atomically.

    Args:
        teacher: the frozen teacher.
        cache_dir: root folder of the cache (one sub-folder per teacher configuration).
    """

    def __init__(self, teacher: Teacher, cache_dir: str | Path) -> None:
        self.inner = teacher
        self.name = teacher.name
        self.feature_dim = teacher.feature_dim
        self.num_frames = teacher.num_frames
        self.input_size = teacher.input_size
        key = json.dumps(
            {"class": type(teacher).__qualname__, "config": teacher.config},
            sort_keys=True,
            default=str,
        )
        self.directory = Path(cache_dir) / hashlib.sha256(key.encode()).hexdigest()[:24]
        self.hits = 0
        self.misses = 0

    @property
    def config(self) -> dict[str, Any]:
        return self.inner.config

    @staticmethod
    def clip_key(clip: np.ndarray) -> str:
        digest = hashlib.sha256(f"{clip.shape}{clip.dtype}".encode())
        digest.update(np.ascontiguousarray(clip).tobytes())
        return digest.hexdigest()

    def embed(self, clips: Clips) -> torch.Tensor:
        """Features (B, F) float32; each clip computed alone (batch 1, as the live teacher)."""
        out = []
        for clip in as_clip_list(clips):
            entry = self.directory / f"{self.clip_key(clip)}.npy"
            features: np.ndarray | None = None
            if entry.is_file():
                try:
                    features = np.load(entry, allow_pickle=False)
                    self.hits += 1
                except (OSError, ValueError) as exc:
                    logger.warning("teacher cache entry %s unreadable (%s)", entry, exc)
            if features is None:
                features = self.inner.embed([clip])[0].numpy().astype(np.float32)  # (F,)
                self.misses += 1
                self._store(entry, features)
            out.append(torch.from_numpy(features))
        return torch.stack(out)  # (B, F)

    def _store(self, entry: Path, features: np.ndarray) -> None:
        save_npy_atomic(entry, features)


# --- the lockstep driver -------------------------------------------------------------------------
def train_budget(pipeline: Pipeline, new_pairs: int, steps_per_pair: int | None = None) -> int:
    """Take the trainer's optimiser steps owed after ``new_pairs`` new pairs; returns steps taken.

    With ``steps_per_pair`` None, the trainer's own schedule decides
    (:meth:`TrainerWorker.step_until_budget`: rounds tied to new pairs, the live trainer's
    policy run synchronously). With an int — or a trainer without that method — exactly
    ``steps_per_pair`` steps per new pair, once the store holds ``trainer.min_pairs`` pairs
    and the IMU statistics are applied (the older live loop's conditions; a fixed budget for
    comparisons).
    """
    trainer = pipeline.trainer
    budget = getattr(trainer, "step_until_budget", None)
    if steps_per_pair is None and callable(budget):
        return int(budget())
    per_pair = DEFAULT_STEPS_PER_PAIR if steps_per_pair is None else int(steps_per_pair)
    if per_pair < 0:
        raise ValueError(f"steps_per_pair must be >= 0, got {steps_per_pair}")
    min_pairs = int(getattr(trainer.config, "min_pairs", 2))
    if len(trainer.replay) < min_pairs or not trainer.imu_stats.applied:
        return 0
    taken = 0
    for _ in range(per_pair * new_pairs):
        t0 = time.monotonic()
        taken += bool(trainer.train_step())
        trainer.train_seconds += time.monotonic() - t0
    return taken


def flush_budget(pipeline: Pipeline, steps_per_pair: int | None = None) -> int:
    """End of the recording: the trainer's last round over the pairs since its last round
    (:meth:`TrainerWorker.request_flush`, as when the camera goes off); 0 with a fixed budget."""
    trainer = pipeline.trainer
    flush = getattr(trainer, "request_flush", None)
    budget = getattr(trainer, "step_until_budget", None)
    if steps_per_pair is not None or not callable(flush) or not callable(budget):
        return 0
    flush()
    return int(budget())


WindowObserver = Callable[["FastReplay", PairedWindow], None]


@dataclass
class FastReplayStats:
    """What one fast replay did. Times in seconds."""

    windows: int = 0
    clips: int = 0
    pairs: int = 0
    steps: int = 0
    refits: int = 0
    predictions: int = 0
    markers: int = 0
    frames_decoded: int = 0
    recording_s: float = 0.0
    wall_s: float = 0.0
    teacher_s: float = 0.0
    train_s: float = 0.0
    refit_s: float = 0.0  # classifier refits and the guard's cross-validation
    guard_runs: int = 0
    windower: dict[str, int] = field(default_factory=dict)

    @property
    def speedup(self) -> float:
        """Recording seconds per wall-clock second."""
        return self.recording_s / self.wall_s if self.wall_s > 0 else math.inf

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["speedup"] = self.speedup
        return out


class FastReplay:
    """Replays one recording through a fresh :class:`Pipeline` in lockstep.

    Args:
        config: the app configuration (window, teacher, student, trainer, predictor).
        path: ``.xdf`` file or session folder.
        teacher_cache: folder of the teacher-feature cache (None: no cache).
        steps_per_pair: step budget override (see :func:`train_budget`).
        checkpoint: session checkpoint written at the end (None: none).
        metrics: a :class:`~comodo_live.metrics.MetricsLog` for predictions (None: none).
        observer: called after each window (gain curves, tests).
        teacher: a prebuilt teacher (default: built from ``config.teacher``).
    """

    def __init__(
        self,
        config: AppConfig,
        path: str | Path,
        teacher_cache: str | Path | None = None,
        steps_per_pair: int | None = None,
        checkpoint: Path | None = None,
        metrics: Any = None,
        observer: WindowObserver | None = None,
        teacher: Teacher | None = None,
    ) -> None:
        self.config = config
        self.recording = load_recording(path)
        src = config.source
        if src.replay_labels or src.replay_label_map:  # a label file, markers of another vocabulary
            from comodo_live.recording.labels_in import replay_markers

            mapped, extra = replay_markers(
                self.recording.markers,
                float(self.recording.imu_t[0]),
                src.replay_labels,
                src.replay_label_map,
            )
            self.recording.markers = sorted(mapped + extra, key=lambda m: m[0])
        if self.recording.imu_t.size < config.window.samples:
            raise ValueError(
                f"replay path {path!s} holds {self.recording.imu_t.size} IMU samples; a window "
                f"needs {config.window.samples}"
            )
        teacher = teacher if teacher is not None else make_teacher(config.teacher)
        if teacher_cache is not None:
            teacher = CachedTeacher(teacher, teacher_cache)
        self.teacher = teacher
        self.labels = LabelStore(config.predictor.max_windows_per_activity)
        self.board = PredictionBoard(config.predictor.history)
        self.pipeline = Pipeline(
            config, self.labels, self.board, checkpoint, metrics, teacher=teacher
        )
        self.steps_per_pair = steps_per_pair
        self.observer = observer
        self.stats = FastReplayStats(recording_s=self.recording.duration_s)
        self.reader = RecordedReader(
            self.recording.imu_t, self.recording.imu, self.recording.imu_rate_hz, "IMU"
        )
        self.markers = RecordedMarkers(self.recording.markers)
        fps = _rate(self.recording.frame_t)
        self.bus = FrameBus(
            "fast-replay", max(300, math.ceil(fps * (config.window.window_s + 4.0)))
        )
        size = (config.camera.width_px, config.camera.height_px)
        self.frames: Any = RecordedFrames(self.recording, self.bus, size)
        if self.recording.raw_video is not None:  # frames from the XDF's VideoRaw stream
            from comodo_live.recording.rawvideo import RecordedRawFrames

            self.frames = RecordedRawFrames(self.recording.raw_video, self.bus, size)
        self.camera = Timeline(initial=bool(config.camera.on_at_start))
        self.windower = Windower(
            self.reader,  # type: ignore[arg-type]  # duck-typed StreamReader
            config.window.window_s,
            config.window.hop_s,
            config.window.rate_hz,
            frame_source=self.bus if self.recording.frame_t.size else None,
            camera_state=self.camera,
            frames_per_clip=config.teacher.frames,
            markers=self.markers,  # type: ignore[arg-type]
            max_windows_per_poll=1_000_000,
            align_to_newest=False,
            max_frame_gap_s=config.window.max_frame_gap_s,
        )
        self.t = -math.inf  # recording clock: end of the newest window processed
        self._last_publish = -math.inf
        self._last_fit = -math.inf
        self._guard_t = -math.inf  # recording time of the guard's last cross-validation
        self._fit_version = -1
        self._published_since_fit = False
        self._urgent = False

    # --- the run ------------------------------------------------------------------------------
    def run(
        self,
        until_s: float | None = None,
        on_status: Callable[[FastReplay], None] | None = None,
        status_every_s: float = 5.0,
    ) -> FastReplayStats:
        """Replay the whole recording (or its first ``until_s`` seconds); returns the stats."""
        threads_before = torch.get_num_threads()
        torch.set_num_threads(replay_threads(self.config))
        try:
            return self._run(until_s, on_status, status_every_s)
        finally:
            torch.set_num_threads(threads_before)

    def _run(
        self,
        until_s: float | None,
        on_status: Callable[[FastReplay], None] | None,
        status_every_s: float,
    ) -> FastReplayStats:
        rec = self.recording
        start = float(rec.imu_t[0])
        end = (
            float(rec.imu_t[-1]) if until_s is None else min(float(rec.imu_t[-1]), start + until_s)
        )
        hop = self.config.window.hop_s
        wall0 = time.monotonic()
        next_status = wall0 + status_every_s
        self.pipeline.set_camera(bool(self.config.camera.on_at_start))
        self.stats.recording_s = end - start
        horizon = start
        try:
            while horizon < end:
                horizon = min(horizon + hop, end)
                self._advance(horizon)
                if on_status is not None and time.monotonic() >= next_status:
                    next_status += status_every_s
                    self.stats.wall_s = time.monotonic() - wall0
                    on_status(self)
            self._finish()
        finally:
            self.frames.close()
            self.stats.wall_s = time.monotonic() - wall0
            self.stats.windower = {
                k: int(v) for k, v in self.windower.stats.__dict__.items() if isinstance(v, int)
            }
            self.stats.frames_decoded = self.frames.published
        return self.stats

    def _advance(self, horizon: float) -> None:
        for t, text in self.markers.feed_until(horizon):
            self._on_marker(t, text)
        self.reader.feed_until(horizon)
        self.frames.feed_until(horizon)
        for paired in self.windower.poll():
            self._process(paired)

    def _on_marker(self, t: float, text: str) -> None:
        """The controller's label-marker rule, on the recording clock."""
        self.stats.markers += 1
        try:
            if text.startswith(MARKER_LABEL_START):
                self.labels.start_label(text[len(MARKER_LABEL_START) :], t)
            elif text == MARKER_LABEL_STOP:
                self.labels.stop_label(t)
        except ValueError as exc:
            logger.warning("marker %r ignored: %s", text, exc)

    def _process(self, paired: PairedWindow) -> None:
        pipeline, trainer = self.pipeline, self.pipeline.trainer
        t = paired.imu.t_end
        self.t = t
        self.stats.windows += 1
        paired = pipeline.submit(paired)  # labels, IMU statistics (the workers are not running)
        if trainer.imu_stats.ready and not trainer.imu_stats.applied:
            trainer._apply_imu_stats()  # the trainer loop's duty; publishes a snapshot
            self._published_since_fit = self._urgent = True
            self._last_publish = t
        if paired.clip is not None and pipeline.camera_on:
            added = trainer.replay.added
            t0 = time.monotonic()
            pipeline.teacher.process(paired)
            self.stats.teacher_s += time.monotonic() - t0
            self.stats.clips += 1
            new_pairs = trainer.replay.added - added
            self.stats.pairs += new_pairs
            if new_pairs:
                t0 = time.monotonic()
                self.stats.steps += train_budget(pipeline, new_pairs, self.steps_per_pair)
                self.stats.train_s += time.monotonic() - t0
        if t - self._last_publish >= trainer.config.publish_every_s:
            trainer.publish_snapshot()
            self._last_publish = t
            self._published_since_fit = True
        self._maybe_refit(t)
        self._predict(paired)
        if self.observer is not None:
            self.observer(self, paired)

    def _maybe_refit(self, t: float, force: bool = False) -> None:
        """The classifier worker's refit rule (labels changed, or a fresh snapshot every
        ``refit_every_s``, or urgent), on the recording clock."""
        from comodo_live.learning.refit import MIN_REFIT_S

        labels_changed = self.labels.version != self._fit_version
        fresh = self._published_since_fit and (
            self._last_fit == -math.inf
            or t - self._last_fit >= self.config.predictor.refit_every_s
            or self._urgent
        )
        if force or (labels_changed and t - self._last_fit >= MIN_REFIT_S) or fresh:
            self._fit_version = self.labels.version
            classifier = self.pipeline.classifier
            guard_clock = hasattr(classifier, "_guard_time")
            if guard_clock:  # the guard's rerun period (GUARD_MIN_S), on the recording clock
                shifted = time.monotonic() - (t - self._guard_t)
                classifier._guard_time = shifted
            t0 = time.monotonic()
            classifier.refit_now(rerun_guard=force)
            self.stats.refit_s += time.monotonic() - t0
            if guard_clock and classifier._guard_time != shifted:
                self._guard_t = t  # the guard re-ran its cross-validation in this refit
                self.stats.guard_runs += 1
            self._last_fit = t
            self._published_since_fit = self._urgent = False
            self.stats.refits += 1

    def _predict(self, paired: PairedWindow) -> None:
        predictor = self.pipeline.predictor
        while predictor._models:  # the predictor loop's hand-over of (encoder, head)
            predictor._model = predictor._models.popleft()
        prediction = predictor.predict(paired.imu)
        if prediction is not None:
            self.stats.predictions += 1
            self.pipeline._on_prediction(prediction, paired.imu)

    def _finish(self) -> None:
        """Last training round, final EMA snapshot and refit (the model served at the end),
        checkpoint."""
        t0 = time.monotonic()
        self.stats.steps += flush_budget(self.pipeline, self.steps_per_pair)
        self.stats.train_s += time.monotonic() - t0
        self.pipeline.trainer.publish_snapshot()
        self._published_since_fit = True
        self._maybe_refit(self.t, force=True)
        while self.pipeline.predictor._models:
            self.pipeline.predictor._model = self.pipeline.predictor._models.popleft()
        self.pipeline.save_checkpoint()


def replay_threads(config: AppConfig) -> int:
    """Torch threads of a fast replay: every core of the machine (at least
    ``trainer.torch_threads``)."""
    return max(int(config.trainer.torch_threads), os.cpu_count() or 1)


def _rate(t: np.ndarray) -> float:
    """Median rate of timestamps (Hz), 30 when unknown."""
    if t.size < 2:
        return 30.0
    return float(1.0 / max(np.median(np.diff(t)), 1e-3))


# --- the CLI -------------------------------------------------------------------------------------
def status_line(replay: FastReplay) -> str:
    s = replay.stats
    rec = replay.recording
    done = (replay.t - float(rec.imu_t[0])) if math.isfinite(replay.t) else 0.0
    recent = replay.board.recent()
    shown = f" | prediction {recent[-1][0].label}" if recent else ""
    return (
        f"[{s.wall_s:7.1f} s] fast replay {done:7.1f}/{s.recording_s:.1f} s of recording "
        f"({done / max(s.wall_s, 1e-9):.1f}x) | windows {s.windows}, clips {s.clips}, "
        f"pairs {s.pairs}, steps {s.steps}, refits {s.refits}{shown}"
    )


def run_cli(
    config: AppConfig, status_every_s: float = 5.0, teacher_cache: str | None = None
) -> int:
    """``app.py --headless --replay FILE --speed max``: the whole recording, then a checkpoint
    in a new session folder (``metrics.jsonl`` holds the predictions)."""
    from comodo_live.metrics import MetricsLog
    from comodo_live.session import folder as session_files

    session_dir = session_files.create_session_dir(config.session.root, config.session.name, config)
    print(f"session folder: {session_dir}", flush=True)
    metrics = MetricsLog(session_dir / session_files.METRICS_NAME)
    try:
        try:
            replay = FastReplay(
                config,
                config.source.replay_path,
                teacher_cache=teacher_cache,
                checkpoint=session_files.checkpoint_path(session_dir),
                metrics=metrics,
            )
        except (ValueError, OSError) as exc:  # an unreadable recording: one line, no folder
            metrics.close()
            session_files.remove_session_dir(session_dir)
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 2
        stats = replay.run(
            on_status=lambda r: print(status_line(r), flush=True), status_every_s=status_every_s
        )
    finally:
        metrics.close()
    print(
        f"fast replay done: {stats.recording_s:.1f} s of recording in {stats.wall_s:.1f} s "
        f"({stats.speedup:.1f}x real time); {stats.windows} windows, {stats.clips} clips, "
        f"{stats.pairs} pairs, {stats.steps} steps; labelled {replay.labels.counts()}",
        flush=True,
    )
    print(f"stopped; session folder: {session_dir}", flush=True)
    return 0

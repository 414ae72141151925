"""The teacher worker: newest (IMU window, clip) → frozen teacher → frozen projection → z_v.

It never falls behind real time: windows are handed over through a one-slot ``deque(maxlen=1)``,
so a window still waiting when a newer one arrives is dropped and counted as skipped. After
encoding, only the IMU window and the (D,) teacher embedding are passed on; the frames are
released (no raw video is kept). When the camera is off nothing is submitted and the worker idles.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from comodo_live.config import TeacherConfig
from comodo_live.models.projection import FrozenTeacherProjection
from comodo_live.models.teachers import Teacher, build_teacher
from comodo_live.records import ImuWindow, PairedWindow
from comodo_live.worker import Worker

RATE_WINDOW_S = 10.0


def make_teacher(config: TeacherConfig) -> Teacher:
    """Build the configured frozen teacher (EfficientNet-Lite0 offline by default)."""
    if config.name == "efficientnet-lite0":
        return build_teacher(
            config.name,
            num_segments=config.segments,
            frames=config.frames,
            input_size=config.size_px,
        )
    if config.name in ("videomae", "timesformer", "xclip"):
        if not config.path:
            raise ValueError(
                f"teacher.path must name a local model folder for teacher {config.name!r}"
            )
        return build_teacher(config.name, path_or_id=config.path)
    raise ValueError(
        f"teacher.name = {config.name!r} is not a video teacher; "
        "valid: 'efficientnet-lite0', 'videomae', 'timesformer', 'xclip'"
    )


def make_projection(config: TeacherConfig, feature_dim: int) -> FrozenTeacherProjection:
    """The seeded, frozen teacher projection (feature centring with a running mean)."""
    return FrozenTeacherProjection(
        feature_dim,
        config.proj_hidden,
        config.embed_dim,
        seed=config.proj_seed,
        centre=config.centre_features,
    )


@dataclass(frozen=True)
class TeacherStats:
    """Teacher throughput. clips_per_s: clips/s over the last ~10 s; duty: fraction of that
    time spent encoding, [0, 1]; skipped: stale windows dropped; encoded: clips so far."""

    clips_per_s: float
    duty: float
    skipped: int
    encoded: int


PairSink = Callable[[ImuWindow, np.ndarray, PairedWindow], None]
"""Receives (IMU window, (D,) teacher embedding, the paired window's metadata)."""


class TeacherWorker(Worker):
    """Runs the frozen teacher on the newest paired window with a clip.

    Args:
        teacher: frozen teacher (clips → (B, F) features).
        projection: frozen projection (B, F) → (B, D); its feature mean is updated here.
        sink: called in this thread with each (IMU window, z_v, paired window).
        stats_warmup_clips: clips folded into the feature mean before pairs are passed on.
    """

    def __init__(
        self,
        teacher: Teacher,
        projection: FrozenTeacherProjection,
        sink: PairSink,
        stats_warmup_clips: int = 8,
    ) -> None:
        super().__init__("comodo-teacher")
        self.teacher = teacher
        self.projection = projection
        self._sink = sink
        self._warmup = int(stats_warmup_clips)
        self._pending: deque[PairedWindow] = deque(maxlen=1)
        self._wake = threading.Event()
        self._lock = threading.Lock()  # guards the projection's statistics
        self._events: deque[tuple[float, float]] = deque()  # (end time, busy s), last RATE_WINDOW_S
        self._skipped = 0
        self._encoded = 0
        self.frames_encoded = 0  # frames that reached the teacher (privacy checks)
        self.last_frame_time = -np.inf  # LSL capture time of the newest frame encoded, s
        # (F,) raw teacher features of the clip last encoded (before the projection); read by
        # the sink in this thread (zero-shot text anchors, engine/text_anchors.py).
        self.last_features: np.ndarray | None = None

    def submit(self, paired: PairedWindow) -> None:
        """Offer a paired window (ignored without a clip); replaces a still-pending one."""
        if paired.clip is None or not self.running:
            return
        if self._pending:
            self._skipped += 1
        self._pending.append(paired)
        self._wake.set()

    def clear(self) -> None:
        """Drop the pending window (camera switched off: no frame is encoded afterwards)."""
        self._pending.clear()

    def stats(self) -> TeacherStats:
        now = time.monotonic()
        events = [e for e in list(self._events) if e[0] >= now - RATE_WINDOW_S]
        span = min(RATE_WINDOW_S, max(1e-3, now - self._t_started)) if self._encoded else 1.0
        return TeacherStats(
            clips_per_s=len(events) / span,
            duty=min(1.0, sum(e[1] for e in events) / span),
            skipped=self._skipped,
            encoded=self._encoded,
        )

    def projection_state(self) -> dict[str, torch.Tensor]:
        """A consistent copy of the projection's state (weights + feature statistics)."""
        with self._lock:
            return {k: v.detach().clone() for k, v in self.projection.state_dict().items()}

    def load_projection_state(self, state: dict[str, torch.Tensor]) -> None:
        with self._lock:
            self.projection.load_state_dict(state)

    @torch.no_grad()
    def encode(self, paired: PairedWindow) -> np.ndarray:
        """(D,) teacher embedding of one paired window's clip (updates the feature mean)."""
        assert paired.clip is not None
        features = self.teacher.embed([paired.clip.frames])  # (1, F)
        if not torch.isfinite(features).all():
            raise FloatingPointError("teacher features are not finite")
        self.last_features = features[0].numpy().astype(np.float32)  # (F,)
        with self._lock:
            if self.projection.normaliser.enabled:
                self.projection.update_stats(features)
            z_v = self.projection(features)[0]  # (D,)
        return z_v.numpy().astype(np.float32)

    def _open(self) -> None:
        self._t_started = time.monotonic()

    def _loop(self) -> None:
        while not self._stop_event.is_set():
            if not self._wake.wait(0.1):
                continue
            self._wake.clear()
            try:
                paired = self._pending.popleft()
            except IndexError:
                continue
            self.process(paired)
            del paired  # frames are released here; only the IMU window and z_v travel on

    def process(self, paired: PairedWindow) -> bool:
        """Encode one paired window and hand its pair to the sink once the feature mean is warm.

        The worker thread's body; the deterministic fast replay
        (:mod:`comodo_live.session.fast_replay`) calls it in lockstep. Returns True when a pair
        was passed on.
        """
        t0 = time.monotonic()
        clip = paired.clip
        if clip is None:
            return False
        self.frames_encoded += int(clip.frames.shape[0])
        if clip.timestamps.size:
            self.last_frame_time = max(self.last_frame_time, float(clip.timestamps.max()))
        del clip
        try:
            z_v = self.encode(paired)
        except FloatingPointError:
            self._skipped += 1
            return False
        t1 = time.monotonic()
        self._encoded += 1
        self._events.append((t1, t1 - t0))
        while self._events and self._events[0][0] < t1 - RATE_WINDOW_S:
            self._events.popleft()
        normaliser = self.projection.normaliser
        if not normaliser.enabled or int(normaliser.count) > self._warmup:
            self._sink(paired.imu, z_v, paired)
            return True
        return False

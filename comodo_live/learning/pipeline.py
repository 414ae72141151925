"""The learning side of the engine: teacher, trainer, classifier and predictor around shared stores.

:class:`Pipeline` knows nothing of LSL: it receives :class:`~comodo_live.records.PairedWindow`
objects (:meth:`Pipeline.submit`, from the windowing thread) and routes them —

- every window → IMU normalisation statistics, the predictor (newest only), the label store
  when it lies inside a label interval;
- windows with a clip while the camera is on → the teacher (newest only), whose (IMU window,
  z_v) pairs fill the trainer's replay store and whose teacher-space predictions run alongside.

Start order: trainer, teacher, classifier, predictor; stop in reverse, then a final checkpoint.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from comodo_live.config import AppConfig, TrainerConfig
from comodo_live.head import Smoother
from comodo_live.imu_quality import window_problem
from comodo_live.learning import state as session_state
from comodo_live.learning.guard import held_out
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pair_store import PairStore
from comodo_live.learning.predictions import PredictionBoard, teacher_prediction
from comodo_live.learning.predictor import PredictorWorker
from comodo_live.learning.refit import ClassifierWorker
from comodo_live.learning.stats import PipelineStats
from comodo_live.learning.teacher import TeacherWorker, make_projection, make_teacher
from comodo_live.learning.text_anchors import TextAnchors
from comodo_live.learning.trainer import TrainerWorker
from comodo_live.metrics import MetricsLog
from comodo_live.models.student import ImuStudent
from comodo_live.models.teachers import Teacher
from comodo_live.records import IMU_CHANNELS, ImuWindow, PairedWindow, Prediction
from comodo_live.training.checkpoint import CheckpointWriteError
from comodo_live.worker import Worker

logger = logging.getLogger(__name__)

FIRST_CHECKPOINT_STEPS = 20  # trainer steps after start before the first (early) checkpoint

TruthFn = Callable[[float, float], "str | None"]


def build_student(config: AppConfig) -> ImuStudent:
    s = config.student
    return ImuStudent(
        in_channels=len(IMU_CHANNELS),
        embed_dim=s.embed_dim,
        proj_hidden=s.proj_hidden,
        proj_dim=config.teacher.embed_dim,
        width=s.width,
        kernel_size=s.kernel_size,
        seed=s.seed,
    )


def trainer_config(config: AppConfig) -> TrainerConfig:
    """The trainer's settings for this session: on the synthetic demo, the IMU channel statistics
    come from at most one pass through the demo script (every scripted activity once; 120 windows
    for 5 × 12 s at hop 0.5 s) so that training starts within a demo's first minute, not after
    the 2 minutes a real session waits for (``trainer.imu_stats_windows``)."""
    if config.source.mode != "demo":
        return config.trainer
    script_s = len(config.demo.activities) * config.demo.segment_s
    cycle = max(1, math.ceil(script_s / config.window.hop_s))
    return replace(config.trainer, imu_stats_windows=min(config.trainer.imu_stats_windows, cycle))


class Pipeline:
    """Teacher → replay → trainer → EMA → classifier → predictor, with labels and predictions.

    Args:
        config: the app configuration.
        labels: activities and labelled windows (shared with the controller's commands).
        board: where student and teacher predictions go.
        checkpoint: the session checkpoint file (None: no checkpoints).
        metrics: metrics log for per-prediction records (None: none).
        truth: ``(t_start, t_end) -> activity`` ground truth for the metrics log (demo), or None.
        teacher: a prebuilt teacher (default: built from ``config.teacher``).
    """

    def __init__(
        self,
        config: AppConfig,
        labels: LabelStore,
        board: PredictionBoard,
        checkpoint: Path | None = None,
        metrics: MetricsLog | None = None,
        truth: TruthFn | None = None,
        teacher: Teacher | None = None,
    ) -> None:
        self.config = config
        self.labels = labels
        self.board = board
        self.checkpoint_path = checkpoint
        self.metrics = metrics
        self.truth = truth
        self.camera_on = config.camera.on_at_start
        teacher = teacher if teacher is not None else make_teacher(config.teacher)
        projection = make_projection(config.teacher, teacher.feature_dim)
        self.student = build_student(config)
        self.replay = PairStore(
            config.trainer.replay_size,
            len(IMU_CHANNELS),
            config.window.samples,
            config.teacher.embed_dim,
        )
        self.trainer = TrainerWorker(
            trainer_config(config),
            self.student,
            self.replay,
            self._periodic_checkpoint,
            config.student.seed,
        )
        self.teacher = TeacherWorker(
            teacher, projection, self._on_pair, config.teacher.stats_warmup_clips
        )
        # Zero-shot text anchors for the teacher's own prediction (X-CLIP, opt-in).
        self.text_anchors = TextAnchors(teacher) if config.predictor.text_anchors else None
        self.predictor = PredictorWorker(config.predictor, self._on_prediction)
        self.classifier = ClassifierWorker(
            config.predictor,
            labels,
            self.trainer.take_snapshot,
            self.predictor.set_model,
            hold_out_every=config.trainer.hold_out_every,
        )
        self._teacher_smoother = Smoother(
            config.predictor.smoothing_alpha,
            config.predictor.confidence_threshold,
            config.predictor.unknown_margin,
        )
        self._checkpoint_lock = threading.Lock()
        self._first_checkpoint_at = math.inf  # trainer step of the early first checkpoint
        self._checkpoint_problem: str | None = None  # the last write error reported
        self.checkpoints_written = 0
        self.windows_seen = 0
        self.bad_windows: dict[str, int] = {}  # windows skipped, by imu_quality problem
        self.resumed_from: Path | None = None
        # The last personalisation (engine/personalise.py), saved in the checkpoint: plain values.
        self.personalisation: dict[str, Any] | None = None
        self.on_error: Callable[[str], None] = lambda message: None

    @property
    def workers(self) -> tuple[Worker, ...]:
        """In start order."""
        return (self.trainer, self.teacher, self.classifier, self.predictor)

    @property
    def running(self) -> bool:
        return any(w.running for w in self.workers)

    def stats(self) -> PipelineStats:
        """What the loop did so far, copied now (cheap; never waits on the trainer)."""
        trainer, predictor = self.trainer, self.predictor
        verdict = self.classifier.guard.verdict
        return PipelineStats(
            step=trainer.step,
            train=trainer.stats,
            steps_per_s=trainer.steps_per_s(),
            loss_history=trainer.loss_history(),
            queue_fill=trainer.queue.fill,
            skipped_steps=trainer.skipped_steps,
            rollbacks=trainer.rollbacks,
            pairs=len(self.replay),
            teacher=self.teacher.stats(),
            windows=self.windows_seen,
            predictions=predictor.predicted,
            predictor_skipped=predictor.skipped,
            latency_p95_ms=predictor.latency_p95_ms(),
            classifier_fits=self.classifier.fits,
            failures=tuple(
                f"{w.name} stopped: {w.error!r}" for w in self.workers if w.error is not None
            ),
            distillation_gain=verdict.summary(),
            distillation_gain_points=verdict.gain_points,
            distillation_gain_windows=verdict.windows,
            serving=verdict.serving,
            waiting=trainer.waiting(),
        )

    # --- lifecycle ----------------------------------------------------------------------------
    def resume(self, path: Path) -> None:
        """Restore learning state from a session checkpoint (before :meth:`start`)."""
        state = session_state.load_state(path)
        session_state.restore(state, self.trainer, self.teacher, self.labels)
        self.personalisation = state.get("personalisation")
        self.resumed_from = path

    def start(self) -> None:
        self._first_checkpoint_at = self.trainer.step + FIRST_CHECKPOINT_STEPS
        started: list[Worker] = []
        try:
            for worker in self.workers:
                worker.start()
                started.append(worker)
        except BaseException:
            for worker in reversed(started):
                worker.stop()
            raise

    def stop(self) -> None:
        """Stop the workers in reverse order and write a final checkpoint."""
        errors: list[BaseException] = []
        for worker in reversed(self.workers):
            try:
                worker.stop()
            except Exception as exc:  # keep stopping the others; re-raised below (tests)
                errors.append(exc)
        try:
            self.save_checkpoint()
        except CheckpointWriteError as exc:  # disk full: the last good checkpoint stays
            self.on_error(f"final checkpoint failed: {exc}")
        if errors:
            raise errors[0]

    # --- routing ------------------------------------------------------------------------------
    def submit(self, paired: PairedWindow) -> PairedWindow:
        """Route one window (called from the windowing thread); returns it as routed
        (``held_out`` set when its labelled stretch stays out of distillation)."""
        imu = paired.imu
        self.windows_seen += 1
        problem = window_problem(imu.data)
        if problem is not None:  # NaN/Inf, absurd or flat data: neither learned nor predicted
            self.bad_windows[problem] = self.bad_windows.get(problem, 0) + 1
            return paired
        self.trainer.imu_stats.observe(imu.data)
        self.predictor.submit(imu)
        name = self.labels.label_for(imu.t_start, imu.t_end) or paired.label
        if name is not None:
            if name not in self.labels.activities:
                try:
                    self.labels.add_activity(name)  # a label marker from other lab software
                except ValueError:
                    name = None
            if name is not None:
                stretch = self.labels.add_window(name, imu.data, imu.t_start)
                if stretch is not None and held_out(
                    self.labels.ordinal(stretch), self.config.trainer.hold_out_every
                ):
                    paired = replace(paired, held_out=True)
        if paired.clip is not None and self.camera_on:
            self.teacher.submit(paired)
        return paired

    def set_camera(self, on: bool) -> None:
        """Camera off: drop the teacher's pending clip and the teacher's prediction."""
        self.camera_on = bool(on)
        if not on:
            self.teacher.clear()
            self.board.clear_teacher()
            self.trainer.request_flush()  # train on what was collected, then stop

    def _on_pair(self, imu: ImuWindow, z_v: np.ndarray, paired: PairedWindow) -> None:
        name = self.labels.label_for(imu.t_start, imu.t_end) or paired.label
        if not paired.held_out:
            self.replay.add(imu.data, z_v)  # a held-out labelled window: the guard's test data
        if self.trainer.step >= self._first_checkpoint_at:  # early, then every checkpoint_every_s
            self._first_checkpoint_at = math.inf
            self._periodic_checkpoint()
        if name is not None:
            self.labels.add_teacher_embedding(name, z_v)
        if not self.camera_on:
            return
        features = self.teacher.last_features
        if self.text_anchors is not None and features is not None:
            prediction = self.text_anchors.prediction(
                features, self.labels.activities, self._teacher_smoother, imu.t_end
            )
            self.board.add_teacher(prediction)
            return
        names, anchors = self.labels.teacher_anchors()
        prediction = teacher_prediction(
            z_v,
            names,
            anchors,
            self.config.predictor.anchor_temperature,
            self._teacher_smoother,
            imu.t_end,
        )
        self.board.add_teacher(prediction)

    def _on_prediction(self, prediction: Prediction, window: ImuWindow) -> None:
        self.board.add_student(prediction)
        if self.metrics is not None:
            truth = self.truth(window.t_start, window.t_end) if self.truth is not None else None
            self.metrics.write(
                {
                    "type": "prediction",
                    "t": prediction.t,
                    "label": prediction.label,
                    "confidence": prediction.confidence,
                    "latency_ms": prediction.latency_ms,
                    "camera_on": window.camera_on,
                    "truth": truth,
                }
            )

    # --- checkpoints --------------------------------------------------------------------------
    def _periodic_checkpoint(self) -> None:
        try:
            self.save_checkpoint()
            self._checkpoint_problem = None
        except CheckpointWriteError as exc:  # disk full & co: said in words, once per episode
            if str(exc) != self._checkpoint_problem:
                self._checkpoint_problem = str(exc)
                self.on_error(f"checkpoint failed: {exc}")
        except Exception as exc:  # a failed checkpoint must not stop training
            logger.exception("checkpoint failed")
            self.on_error(f"checkpoint failed: {exc}")

    def save_checkpoint(self) -> Path | None:
        """Write the session checkpoint atomically (any thread); None without a path."""
        if self.checkpoint_path is None:
            return None
        with self._checkpoint_lock:
            payload = self.checkpoint_state()
            session_state.save_state(self.checkpoint_path, payload)
            self.checkpoints_written += 1
        return self.checkpoint_path

    def checkpoint_state(self) -> dict[str, Any]:
        agreement = self.board.agreement
        state = session_state.build_state(
            self.config,
            self.trainer,
            self.teacher,
            self.labels,
            self.classifier.head,
            agreement if not math.isnan(agreement) else math.nan,
            self.classifier.labelled_accuracy,
            personalisation=self.personalisation,
        )
        # The student guard's verdict, and the student it serves when it rolled back (export
        # takes ``served_student`` over ``ema_student``; resume keeps training the EMA).
        guard = self.classifier.guard.verdict
        state["guard"] = session_state.to_plain(guard.as_dict())
        served = self.classifier.served
        if guard.rolled_back and served is not None:
            state["served_student"] = session_state.to_plain(served.state_dict())
        return state

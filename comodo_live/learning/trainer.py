"""The trainer worker: continual COMODO distillation of the IMU student from replayed pairs.

The step is the shared one of :class:`~comodo_live.training.core.DistillCore` (augment →
student → COMODO loss vs queue → AdamW → enqueue → EMA), the same as fast replay and offline
``distill``. Each step samples a batch from the session's :class:`PairStore` (all pairs not yet
in the queue, newest first, plus pairs drawn uniformly from all others). Steps come in rounds
(:class:`~comodo_live.training.core.RoundSchedule`): a round starts when enough new pairs have
arrived, lasts ``replay_ratio`` steps per new pair with its own warm-up and cosine decay, and
when no new pairs arrive (camera off) training stops at the end of the round.
:meth:`TrainerWorker.request_flush` (camera switched off, end of a replay) gives the pairs
collected since the last round one last round. :meth:`TrainerWorker.step_until_budget` runs the
same schedule synchronously (deterministic fast replay, no thread).

A divergence guard skips a step whose loss is not finite or whose gradient/parameter norm
explodes, and rolls the student and optimiser back to the last good state.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch

from comodo_live.config import TrainerConfig
from comodo_live.learning.imu_stats import ChannelStats
from comodo_live.learning.pair_store import PairStore
from comodo_live.models.student import ImuStudent
from comodo_live.records import TrainStats
from comodo_live.training.core import DistillCore, RoundSchedule
from comodo_live.training.diagnostics import mean_pairwise_cosine, target_entropy
from comodo_live.worker import Worker

logger = logging.getLogger(__name__)

GOOD_STATE_EVERY = 20  # steps between in-memory "last good state" copies
DIAGNOSTICS_EVERY = 10  # steps between entropy / cosine diagnostics
RATE_WINDOW_S = 5.0


@dataclass(frozen=True)
class EncoderSnapshot:
    """A private copy of the EMA student for the predictor side (never touched by the trainer).

    ``urgent``: the weights were replaced (personalisation); the classifier refits at once.
    """

    model: ImuStudent
    step: int
    serial: int
    urgent: bool = False


class TrainerWorker(Worker):
    """Continual COMODO updates of ``student``.

    Args:
        config: trainer settings.
        student: the student (trained in place); its EMA copy serves predictions.
        replay: the session's (IMU window, z_v) pairs, filled by the teacher.
        checkpoint: called in this thread every ``config.checkpoint_every_s`` while training.
        seed: sampling / augmentation seed.
    """

    def __init__(
        self,
        config: TrainerConfig,
        student: ImuStudent,
        replay: PairStore,
        checkpoint: Callable[[], None] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__("comodo-trainer")
        self.config = config
        self.student = student
        self.recipe = config.recipe()
        self.core = DistillCore(student, self.recipe, replay.dim, seed)
        self.ema = cast(ImuStudent, self.core.ema)
        self.replay = replay
        self.queue = self.core.queue
        self.optimizer = self.core.optimizer
        self.schedule = RoundSchedule(self.recipe)
        self.imu_stats = ChannelStats(student.in_channels, config.imu_stats_windows)
        self._checkpoint = checkpoint
        self._rng = np.random.default_rng(seed)
        self._flush = False
        self.step = 0
        self.skipped_steps = 0
        self.rollbacks = 0
        self.train_seconds = 0.0
        self._good: dict[str, Any] | None = None
        self._step_times: deque[float] = deque()
        self._first_step_time: float | None = None
        self._loss_history: deque[tuple[int, float]] = deque(maxlen=1000)
        self._stats: TrainStats | None = None
        self._diag = (float("nan"), float("nan"))
        self._snapshots: deque[EncoderSnapshot] = deque(maxlen=1)
        self._serial = 0
        self._last_publish = -np.inf
        self.state_lock = (
            threading.Lock()
        )  # held while the models change (checkpoints read under it)

    # --- what other threads read --------------------------------------------------------------
    @property
    def stats(self) -> TrainStats | None:
        """Latest step's diagnostics, with the steps/s rate as of now."""
        stats = self._stats
        return None if stats is None else dataclasses.replace(stats, steps_per_s=self.steps_per_s())

    def steps_per_s(self) -> float:
        """Optimiser steps per second over the last ~5 s (0 when not training)."""
        now = time.monotonic()
        recent = [t for t in list(self._step_times) if t >= now - RATE_WINDOW_S]
        if not recent or self._first_step_time is None:
            return 0.0
        return len(recent) / max(min(RATE_WINDOW_S, now - self._first_step_time), 1e-3)

    def loss_history(self) -> np.ndarray:
        """(K, 2) float64 [step, loss]."""
        points = list(self._loss_history)
        return np.asarray(points, dtype=np.float64).reshape(-1, 2)

    def take_snapshot(self) -> EncoderSnapshot | None:
        """The newest unclaimed EMA snapshot, or None."""
        try:
            return self._snapshots.popleft()
        except IndexError:
            return None

    def publish_snapshot(self, urgent: bool = False) -> int:
        """Copy the EMA student for the predictor side now; returns the snapshot's serial.

        An unclaimed urgent snapshot that this one replaces passes its urgency on.
        """
        with self.state_lock:
            model = copy.deepcopy(self.ema).eval()
            urgent = urgent or any(s.urgent for s in list(self._snapshots))
            self._serial += 1
            serial = self._serial
            self._snapshots.append(EncoderSnapshot(model, self.step, serial, urgent))
        self._last_publish = time.monotonic()
        return serial

    def install_student(self, weights: dict[str, torch.Tensor]) -> int:
        """Replace student *and* EMA weights (personalisation; any thread, also while training).

        Distillation continues from these weights; the optimiser moments are kept, and the
        divergence guard's last good state becomes these weights (a rollback must not undo
        them). The session's IMU channel normalisation is kept (it may have been applied
        while the weights were being made). Publishes an urgent EMA snapshot so the classifier
        refits on the new encoder.

        Args:
            weights: a state dict of this student's architecture.

        Returns:
            The serial of the published snapshot.
        """
        with self.state_lock:
            own = self.student.state_dict()
            weights = {
                **weights,
                "channel_mean": own["channel_mean"].clone(),
                "channel_std": own["channel_std"].clone(),
            }
            self.student.load_state_dict(weights)
            self.ema.load_state_dict(weights)
            self._good = {
                "student": _clone(self.student.state_dict()),
                "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            }
        return self.publish_snapshot(urgent=True)

    # --- state for checkpoints ----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything the trainer needs to resume (plain tensors/values)."""
        with self.state_lock:
            return {
                "step": self.step,
                "skipped_steps": self.skipped_steps,
                "rollbacks": self.rollbacks,
                "train_seconds": self.train_seconds,
                "student_config": self.student.config,
                "student": _clone(self.student.state_dict()),
                "ema_student": _clone(self.ema.state_dict()),
                "queue": self.queue.queue_state(),
                "optimizer": copy.deepcopy(self.optimizer.state_dict()),
                "replay": self.replay.state(),
                "imu_stats": self.imu_stats.state(),
                "schedule": self.schedule.state(),
            }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state` snapshot (before :meth:`start`)."""
        with self.state_lock:
            self.student.load_state_dict(state["student"])
            self.ema.load_state_dict(state["ema_student"])
            self.queue.load_queue_state(state["queue"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.replay.load_state(state["replay"])
            self.imu_stats.load_state(state["imu_stats"])
            self.schedule.load_state(state.get("schedule", {}))
            self.step = int(state["step"])
            self.skipped_steps = int(state.get("skipped_steps", 0))
            self.rollbacks = int(state.get("rollbacks", 0))
            self.train_seconds = float(state.get("train_seconds", 0.0))
        self._save_good_state()

    # --- the loop -----------------------------------------------------------------------------
    def _open(self) -> None:
        self._last_checkpoint = time.monotonic()
        self.publish_snapshot()

    def request_flush(self) -> None:
        """Give the pairs collected since the last round one last round (camera switched off,
        end of a replay), however few; then training stops until new pairs arrive."""
        self._flush = True

    def in_round(self) -> bool:
        """Whether a round is active now (starting one if it is due; consumes a flush)."""
        if self.schedule.active(self.step):
            return True
        flush, self._flush = self._flush, False
        return self.schedule.maybe_start(self.step, self.replay.added, flush)

    def waiting(self) -> str:
        """Why training has not started, in words ("" once it can train)."""
        if not self.imu_stats.applied:
            return f"waiting for IMU statistics ({self.imu_stats.seen}/{self.imu_stats.windows} windows)"
        if len(self.replay) < 2:
            return f"waiting for pairs ({len(self.replay)}/2)"
        return ""

    def ready(self) -> bool:
        """Channel statistics applied (applying them if they just became ready) and >= 2 pairs."""
        if self.imu_stats.ready and not self.imu_stats.applied:
            self._apply_imu_stats()
        return self.imu_stats.applied and len(self.replay) >= 2

    def step_until_budget(self, max_steps: int | None = None) -> int:
        """Train synchronously (no thread) until no round is due; returns the steps taken.

        Fast replay calls this after each pair (and after :meth:`request_flush` at the end):
        given the same pair sequence and seed, the student is the same run to run.

        Args:
            max_steps: stop after this many steps (None: until the budget is spent).
        """
        taken = 0
        while (max_steps is None or taken < max_steps) and self.ready() and self.in_round():
            t0 = time.monotonic()
            if self.train_step():
                taken += 1
            elif self.schedule.active(self.step):
                # a skipped (diverged) step still spends one step of the round
                self.schedule.round_length -= 1
            self.train_seconds += time.monotonic() - t0
        return taken

    def _loop(self) -> None:
        interval = 1.0 / self.config.max_steps_per_s if self.config.max_steps_per_s > 0 else 0.0
        while not self._stop_event.is_set():
            ready = self.ready()
            now = time.monotonic()
            if now - self._last_publish >= self.config.publish_every_s:
                self.publish_snapshot()
            if (
                self._checkpoint is not None
                and now - self._last_checkpoint >= self.config.checkpoint_every_s
            ):
                self._last_checkpoint = now
                self._checkpoint()
            if not ready or not self.in_round():
                self._stop_event.wait(0.05)
                continue
            t0 = time.monotonic()
            if not self.train_step() and self.schedule.active(self.step):
                self.schedule.round_length -= 1  # a skipped step spends one step of the round
            elapsed = time.monotonic() - t0
            self.train_seconds += elapsed
            if interval > elapsed:
                self._stop_event.wait(interval - elapsed)

    def _apply_imu_stats(self) -> None:
        mean, std = self.imu_stats.result()
        with self.state_lock:
            self.student.set_channel_stats(mean, std)
            self.ema.set_channel_stats(mean, std)
            self.imu_stats.applied = True
        self.publish_snapshot()

    def train_step(self) -> bool:
        """One guarded optimiser step at the round schedule's learning rate; returns True if it
        was taken. Called outside a round, it starts one on any new pairs (False if none)."""
        cfg = self.config
        if not self.schedule.active(self.step) and not self.schedule.maybe_start(
            self.step, self.replay.added, flush=True
        ):
            return False
        slots, imu, z = self.replay.sample(cfg.batch_size, self._rng)
        if slots.size < 2:
            return False
        x = torch.from_numpy(imu)  # (B, C, N)
        z_v = torch.from_numpy(z)  # (B, D)
        fresh = torch.from_numpy(~self.replay.queued_mask(slots))  # (B,) not yet in the queue
        lr = self.schedule.lr(self.step)
        with self.state_lock:
            if self.step % DIAGNOSTICS_EVERY == 0:
                entries = self.queue.entries()
                self._diag = (
                    target_entropy(z_v, entries, cfg.tau_t),
                    mean_pairwise_cosine(torch.cat([entries, z_v])),
                )
            result = self.core.step(x, z_v, lr, fresh)
            if not result.taken:
                return self._diverged(result.reason)
            self.replay.mark_queued(slots)
            self.step += 1
        self._record(result.loss, lr)
        if self.step % GOOD_STATE_EVERY == 0:
            self._save_good_state()
        return True

    def _diverged(self, reason: str) -> bool:
        self.skipped_steps += 1
        self.optimizer.zero_grad(set_to_none=True)
        if self._good is not None:
            self.student.load_state_dict(self._good["student"])
            self.optimizer.load_state_dict(self._good["optimizer"])
            self.rollbacks += 1
        logger.warning(
            "trainer: skipped step %d (%s); rolled back to the last good state", self.step, reason
        )
        return False

    def _save_good_state(self) -> None:
        with self.state_lock:
            self._good = {
                "student": _clone(self.student.state_dict()),
                "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            }

    def _record(self, loss: float, lr: float) -> None:
        now = time.monotonic()
        if self._first_step_time is None:
            self._first_step_time = now
        self._step_times.append(now)
        while self._step_times and self._step_times[0] < now - RATE_WINDOW_S:
            self._step_times.popleft()
        rate = self.steps_per_s()
        self._loss_history.append((self.step, loss))
        self._stats = TrainStats(
            step=self.step,
            loss=loss,
            steps_per_s=rate,
            queue_fill=self.queue.fill,
            target_entropy=self._diag[0],
            mean_cosine=self._diag[1],
            lr=lr,
            skipped_steps=self.skipped_steps,
        )


def _clone(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in state.items()}

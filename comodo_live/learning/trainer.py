"""The trainer worker: continual COMODO distillation of the IMU student from replayed pairs.

Each step samples a batch from the bounded :class:`PairStore` (all pairs not yet in the
queue, newest first, plus random older ones), computes the COMODO loss against the teacher
queue, takes an AdamW step (linear warm-up), enqueues the batch's new teacher embeddings (FIFO,
after the step) and updates the EMA student that serves predictions. A divergence guard skips
a step whose loss is not finite or whose gradient/parameter norm explodes, and rolls the student
and optimiser back to the last good state.
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
from typing import Any

import numpy as np
import torch
from torch import nn

from comodo_live.config import TrainerConfig
from comodo_live.learning.imu_stats import ChannelStats
from comodo_live.learning.pair_store import PairStore
from comodo_live.models.loss import comodo_loss
from comodo_live.models.queue import TeacherQueue
from comodo_live.models.student import ImuStudent
from comodo_live.records import TrainStats
from comodo_live.training.augment import ImuAugment
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
        replay: bounded store of (IMU window, z_v) pairs filled by the teacher.
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
        self.ema: ImuStudent = copy.deepcopy(student).eval().requires_grad_(False)
        self.replay = replay
        self.queue = TeacherQueue(config.queue_size, replay.dim)
        self.optimizer = torch.optim.AdamW(
            student.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.imu_stats = ChannelStats(student.in_channels, config.imu_stats_windows)
        self.augment = ImuAugment() if config.augment else None
        self._checkpoint = checkpoint
        self._rng = np.random.default_rng(seed)
        self._gen = torch.Generator().manual_seed(seed)
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
            self.step = int(state["step"])
            self.skipped_steps = int(state.get("skipped_steps", 0))
            self.rollbacks = int(state.get("rollbacks", 0))
            self.train_seconds = float(state.get("train_seconds", 0.0))
        self._save_good_state()

    # --- the loop -----------------------------------------------------------------------------
    def _open(self) -> None:
        self._last_checkpoint = time.monotonic()
        self.publish_snapshot()

    def _loop(self) -> None:
        interval = 1.0 / self.config.max_steps_per_s if self.config.max_steps_per_s > 0 else 0.0
        while not self._stop_event.is_set():
            if self.imu_stats.ready and not self.imu_stats.applied:
                self._apply_imu_stats()
            now = time.monotonic()
            if now - self._last_publish >= self.config.publish_every_s:
                self.publish_snapshot()
            if (
                self._checkpoint is not None
                and now - self._last_checkpoint >= self.config.checkpoint_every_s
            ):
                self._last_checkpoint = now
                self._checkpoint()
            if len(self.replay) < self.config.min_pairs or not self.imu_stats.applied:
                self._stop_event.wait(0.05)
                continue
            t0 = time.monotonic()
            self.train_step()
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
        """One guarded optimiser step; returns True if it was taken."""
        cfg = self.config
        slots, imu, z = self.replay.sample(cfg.batch_size, self._rng)
        if slots.size < 2:
            return False
        x = torch.from_numpy(imu)  # (B, C, N)
        z_v = torch.from_numpy(z)  # (B, D)
        if self.augment is not None:
            x = self.augment(x, self._gen)
        lr = cfg.lr * min(1.0, (self.step + 1) / cfg.warmup_steps) if cfg.warmup_steps else cfg.lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with self.state_lock:
            self.student.train()
            z_x = self.student(x)  # (B, D), L2-normalised by the head
            loss = comodo_loss(z_x, z_v, self.queue.entries(), cfg.tau_t, cfg.tau_s)
            if not torch.isfinite(loss):
                return self._diverged(f"loss is {float(loss.detach())}")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            params = [p for p in self.student.parameters() if p.grad is not None]
            grad_norm = float(nn.utils.clip_grad_norm_(params, cfg.max_grad_norm))
            if not np.isfinite(grad_norm) or grad_norm > cfg.divergence_norm:
                return self._diverged(f"gradient norm is {grad_norm:.3g}")
            self.optimizer.step()
            param_norm = float(
                torch.linalg.vector_norm(torch.stack([p.detach().norm() for p in params]))
            )
            if not np.isfinite(param_norm) or param_norm > cfg.divergence_norm:
                return self._diverged(f"parameter norm is {param_norm:.3g}")
            fresh = torch.from_numpy(self.replay.mark_queued(slots))
            if self.step % DIAGNOSTICS_EVERY == 0:
                entries = self.queue.entries()
                self._diag = (
                    target_entropy(z_v, entries, cfg.tau_t),
                    mean_pairwise_cosine(torch.cat([entries, z_v])),
                )
            self.queue.enqueue(z_v[fresh])
            self._update_ema()
            self.step += 1
        loss_value = float(loss.detach())
        self._record(loss_value, lr)
        if self.step % GOOD_STATE_EVERY == 0:
            self._save_good_state()
        return True

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = self.config.ema_decay
        for ema_p, p in zip(self.ema.parameters(), self.student.parameters(), strict=True):
            ema_p.mul_(decay).add_(p.detach(), alpha=1.0 - decay)
        for ema_b, b in zip(self.ema.buffers(), self.student.buffers(), strict=True):
            ema_b.copy_(b)

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

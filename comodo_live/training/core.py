"""The one distillation step shared by the live trainer, fast replay and offline ``distill``.

:class:`Recipe` holds the settings (chosen on validation folds of real data, see
``benchmarks/results/README.md``); :class:`DistillCore` owns the student's optimiser, the
COMODO teacher queue, the augmentation and the EMA copy, and takes one step:

    augment → student → loss vs queue → AdamW (lr given by the caller's schedule) → enqueue → EMA

:class:`RoundSchedule` is the learning-rate schedule for a stream that never ends, tied to data
and not to wall-clock time: training happens in *rounds*; a round starts when enough new pairs
arrived since the last one, lasts ``ceil(replay_ratio × new pairs)`` optimiser steps, warms up
over its first ``warmup_fraction`` and then decays to zero (cosine). When no new pairs arrive
(camera off) the current round runs to its end and training stops: the same stored pairs are
never ground on indefinitely. An offline run is a single round over all its pairs.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from comodo_live.models.infonce import InfoNCELoss
from comodo_live.models.loss import comodo_loss
from comodo_live.models.queue import TeacherQueue
from comodo_live.training.augment import ImuAugment

METHODS = ("comodo", "infonce")


@dataclass(frozen=True)
class Recipe:
    """Settings of the distillation step and of the round schedule.

    Attributes:
        method: ``"comodo"`` (queue soft-target loss) or ``"infonce"`` (IMU2CLIP-style).
        batch_size: pairs per optimiser step.
        lr: peak AdamW learning rate of each round.
        weight_decay: AdamW weight decay.
        warmup_fraction: fraction of each round's steps with a linear warm-up, [0, 1).
        queue_size: COMODO teacher queue length K (each teacher embedding enters it once).
        tau_t: COMODO teacher temperature.
        tau_s: COMODO student temperature.
        infonce_temperature: InfoNCE temperature.
        augment: random IMU augmentation (:class:`ImuAugment`) of every batch.
        ema_decay: per-step decay of the EMA student, [0, 1).
        max_grad_norm: gradient clipping norm.
        divergence_norm: a gradient or parameter norm above this counts as divergence.
        replay_ratio: optimiser steps per new pair (a round over P new pairs is
            ceil(replay_ratio × P) steps), > 0.
        round_min_pairs: new pairs a round needs at least (the first round starts at this many).
        round_growth: a later round waits for max(round_min_pairs, round_growth × pairs already
            trained on) new pairs, capped at ``round_max_pairs`` (0: every round_min_pairs).
        round_max_pairs: cap on the new pairs a round waits for.
        bf16: run the student's forward pass under bfloat16 autocast (loss in float32).
    """

    method: str = "comodo"
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    queue_size: int = 4096
    tau_t: float = 0.1
    tau_s: float = 0.05
    infonce_temperature: float = 0.07
    augment: bool = True
    ema_decay: float = 0.99
    max_grad_norm: float = 10.0
    divergence_norm: float = 1e4
    replay_ratio: float = 1.0
    round_min_pairs: int = 128
    round_growth: float = 1.0
    round_max_pairs: int = 2048
    bf16: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2, got {self.batch_size}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.replay_ratio <= 0:
            raise ValueError(f"replay_ratio must be > 0, got {self.replay_ratio}")
        if self.round_min_pairs < 1 or self.round_max_pairs < self.round_min_pairs:
            raise ValueError(
                "need 1 <= round_min_pairs <= round_max_pairs, got "
                f"{self.round_min_pairs}, {self.round_max_pairs}"
            )
        if self.round_growth < 0:
            raise ValueError(f"round_growth must be >= 0, got {self.round_growth}")


def round_lr_factor(step_in_round: int, length: int, warmup_fraction: float) -> float:
    """Multiplier of the peak rate at 0-based ``step_in_round`` of a ``length``-step round:
    linear warm-up over ``round(warmup_fraction × length)`` steps, then cosine decay to 0."""
    warmup = round(warmup_fraction * length)
    if step_in_round < warmup:
        return (step_in_round + 1) / warmup
    progress = (step_in_round - warmup) / max(1, length - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


class RoundSchedule:
    """Rounds of optimiser steps tied to the number of pairs seen (see the module docstring).

    Args:
        recipe: replay ratio, round sizes and warm-up.
    """

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.covered = 0  # pairs already given a round
        self.rounds = 0
        self.round_start = 0  # optimiser step at which the current round began
        self.round_length = 0  # its length in steps

    def need(self) -> int:
        """New pairs the next round waits for."""
        r = self.recipe
        return int(
            min(r.round_max_pairs, max(r.round_min_pairs, math.ceil(r.round_growth * self.covered)))
        )

    def active(self, step: int) -> bool:
        """Whether ``step`` lies inside the current round."""
        return step < self.round_start + self.round_length

    def remaining(self, step: int) -> int:
        return max(0, self.round_start + self.round_length - step)

    def maybe_start(self, step: int, added: int, flush: bool = False) -> bool:
        """Start a round at ``step`` if the previous one ended and enough new pairs arrived.

        Args:
            step: the optimiser step the round would begin at.
            added: pairs seen so far in the session.
            flush: start a round on any new pairs, however few (camera switched off, end of a
                replay): what was collected is trained on before training stops.

        Returns:
            Whether a round is active at ``step``.
        """
        if self.active(step):
            return True
        new = added - self.covered
        if new < 1 or (new < self.need() and not flush):
            return False
        self.round_start = int(step)
        self.round_length = max(1, math.ceil(self.recipe.replay_ratio * new))
        self.covered = int(added)
        self.rounds += 1
        return True

    def lr(self, step: int) -> float:
        """Learning rate at ``step`` (0 outside a round)."""
        if not self.active(step) or step < self.round_start:
            return 0.0
        factor = round_lr_factor(
            step - self.round_start, self.round_length, self.recipe.warmup_fraction
        )
        return self.recipe.lr * factor

    def state(self) -> dict[str, int]:
        return {
            "covered": self.covered,
            "rounds": self.rounds,
            "round_start": self.round_start,
            "round_length": self.round_length,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.covered = int(state.get("covered", 0))
        self.rounds = int(state.get("rounds", 0))
        self.round_start = int(state.get("round_start", 0))
        self.round_length = int(state.get("round_length", 0))


@dataclass(frozen=True)
class StepResult:
    """One step's outcome. ``taken``: the optimiser step was applied; otherwise ``reason``
    says why not (divergence). ``loss`` in nats; ``grad_norm`` before clipping."""

    taken: bool
    loss: float
    grad_norm: float = float("nan")
    reason: str = ""


class DistillCore:
    """Student, optimiser, teacher queue, augmentation and EMA of one distillation run.

    Args:
        student: maps (B, C, N) windows to (B, D) embeddings (L2-normalised here); trained in
            place.
        recipe: the settings.
        dim: teacher embedding size D.
        seed: seeds the augmentation.
        ema: keep an EMA copy of the student (the live app serves it).
    """

    def __init__(
        self, student: nn.Module, recipe: Recipe, dim: int, seed: int = 0, ema: bool = True
    ) -> None:
        self.student = student
        self.recipe = recipe
        self.ema: nn.Module | None = (
            copy.deepcopy(student).eval().requires_grad_(False) if ema else None
        )
        device = next(student.parameters()).device
        self.queue = TeacherQueue(recipe.queue_size, dim).to(device)
        params = [p for p in student.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
        self.augment = ImuAugment() if recipe.augment else None
        self.generator = torch.Generator().manual_seed(int(seed))
        self._infonce = InfoNCELoss(recipe.infonce_temperature)

    def loss(self, z_x: torch.Tensor, z_v: torch.Tensor) -> torch.Tensor:
        """(B, D) student and teacher embeddings → scalar loss."""
        r = self.recipe
        if r.method == "comodo":
            return comodo_loss(z_x, z_v, self.queue.entries(), r.tau_t, r.tau_s)
        return self._infonce(z_x, z_v)

    def step(
        self, imu: torch.Tensor, z_v: torch.Tensor, lr: float, enqueue: torch.Tensor | None = None
    ) -> StepResult:
        """One optimiser step on a batch.

        Args:
            imu: (B, C, N) float32 windows in physical units.
            z_v: (B, D) teacher embeddings.
            lr: learning rate of this step.
            enqueue: (B,) bool, the teacher embeddings to append to the queue after the step
                (each embedding should enter once); None: all of them.

        Returns:
            What happened; on divergence the gradients are cleared and nothing is updated
            except possibly the optimiser step itself (parameter-norm check, after it): the
            caller rolls back.
        """
        r = self.recipe
        device = next(self.student.parameters()).device
        x = imu.to(device)
        z_v = F.normalize(z_v.to(device).float(), dim=1)  # (B, D)
        if self.augment is not None:
            x = self.augment(x, self.generator)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.student.train()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=r.bf16):
            z_x = self.student(x)  # (B, D)
        z_x = F.normalize(z_x.float(), dim=1)
        loss = self.loss(z_x, z_v)
        loss_value = float(loss.detach())
        self.optimizer.zero_grad(set_to_none=True)
        if not math.isfinite(loss_value):
            return StepResult(False, loss_value, reason=f"loss is {loss_value}")
        loss.backward()
        params = [p for p in self.student.parameters() if p.grad is not None]
        grad_norm = float(nn.utils.clip_grad_norm_(params, r.max_grad_norm))
        if not np.isfinite(grad_norm) or grad_norm > r.divergence_norm:
            self.optimizer.zero_grad(set_to_none=True)
            return StepResult(False, loss_value, grad_norm, f"gradient norm is {grad_norm:.3g}")
        self.optimizer.step()
        param_norm = float(
            torch.linalg.vector_norm(torch.stack([p.detach().norm() for p in params]))
        )
        if not np.isfinite(param_norm) or param_norm > r.divergence_norm:
            return StepResult(False, loss_value, grad_norm, f"parameter norm is {param_norm:.3g}")
        if r.method == "comodo":
            self.queue.enqueue(z_v if enqueue is None else z_v[enqueue.to(device)])
        self.update_ema()
        return StepResult(True, loss_value, grad_norm)

    @torch.no_grad()
    def update_ema(self) -> None:
        if self.ema is None:
            return
        decay = self.recipe.ema_decay
        for ema_p, p in zip(self.ema.parameters(), self.student.parameters(), strict=True):
            ema_p.mul_(decay).add_(p.detach(), alpha=1.0 - decay)
        for ema_b, b in zip(self.ema.buffers(), self.student.buffers(), strict=True):
            ema_b.copy_(b)

"""Offline distillation of a frozen teacher into an IMU student (COMODO or InfoNCE).

The teacher is frozen and so is its projection, so the teacher embeddings z_v of every trial are
computed once (:func:`teacher_embeddings`) and the loop only runs the student. The step is the
live trainer's (:mod:`comodo_live.training.core`); an offline run is one round of the live
schedule: AdamW, linear warm-up over the first ``warmup_fraction`` of the steps, then cosine decay
to zero (``schedule="cosine"``) or a constant rate (``schedule="constant"``). Defaults come from
:class:`~comodo_live.training.core.Recipe` (the live defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from comodo_live.models.projection import FrozenTeacherProjection
from comodo_live.models.student import ImuStudent
from comodo_live.training.augment import ImuAugment
from comodo_live.training.core import METHODS, DistillCore, Recipe, round_lr_factor
from comodo_live.training.diagnostics import mean_pairwise_cosine, target_entropy

_RECIPE = Recipe()
StudentT = TypeVar("StudentT", bound=nn.Module)
SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class DistillConfig:
    """Settings of one offline distillation run.

    Attributes:
        method: ``"comodo"`` (queue soft-target loss) or ``"infonce"`` (IMU2CLIP-style).
        steps: optimiser steps.
        batch_size: windows per step.
        lr: peak AdamW learning rate.
        weight_decay: AdamW weight decay.
        warmup_fraction: fraction of the steps with a linear warm-up, [0, 1).
        schedule: ``"cosine"`` decay to 0 after warm-up, or ``"constant"``.
        queue_size: COMODO queue length K.
        tau_t: COMODO teacher temperature.
        tau_s: COMODO student temperature.
        infonce_temperature: InfoNCE temperature.
        augment: IMU augmentation, or None for none (default: the recipe's).
        seed: seeds batch order and augmentation.
        log_every: steps between history records.
        bf16: run the student's forward pass under CPU/GPU bfloat16 autocast (~1.5x faster
            training on CPUs with bf16 support; the loss itself is computed in float32).
    """

    method: str = "comodo"
    steps: int = 1000
    batch_size: int = _RECIPE.batch_size
    lr: float = _RECIPE.lr
    weight_decay: float = _RECIPE.weight_decay
    warmup_fraction: float = _RECIPE.warmup_fraction
    schedule: str = "cosine"
    queue_size: int = _RECIPE.queue_size
    tau_t: float = _RECIPE.tau_t
    tau_s: float = _RECIPE.tau_s
    infonce_temperature: float = _RECIPE.infonce_temperature
    augment: ImuAugment | None = ImuAugment() if _RECIPE.augment else None
    seed: int = 0
    log_every: int = 50
    bf16: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.steps < 1 or self.batch_size < 2:
            raise ValueError(
                f"steps must be >= 1 and batch_size >= 2, got {self.steps}, {self.batch_size}"
            )
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    def recipe(self) -> Recipe:
        """The shared step's settings for this run (no divergence limit offline)."""
        return Recipe(
            method=self.method,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            warmup_fraction=self.warmup_fraction,
            queue_size=self.queue_size,
            tau_t=self.tau_t,
            tau_s=self.tau_s,
            infonce_temperature=self.infonce_temperature,
            augment=self.augment is not None,
            divergence_norm=float("inf"),
            bf16=self.bf16,
        )


@dataclass
class DistillHistory:
    """Per-interval training record.

    Attributes:
        step: step at the end of each interval.
        loss: mean loss over the interval (nats).
        target_entropy: COMODO target entropy / log(bank size) at the interval's last step, [0, 1].
        mean_cosine: mean pairwise cosine of the bank's teacher embeddings, [-1, 1].
        lr: learning rate at the interval's last step.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    target_entropy: list[float] = field(default_factory=list)
    mean_cosine: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[float] | list[int]]:
        return {
            "step": self.step,
            "loss": self.loss,
            "target_entropy": self.target_entropy,
            "mean_cosine": self.mean_cosine,
            "lr": self.lr,
        }


def new_student(imu_train: np.ndarray, seed: int, **student_kwargs: Any) -> ImuStudent:
    """A seeded :class:`ImuStudent` whose channel statistics come from (n, 6, N) training IMU."""
    student = ImuStudent(seed=seed, **student_kwargs)
    channels = imu_train.transpose(1, 0, 2).reshape(imu_train.shape[1], -1)  # (6, n * N)
    student.set_channel_stats(channels.mean(axis=1), channels.std(axis=1) + 1e-6)
    return student


def fit_projection(
    train_features: np.ndarray, seed: int, centre: bool = True, **projection_kwargs: Any
) -> FrozenTeacherProjection:
    """A seeded frozen teacher projection, feature mean fitted on the (n, F) training features."""
    projection = FrozenTeacherProjection(
        train_features.shape[1], seed=seed, centre=centre, **projection_kwargs
    )
    projection.fit_stats(torch.as_tensor(train_features, dtype=torch.float32))
    return projection


@torch.no_grad()
def teacher_embeddings(
    projection: nn.Module, features: np.ndarray, batch_size: int = 512
) -> np.ndarray:
    """Frozen teacher projection of cached features, (n, F) → (n, D) L2-normalised float32."""
    projection.eval()
    device = next(iter(projection.buffers()), torch.zeros(0)).device
    out = []
    for start in range(0, features.shape[0], batch_size):
        chunk = torch.as_tensor(
            features[start : start + batch_size], dtype=torch.float32, device=device
        )
        out.append(F.normalize(projection(chunk).float(), dim=1).cpu().numpy())  # (B, D)
    return np.concatenate(out).astype(np.float32)


def lr_factor(step: int, total: int, warmup_fraction: float, schedule: str) -> float:
    """Multiplier of the peak rate at 0-based ``step``: linear warm-up, then cosine or constant."""
    warmup = round(warmup_fraction * total)
    if schedule == "constant":
        return (step + 1) / warmup if step < warmup else 1.0
    return round_lr_factor(step, total, warmup_fraction)


def distill(
    student: StudentT,
    imu: np.ndarray,
    z_v: np.ndarray,
    config: DistillConfig | None = None,
    progress: bool = True,
) -> tuple[StudentT, DistillHistory]:
    """Train ``student`` in place so its embeddings of ``imu`` match the teacher's ``z_v``.

    The step is the live trainer's (:class:`~comodo_live.training.core.DistillCore`); an
    offline run is one round over all pairs, in shuffled epochs, each teacher embedding
    entering the COMODO queue once (as live).

    Args:
        student: module mapping (B, 6, N) windows to (B, D) embeddings (normalised here).
        imu: (n, 6, N) float32 unlabelled windows.
        z_v: (n, D) teacher embeddings of the same trials (see :func:`teacher_embeddings`).
        config: run settings; defaults to :class:`DistillConfig`.
        progress: show a tqdm bar.

    Returns:
        The trained student (same object) and its history.
    """
    cfg = config or DistillConfig()
    if imu.shape[0] != z_v.shape[0] or imu.shape[0] < 2:
        raise ValueError(f"imu ({imu.shape[0]}) and z_v ({z_v.shape[0]}) need the same n >= 2")
    device = next(student.parameters()).device
    imu_t = torch.as_tensor(imu, dtype=torch.float32, device=device)  # (n, 6, N)
    z_v_t = F.normalize(torch.as_tensor(z_v, dtype=torch.float32, device=device), dim=1)  # (n, D)
    core = DistillCore(student, cfg.recipe(), z_v_t.shape[1], cfg.seed, ema=False)
    core.augment = cfg.augment
    generator = core.generator
    queued = torch.zeros(imu_t.shape[0], dtype=torch.bool)  # (n,) entered the queue
    batch = min(cfg.batch_size, imu_t.shape[0])
    order = torch.randperm(imu_t.shape[0], generator=generator)
    cursor, losses = 0, list[float]()
    history = DistillHistory()
    for step in tqdm(range(cfg.steps), desc=f"distill[{cfg.method}]", disable=not progress):
        if cursor + batch > order.numel():
            order, cursor = torch.randperm(imu_t.shape[0], generator=generator), 0
        idx = order[cursor : cursor + batch]
        cursor += batch
        target = z_v_t[idx.to(device)]  # (B, D)
        lr = cfg.lr * lr_factor(step, cfg.steps, cfg.warmup_fraction, cfg.schedule)
        fresh = ~queued[idx]  # (B,)
        log = (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps
        diag = (float("nan"), float("nan"))
        if log:
            entries = core.queue.entries() if cfg.method == "comodo" else target[:0]
            diag = (
                target_entropy(target, entries, cfg.tau_t),
                mean_pairwise_cosine(torch.cat([entries, target])),
            )
        result = core.step(imu_t[idx.to(device)], target, lr, fresh)
        if result.taken:
            queued[idx] = True
        if log:
            history.step.append(step + 1)
            history.loss.append(float(np.mean([*losses, result.loss])))
            history.target_entropy.append(diag[0])
            history.mean_cosine.append(diag[1])
            history.lr.append(lr)
            losses = []
        else:
            losses.append(result.loss)
    student.eval()
    return student, history

"""Supervised training on a few labels: from scratch (baseline d) or fine-tuning a distilled
student (the personalisation recipe g). Student encoder + linear head, cross-entropy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from comodo_live.models.student import ImuStudent
from comodo_live.training.augment import ImuAugment
from comodo_live.training.distill import lr_factor
from comodo_live.training.probe import TopK, topk_accuracy


@dataclass(frozen=True)
class SupervisedConfig:
    """Settings of one supervised run.

    Attributes:
        steps: optimiser steps.
        batch_size: labelled windows per step (capped at the number of labelled windows).
        lr: peak AdamW learning rate of the head.
        encoder_lr_scale: encoder rate = ``lr * encoder_lr_scale`` (1 from scratch; < 1 is a
            gentler fine-tune).
        weight_decay: AdamW weight decay.
        warmup_fraction: linear warm-up fraction of the steps, then cosine decay.
        label_smoothing: cross-entropy label smoothing, [0, 1).
        augment: IMU augmentation, or None.
        seed: seeds head init, batch order and augmentation.
        bf16: forward pass under bfloat16 autocast (loss in float32).
    """

    steps: int = 300
    batch_size: int = 64
    lr: float = 1e-3
    encoder_lr_scale: float = 1.0
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    label_smoothing: float = 0.0
    augment: ImuAugment | None = None
    seed: int = 0
    bf16: bool = False

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(
                f"steps and batch_size must be >= 1, got {self.steps}, {self.batch_size}"
            )
        if self.lr <= 0 or self.encoder_lr_scale < 0:
            raise ValueError(
                f"lr must be > 0 and encoder_lr_scale >= 0, got {self.lr}, {self.encoder_lr_scale}"
            )
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")


class StudentClassifier(nn.Module):
    """A student's encoder with a linear classification head.

    Args:
        student: the encoder (its ``encode`` output feeds the head).
        n_classes: number of classes.

    Shape:
        input (B, C, N); :meth:`encode` (B, E); output logits (B, n_classes).
    """

    def __init__(self, student: ImuStudent, n_classes: int) -> None:
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.student: ImuStudent = student
        self.classifier = nn.Linear(student.embed_dim, n_classes)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.student.encode(x)  # (B, E)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.encode(x))  # (B, n_classes)


def train_classifier(
    student: ImuStudent,
    imu: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    config: SupervisedConfig | None = None,
    progress: bool = False,
    on_step: Callable[[int, int], None] | None = None,
) -> StudentClassifier:
    """Train a copy of ``student``'s encoder plus a new linear head on labelled windows.

    Args:
        student: the encoder to start from (random for baseline d, distilled for recipe g);
            it is deep-copied, the argument is left unchanged.
        imu: (n, 6, N) float32 labelled windows.
        labels: (n,) int labels in [0, n_classes).
        n_classes: number of classes.
        config: settings.
        progress: show a tqdm bar.
        on_step: called as ``on_step(steps_done, steps)`` after every optimiser step (progress
            reports; an exception raised there aborts training and propagates).
    """
    cfg = config or SupervisedConfig()
    if imu.shape[0] != labels.shape[0] or imu.shape[0] == 0:
        raise ValueError(
            f"imu ({imu.shape[0]}) and labels ({labels.shape[0]}) need the same n >= 1"
        )
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(
            f"labels must be in [0, {n_classes}), got [{labels.min()}, {labels.max()}]"
        )
    generator = torch.Generator().manual_seed(cfg.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = StudentClassifier(copy.deepcopy(student), n_classes)
    device = next(student.parameters()).device
    model.to(device).train()
    groups = [
        {"params": list(model.classifier.parameters()), "scale": 1.0},
        {"params": list(model.student.parameters()), "scale": cfg.encoder_lr_scale},
    ]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    imu_t = torch.as_tensor(imu, dtype=torch.float32, device=device)  # (n, 6, N)
    labels_t = torch.as_tensor(labels, dtype=torch.long, device=device)  # (n,)
    batch = min(cfg.batch_size, imu_t.shape[0])
    for step in tqdm(range(cfg.steps), desc="supervised", disable=not progress):
        idx = torch.randperm(imu_t.shape[0], generator=generator)[:batch].to(device)
        window = imu_t[idx]  # (B, 6, N)
        if cfg.augment is not None:
            window = cfg.augment(window, generator)
        factor = lr_factor(step, cfg.steps, cfg.warmup_fraction, "cosine")
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * factor * group["scale"]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            logits = model(window)  # (B, n_classes)
        loss = F.cross_entropy(logits.float(), labels_t[idx], label_smoothing=cfg.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if on_step is not None:
            on_step(step + 1, cfg.steps)
    return model.eval()


@torch.no_grad()
def evaluate_classifier(
    model: StudentClassifier, imu: np.ndarray, labels: np.ndarray, batch_size: int = 256
) -> TopK:
    """Top-1/3/5 (percent) of the classifier's own head on (n, 6, N) windows."""
    model.eval()
    device = next(model.parameters()).device
    scores = []
    for start in range(0, imu.shape[0], batch_size):
        window = torch.as_tensor(
            imu[start : start + batch_size], dtype=torch.float32, device=device
        )
        scores.append(model(window).float().cpu().numpy())  # (B, n_classes)
    all_scores = np.concatenate(scores)
    acc = topk_accuracy(all_scores, np.arange(all_scores.shape[1]), labels)
    return TopK(top1=acc[1], top3=acc[3], top5=acc[5])

"""Evaluation the paper's way: frozen embeddings, standardised, a linear probe, top-1/3/5.

Embeddings come from the student's encoder *without* its projection head (``student.encode``).
Nearest-prototype (cosine to class means) is a secondary, training-free metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

TOPK: tuple[int, ...] = (1, 3, 5)


@dataclass(frozen=True)
class TopK:
    """Top-k accuracies in percent, [0, 100]."""

    top1: float
    top3: float
    top5: float

    def as_dict(self) -> dict[str, float]:
        return {"top1": self.top1, "top3": self.top3, "top5": self.top5}


@torch.no_grad()
def embed(encoder: torch.nn.Module, imu: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Encoder embeddings of IMU windows, (n, 6, N) → (n, D) float32, in eval mode.

    ``encoder`` may be a student (its ``encode`` is used, skipping the projection head) or any
    module mapping (B, 6, N) to (B, D).
    """
    if imu.ndim != 3:
        raise ValueError(f"imu must be (n, C, N), got shape {imu.shape}")
    was_training = encoder.training
    encoder.eval()
    fn = getattr(encoder, "encode", encoder)
    device = next(encoder.parameters()).device
    chunks = []
    for start in range(0, imu.shape[0], batch_size):
        window = torch.as_tensor(
            imu[start : start + batch_size], dtype=torch.float32, device=device
        )
        chunks.append(fn(window).float().cpu().numpy())  # (B, D)
    encoder.train(was_training)
    return np.concatenate(chunks).astype(np.float32)


def topk_accuracy(
    scores: np.ndarray, classes: np.ndarray, labels: np.ndarray, ks: Sequence[int] = TOPK
) -> dict[int, float]:
    """Percent of rows whose true label is among the ``k`` highest-scoring classes.

    Args:
        scores: (n, C) class scores (higher = more likely).
        classes: (C,) the label of each score column.
        labels: (n,) true labels; a label missing from ``classes`` always counts as a miss.
        ks: the k values.
    """
    if scores.shape != (labels.shape[0], classes.shape[0]):
        raise ValueError(
            f"scores must be (n={labels.shape[0]}, C={classes.shape[0]}), got {scores.shape}"
        )
    order = np.argsort(-scores, axis=1)  # (n, C) best first
    ranked = classes[order]  # (n, C)
    return {k: float(100.0 * (ranked[:, :k] == labels[:, None]).any(axis=1).mean()) for k in ks}


def _as_topk(acc: dict[int, float]) -> TopK:
    return TopK(top1=acc[1], top3=acc[3], top5=acc[5])


def linear_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    c: float = 1.0,
    max_iter: int = 2000,
) -> TopK:
    """Standardise on the training embeddings, fit multinomial logistic regression, score top-k.

    Args:
        train_x: (n_train, D) embeddings of the labelled trials.
        train_y: (n_train,) labels.
        test_x: (n_test, D) embeddings to classify.
        test_y: (n_test,) labels.
        c: inverse L2 regularisation strength, > 0.
        max_iter: solver iterations.
    """
    if c <= 0:
        raise ValueError(f"c must be > 0, got {c}")
    scaler = StandardScaler().fit(train_x)
    clf = LogisticRegression(C=c, max_iter=max_iter)
    clf.fit(scaler.transform(train_x), train_y)
    scores = clf.predict_proba(scaler.transform(test_x))  # (n_test, C)
    return _as_topk(topk_accuracy(scores, clf.classes_, test_y))


def nearest_prototype(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray
) -> TopK:
    """Cosine similarity to each class's mean standardised embedding, top-k."""
    scaler = StandardScaler().fit(train_x)
    train_z, test_z = scaler.transform(train_x), scaler.transform(test_x)
    classes = np.unique(train_y)
    protos = np.stack([train_z[train_y == c].mean(axis=0) for c in classes])  # (C, D)
    protos /= np.linalg.norm(protos, axis=1, keepdims=True).clip(min=1e-8)
    test_z /= np.linalg.norm(test_z, axis=1, keepdims=True).clip(min=1e-8)
    return _as_topk(topk_accuracy(test_z @ protos.T, classes, test_y))


def imu_summary_features(imu: np.ndarray) -> np.ndarray:
    """Hand-made baseline features: per-channel and magnitude statistics.

    Args:
        imu: (n, 6, N) windows in m/s² / rad/s.

    Returns:
        (n, 8 * 7) float32: for the 6 channels plus accel and gyro magnitudes, the mean, std,
        min, max, 25th/50th/75th percentiles.
    """
    if imu.ndim != 3 or imu.shape[1] != 6:
        raise ValueError(f"imu must be (n, 6, N), got shape {imu.shape}")
    mags = np.stack(
        [np.linalg.norm(imu[:, 0:3], axis=1), np.linalg.norm(imu[:, 3:6], axis=1)], axis=1
    )  # (n, 2, N)
    x = np.concatenate([imu, mags], axis=1)  # (n, 8, N)
    q = np.percentile(x, [25, 50, 75], axis=2).transpose(1, 2, 0)  # (n, 8, 3)
    stats = [x.mean(2), x.std(2), x.min(2), x.max(2)]
    return np.concatenate([*stats, q.reshape(x.shape[0], -1)], axis=1).astype(np.float32)

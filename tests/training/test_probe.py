"""Linear probe, top-k accuracy, nearest prototype, embeddings and IMU statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from comodo_live.training.probe import (
    embed,
    imu_summary_features,
    linear_probe,
    nearest_prototype,
    topk_accuracy,
)


def test_topk_accuracy__hand_computed() -> None:
    scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    classes = np.array([10, 20, 30])
    labels = np.array([30, 20, 99])  # 2nd choice; 2nd choice; unknown label
    acc = topk_accuracy(scores, classes, labels, ks=(1, 2, 3))
    assert acc == {1: 0.0, 2: pytest.approx(200 / 3), 3: pytest.approx(200 / 3)}


def test_topk_accuracy__shape_checked() -> None:
    with pytest.raises(ValueError, match="scores must be"):
        topk_accuracy(np.zeros((2, 3)), np.arange(4), np.zeros(2))


def _toy(seed: int = 0, n_per_class: int = 20, noise: float = 0.3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 10)) * 3
    y = np.repeat(np.arange(6), n_per_class)
    return centres[y] + rng.normal(0, noise, (y.size, 10)), y


def test_linear_probe__separable_toy_is_perfect_and_topk_ordered() -> None:
    x, y = _toy()
    xt, yt = _toy(seed=0, noise=0.3)
    acc = linear_probe(x, y, xt + 0.01, yt)
    assert acc.top1 == 100.0 and acc.top5 == 100.0
    noisy = linear_probe(*_toy(1, noise=4.0), *_toy(1, noise=4.0))
    assert noisy.top1 <= noisy.top3 <= noisy.top5
    assert set(acc.as_dict()) == {"top1", "top3", "top5"}


def test_linear_probe__random_labels_near_chance() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8))
    acc = linear_probe(x[:150], rng.integers(0, 6, 150), x[150:], rng.integers(0, 6, 150))
    assert acc.top1 < 35.0


def test_nearest_prototype__toy() -> None:
    x, y = _toy()
    assert nearest_prototype(x, y, x, y).top1 == 100.0


class Encoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(6, 4)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.mean(dim=2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # a projection head the probe must skip
        return torch.zeros(x.shape[0], 99)


def test_embed__uses_encode_and_restores_mode() -> None:
    enc = Encoder().train()
    out = embed(
        enc, np.random.default_rng(0).normal(size=(5, 6, 7)).astype(np.float32), batch_size=2
    )
    assert out.shape == (5, 4) and out.dtype == np.float32
    assert enc.training


def test_imu_summary_features__shape_and_values() -> None:
    imu = np.zeros((2, 6, 10), dtype=np.float32)
    imu[1, 0] = 3.0
    feats = imu_summary_features(imu)
    assert feats.shape == (2, 56)
    assert feats[1, 0] == 3.0 and feats[1, 6] == 3.0  # accel_x mean, accel magnitude mean

"""Tests of the IMU2CLIP-style symmetric InfoNCE."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from comodo_live.models.infonce import InfoNCELoss, infonce_loss


def _reference(z_x: np.ndarray, z_v: np.ndarray, temperature: float) -> float:
    batch = len(z_x)
    total = 0.0
    for i in range(batch):
        row = [float(np.dot(z_x[i], z_v[j])) / temperature for j in range(batch)]
        col = [float(np.dot(z_x[j], z_v[i])) / temperature for j in range(batch)]
        total += -row[i] + math.log(sum(math.exp(v) for v in row))
        total += -col[i] + math.log(sum(math.exp(v) for v in col))
    return total / (2 * batch)


def _unit(shape: tuple[int, int], seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=1)


@pytest.mark.parametrize("temperature", [0.07, 0.5])
def test_infonce_loss__matches_reference(temperature: float) -> None:
    z_x, z_v = _unit((5, 12), 0), _unit((5, 12), 1)
    expected = _reference(z_x.double().numpy(), z_v.double().numpy(), temperature)
    assert infonce_loss(z_x, z_v, temperature).item() == pytest.approx(expected, rel=1e-5)


def test_infonce_loss__student_gets_grad_teacher_not() -> None:
    z_x = _unit((4, 8), 0).requires_grad_(True)
    z_v = _unit((4, 8), 1).requires_grad_(True)
    infonce_loss(z_x, z_v, 0.07).backward()
    assert z_x.grad is not None and z_v.grad is None


def test_infonce_module__fixed_temperature_default() -> None:
    loss = InfoNCELoss()
    assert loss.temperature == pytest.approx(0.07)
    assert list(loss.parameters()) == []
    z_x, z_v = _unit((4, 8), 0), _unit((4, 8), 1)
    assert loss(z_x, z_v).item() == pytest.approx(infonce_loss(z_x, z_v, 0.07).item(), rel=1e-5)


def test_infonce_module__learnable_temperature_receives_grad() -> None:
    loss = InfoNCELoss(temperature=0.1, learnable=True)
    value = loss(_unit((4, 8), 0).requires_grad_(True), _unit((4, 8), 1))
    value.backward()
    assert loss.logit_scale.grad is not None
    assert loss.temperature == pytest.approx(0.1)


def test_infonce__aligned_pairs_score_lower() -> None:
    z = _unit((6, 16), 3)
    assert infonce_loss(z, z, 0.07) < infonce_loss(z, z.roll(1, 0), 0.07)


def test_infonce__validates_arguments() -> None:
    with pytest.raises(ValueError, match="temperature"):
        InfoNCELoss(temperature=0.0)
    with pytest.raises(ValueError, match="z_x and z_v"):
        infonce_loss(_unit((3, 4), 0), _unit((2, 4), 1), 0.07)

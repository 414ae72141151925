"""Tests of the COMODO loss against a direct reference, and of its gradient flow."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from comodo_live.models.loss import ComodoLoss, comodo_loss
from comodo_live.models.projection import FrozenTeacherProjection
from comodo_live.models.student import ImuStudent


def _reference(
    z_x: np.ndarray, z_v: np.ndarray, queue: np.ndarray, tau_t: float, tau_s: float
) -> float:
    """The paper's loss written with explicit loops in float64."""
    bank = list(queue) + list(z_v)
    total = 0.0
    for i in range(len(z_x)):
        teacher_logits = [float(np.dot(z_v[i], b)) / tau_t for b in bank]
        student_logits = [float(np.dot(z_x[i], b)) / tau_s for b in bank]
        t_max, s_max = max(teacher_logits), max(student_logits)
        t_exp = [math.exp(v - t_max) for v in teacher_logits]
        log_norm = s_max + math.log(sum(math.exp(v - s_max) for v in student_logits))
        loss_i = 0.0
        for j in range(len(bank)):
            loss_i -= t_exp[j] / sum(t_exp) * (student_logits[j] - log_norm)
        total += loss_i
    return total / len(z_x)


def _unit(shape: tuple[int, int], seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=1)


@pytest.mark.parametrize(("batch", "queued"), [(4, 0), (4, 7), (1, 3), (6, 20)])
@pytest.mark.parametrize(("tau_t", "tau_s"), [(0.1, 0.05), (0.2, 0.2)])
def test_comodo_loss__matches_reference(
    batch: int, queued: int, tau_t: float, tau_s: float
) -> None:
    z_x, z_v, queue = _unit((batch, 16), 1), _unit((batch, 16), 2), _unit((queued, 16), 3)
    loss = comodo_loss(z_x, z_v, queue, tau_t, tau_s)
    expected = _reference(
        z_x.double().numpy(), z_v.double().numpy(), queue.double().numpy(), tau_t, tau_s
    )
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_comodo_loss__default_temperatures_are_paper_values() -> None:
    z_x, z_v, queue = _unit((3, 8), 4), _unit((3, 8), 5), _unit((5, 8), 6)
    expected = _reference(
        z_x.double().numpy(), z_v.double().numpy(), queue.double().numpy(), 0.1, 0.05
    )
    assert comodo_loss(z_x, z_v, queue).item() == pytest.approx(expected, rel=1e-5)


def test_comodo_loss__gradients_reach_only_the_student() -> None:
    student = ImuStudent(width=16, embed_dim=32, proj_hidden=64, seed=0)
    projection = FrozenTeacherProjection(in_dim=40, hidden=64, seed=0)
    features = torch.randn(8, 40, requires_grad=True)
    projection.update_stats(features.detach())
    z_v = projection(features)  # (B, D)
    queue = _unit((12, 128), 7).requires_grad_(True)
    queue_before = queue.detach().clone()
    loss = comodo_loss(student(torch.randn(8, 6, 100)), z_v, queue)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in student.parameters())
    assert all(p.grad is None and not p.requires_grad for p in projection.parameters())
    assert features.grad is None and queue.grad is None and not z_v.requires_grad
    torch.testing.assert_close(queue.detach(), queue_before)


def test_comodo_loss__teacher_input_with_grad_gets_none() -> None:
    z_x = _unit((4, 8), 1).requires_grad_(True)
    z_v = _unit((4, 8), 2).requires_grad_(True)
    comodo_loss(z_x, z_v, _unit((3, 8), 3)).backward()
    assert z_x.grad is not None and z_v.grad is None


def test_comodo_loss__minimised_by_matching_teacher_distribution() -> None:
    z_v, queue = _unit((4, 8), 1), _unit((30, 8), 2)
    aligned = comodo_loss(z_v, z_v, queue, tau_t=0.1, tau_s=0.1)
    shuffled = comodo_loss(z_v.flip(0), z_v, queue, tau_t=0.1, tau_s=0.1)
    assert aligned < shuffled


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"tau_t": 0.0}, "tau_t"), ({"tau_s": -1.0}, "tau_s")],
)
def test_comodo_loss__validates_temperatures(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        comodo_loss(_unit((2, 4), 0), _unit((2, 4), 1), _unit((1, 4), 2), **kwargs)


def test_comodo_loss__validates_shapes() -> None:
    with pytest.raises(ValueError, match="z_x and z_v"):
        comodo_loss(_unit((2, 4), 0), _unit((3, 4), 1), _unit((1, 4), 2))
    with pytest.raises(ValueError, match="queue_entries"):
        comodo_loss(_unit((2, 4), 0), _unit((2, 4), 1), _unit((1, 5), 2))


def test_comodo_loss_module__forward_does_not_enqueue() -> None:
    criterion = ComodoLoss(queue_size=10, dim=8)
    z_x, z_v = _unit((4, 8), 0), _unit((4, 8), 1)
    first = criterion(z_x, z_v)
    assert len(criterion.queue) == 0
    assert first.item() == pytest.approx(comodo_loss(z_x, z_v, z_v[:0]).item())
    criterion.enqueue(z_v)
    assert len(criterion.queue) == 4
    second = criterion(z_x, z_v)
    assert second.item() == pytest.approx(comodo_loss(z_x, z_v, z_v).item(), rel=1e-6)


def test_comodo_loss_module__trainer_loop_decreases_loss() -> None:
    student = ImuStudent(width=16, embed_dim=32, proj_hidden=32, proj_dim=16, seed=0)
    initial = copy.deepcopy(student)
    criterion = ComodoLoss(queue_size=64, dim=16)
    optimizer = torch.optim.AdamW(student.parameters(), lr=3e-3)
    x = torch.randn(16, 6, 50, generator=torch.Generator().manual_seed(0))
    z_v = _unit((16, 16), 9)
    for _ in range(10):
        loss = criterion(student(x), z_v)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        criterion.enqueue(z_v)
    student.eval()
    initial.eval()
    with torch.no_grad():
        assert criterion(student(x), z_v) < criterion(initial(x), z_v)

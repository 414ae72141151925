"""Tests of the teacher-space diagnostics."""

from __future__ import annotations

import math
import time

import pytest
import torch
import torch.nn.functional as F

from comodo_live.training.diagnostics import mean_pairwise_cosine, target_entropy


def _unit(shape: tuple[int, int], seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=1)


def test_target_entropy__matches_direct_computation() -> None:
    z_v, queue = _unit((6, 16), 0), _unit((20, 16), 1)
    bank = torch.cat([queue, z_v])
    p = torch.softmax(z_v @ bank.T / 0.1, dim=1)
    expected = (-(p * p.log()).sum(1)).mean() / math.log(26)
    assert target_entropy(z_v, queue, 0.1) == pytest.approx(expected.item(), rel=1e-5)


def test_target_entropy__parallel_embeddings_are_uniform() -> None:
    same = F.normalize(torch.ones(4, 8), dim=1)
    assert target_entropy(same, same.repeat(5, 1), 0.1) == pytest.approx(1.0)


def test_target_entropy__orthogonal_embeddings_are_peaked() -> None:
    eye = torch.eye(32)
    assert target_entropy(eye[:4], eye[4:], 0.05) < 0.05


def test_mean_pairwise_cosine__matches_brute_force() -> None:
    entries = torch.randn(50, 8) + 0.5
    unit = F.normalize(entries, dim=1)
    sims = unit @ unit.T
    expected = (sims.sum() - sims.diagonal().sum()) / (50 * 49)
    assert mean_pairwise_cosine(entries) == pytest.approx(expected.item(), abs=1e-6)


def test_mean_pairwise_cosine__edge_cases() -> None:
    assert math.isnan(mean_pairwise_cosine(torch.randn(1, 4)))
    assert mean_pairwise_cosine(torch.ones(10, 4)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="entries"):
        mean_pairwise_cosine(torch.randn(4))


def test_diagnostics__cheap_on_full_queue() -> None:
    queue, z_v = _unit((4096, 128), 0), _unit((64, 128), 1)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.process_time()  # CPU time: robust to other jobs sharing the machine
        for _ in range(5):
            target_entropy(z_v, queue)
            mean_pairwise_cosine(queue)
        per_call = (time.process_time() - start) / 5
    finally:
        torch.set_num_threads(previous)
    assert per_call < 0.1  # ~5 ms on an idle core; the loss itself does the same product

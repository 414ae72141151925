"""The shared training core: round schedule tied to pairs, guarded step, EMA, queue policy."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from comodo_live.models.student import ImuStudent
from comodo_live.training.core import DistillCore, Recipe, RoundSchedule, round_lr_factor


def test_round_lr__warms_up_then_decays_to_zero() -> None:
    factors = [round_lr_factor(i, 100, 0.1) for i in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(factors[9:]))
    assert factors[-1] < 0.01


def test_round_schedule__rounds_follow_new_pairs_and_stop_without_them() -> None:
    schedule = RoundSchedule(Recipe(replay_ratio=0.5, round_min_pairs=10, round_growth=1.0))
    assert not schedule.maybe_start(0, added=9)  # too few pairs for a first round
    assert schedule.maybe_start(0, added=10)
    assert schedule.round_length == 5 and schedule.remaining(0) == 5
    assert schedule.lr(0) > 0 and schedule.lr(5) == 0.0
    assert not schedule.maybe_start(5, added=15)  # the next round waits for 10 more (growth 1)
    assert schedule.maybe_start(5, added=20)
    assert schedule.round_length == 5 and schedule.rounds == 2
    # no new pairs (camera off): no round, training stops
    assert not schedule.maybe_start(10, added=20)
    assert not schedule.maybe_start(10, added=20, flush=True)
    # a flush trains on the few pairs that are waiting
    assert schedule.maybe_start(10, added=23, flush=True) and schedule.round_length == 2
    other = RoundSchedule(schedule.recipe)
    other.load_state(schedule.state())
    assert other.state() == schedule.state()


def test_round_schedule__growth_is_capped() -> None:
    schedule = RoundSchedule(Recipe(round_min_pairs=4, round_growth=1.0, round_max_pairs=16))
    schedule.covered = 1000
    assert schedule.need() == 16


@pytest.mark.parametrize(
    ("field", "value"),
    [("replay_ratio", 0.0), ("round_min_pairs", 0), ("warmup_fraction", 1.0), ("method", "x")],
)
def test_recipe__validates(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        Recipe(**{field: value})  # type: ignore[arg-type]


def _core(**kwargs: object) -> DistillCore:
    student = ImuStudent(width=8, embed_dim=16, proj_hidden=32, proj_dim=8, seed=0)
    return DistillCore(student, Recipe(batch_size=4, queue_size=16, **kwargs), 8, seed=0)  # type: ignore[arg-type]


def test_core__step_enqueues_only_marked_embeddings_and_moves_ema() -> None:
    core = _core()
    assert core.ema is not None
    x, z = torch.randn(4, 6, 20), torch.randn(4, 8)
    before = [p.clone() for p in core.ema.parameters()]
    result = core.step(x, z, 1e-3, torch.tensor([True, False, True, False]))
    assert result.taken and math.isfinite(result.loss)
    assert len(core.queue) == 2
    moved = sum(
        float((a - b).abs().sum()) for a, b in zip(core.ema.parameters(), before, strict=True)
    )
    assert moved > 0


def test_core__non_finite_loss_is_not_applied() -> None:
    core = _core()
    with torch.no_grad():
        next(core.student.parameters()).fill_(float("nan"))
    ema = [p.clone() for p in core.ema.parameters()]  # type: ignore[union-attr]
    result = core.step(torch.randn(4, 6, 20), torch.randn(4, 8), 1e-3)
    assert not result.taken and "loss" in result.reason and len(core.queue) == 0
    for a, b in zip(core.ema.parameters(), ema, strict=True):  # type: ignore[union-attr]
        torch.testing.assert_close(a, b)

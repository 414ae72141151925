"""Tests of the projection MLP and the frozen, seeded teacher projection."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from comodo_live.models.projection import FrozenTeacherProjection, ProjectionMLP
from comodo_live.training.checkpoint import load_checkpoint, save_checkpoint
from comodo_live.training.diagnostics import mean_pairwise_cosine


def test_projection_mlp__layers_and_unit_output() -> None:
    head = ProjectionMLP(32, hidden=64, out=16)
    kinds = [type(layer).__name__ for layer in head.net]
    assert kinds == ["Linear", "BatchNorm1d", "GELU", "Linear"]
    out = head(torch.randn(5, 32))
    assert out.shape == (5, 16)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(5))


def test_projection_mlp__validates() -> None:
    with pytest.raises(ValueError, match="hidden"):
        ProjectionMLP(8, hidden=0)


def test_frozen_projection__seeded_determinism() -> None:
    a = FrozenTeacherProjection(20, hidden=32, out=8, seed=3)
    b = FrozenTeacherProjection(20, hidden=32, out=8, seed=3)
    c = FrozenTeacherProjection(20, hidden=32, out=8, seed=4)
    x = torch.randn(4, 20)
    torch.testing.assert_close(a(x), b(x))
    assert not torch.allclose(a(x), c(x))


def test_frozen_projection__does_not_touch_global_rng() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    FrozenTeacherProjection(10, hidden=16, out=4, seed=7)
    torch.testing.assert_close(torch.rand(3), expected)


def test_frozen_projection__stays_frozen_in_eval() -> None:
    projection = FrozenTeacherProjection(10, hidden=16, out=4)
    projection.train()
    assert not projection.training and not projection.mlp.net[1].training
    assert not any(p.requires_grad for p in projection.parameters())
    out = projection(torch.randn(1, 10, requires_grad=True))  # batch 1 works: BN in eval
    assert not out.requires_grad
    torch.testing.assert_close(out.norm(dim=1), torch.ones(1))


def test_frozen_projection__save_reload_identity(tmp_path: Path) -> None:
    projection = FrozenTeacherProjection(12, hidden=32, out=8, seed=5)
    projection.update_stats(torch.rand(10, 12) + 1)
    path = save_checkpoint(
        tmp_path / "projection.pt",
        {"config": projection.config, "state": projection.state_dict()},
        kind="projection",
    )
    loaded = load_checkpoint(path, kind="projection")
    restored = FrozenTeacherProjection.from_config(loaded["config"])
    restored.load_state_dict(loaded["state"])
    x = torch.rand(6, 12)
    torch.testing.assert_close(restored(x), projection(x), rtol=0, atol=0)
    assert int(restored.seed) == 5
    assert "normaliser.mean" in loaded["state"] and "seed" in loaded["state"]


def test_frozen_projection__centring_spreads_nonnegative_features() -> None:
    generator = torch.Generator().manual_seed(0)
    features = torch.rand(256, 64, generator=generator) * 2 + torch.rand(
        64, generator=generator
    )  # >= 0
    raw = FrozenTeacherProjection(64, seed=0, centre=False)
    centred = FrozenTeacherProjection(64, seed=0)
    centred.fit_stats(features)
    assert mean_pairwise_cosine(raw(features)) > 0.8
    assert mean_pairwise_cosine(centred(features)) < 0.3


def test_frozen_projection__centring_on_by_default() -> None:
    projection = FrozenTeacherProjection(4)
    assert projection.normaliser.centre and projection.config["centre"]

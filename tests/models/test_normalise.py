"""Tests of the teacher-feature normaliser."""

from __future__ import annotations

import pytest
import torch

from comodo_live.models.normalise import FeatureNormaliser


def test_forward__identity_until_stats_exist() -> None:
    normaliser = FeatureNormaliser(4)
    x = torch.rand(3, 4) + 1
    torch.testing.assert_close(normaliser(x), x)


def test_fit__centres_exactly() -> None:
    normaliser = FeatureNormaliser(5)
    x = torch.rand(50, 5) * 3 + 2
    normaliser.fit(x)
    torch.testing.assert_close(normaliser(x).mean(dim=0), torch.zeros(5), atol=1e-5, rtol=0)
    assert int(normaliser.count) == 50


def test_fit__scale_gives_unit_std() -> None:
    normaliser = FeatureNormaliser(3, scale=True)
    x = torch.randn(200, 3) * torch.tensor([0.5, 2.0, 10.0])
    normaliser.fit(x)
    torch.testing.assert_close(
        normaliser(x).std(dim=0, unbiased=False), torch.ones(3), atol=1e-3, rtol=0
    )


def test_update__cumulative_mean_then_ema() -> None:
    normaliser = FeatureNormaliser(2, momentum=0.1)
    first, second = torch.full((4, 2), 1.0), torch.full((4, 2), 3.0)
    normaliser.update(first)
    torch.testing.assert_close(normaliser.mean, torch.ones(2))
    normaliser.update(second)  # 4 of 8 samples are new: cumulative weight 0.5 > momentum
    torch.testing.assert_close(normaliser.mean, torch.full((2,), 2.0))
    for _ in range(10):
        normaliser.update(first)  # 4 / (8 + ...) shrinks until momentum 0.1 takes over
    assert 1.0 < normaliser.mean[0].item() < 1.5
    before = normaliser.mean.clone()
    normaliser.update(torch.full((4, 2), 11.0))
    torch.testing.assert_close(normaliser.mean, before + 0.1 * (11.0 - before))


def test_update__matches_exact_variance_while_cumulative() -> None:
    normaliser = FeatureNormaliser(3, momentum=0.001)
    x = torch.randn(30, 3) * 2 + 1
    for chunk in x.split(7):
        normaliser.update(chunk)
    torch.testing.assert_close(normaliser.mean, x.mean(0), atol=1e-5, rtol=0)
    torch.testing.assert_close(normaliser.var, x.var(0, unbiased=False), atol=1e-4, rtol=0)


def test_forward__never_changes_stats() -> None:
    normaliser = FeatureNormaliser(2)
    normaliser.fit(torch.ones(3, 2))
    normaliser(torch.full((5, 2), 7.0))
    torch.testing.assert_close(normaliser.mean, torch.ones(2))


def test_state_dict__holds_stats() -> None:
    normaliser = FeatureNormaliser(2)
    normaliser.fit(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    restored = FeatureNormaliser(2)
    restored.load_state_dict(normaliser.state_dict())
    torch.testing.assert_close(restored.mean, torch.tensor([2.0, 3.0]))
    assert restored.has_stats


def test_disabled__is_identity() -> None:
    normaliser = FeatureNormaliser(2, centre=False)
    normaliser.fit(torch.rand(4, 2))
    x = torch.rand(3, 2)
    torch.testing.assert_close(normaliser(x), x)


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"dim": 0}, "dim"), ({"dim": 2, "momentum": 0.0}, "momentum")]
)
def test_init__validates(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FeatureNormaliser(**kwargs)  # type: ignore[arg-type]


def test_fit__rejects_wrong_dim() -> None:
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        FeatureNormaliser(3).fit(torch.rand(4, 2))

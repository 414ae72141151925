"""The paper's projection MLP, and its frozen, seeded teacher-side instance."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from comodo_live.models.normalise import FeatureNormaliser


@contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run a block (e.g. module construction) under ``torch.manual_seed(seed)`` without
    disturbing the global RNG; ``None`` leaves the RNG alone."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


class ProjectionMLP(nn.Module):
    """Linear → BatchNorm1d → GELU → Linear, output L2-normalised (COMODO's head).

    Args:
        in_dim: input dimension.
        hidden: hidden width (paper: 2048).
        out: output dimension (paper: 128).

    Shape:
        input: (B, in_dim); output: (B, out), unit L2 norm per row.
    """

    def __init__(self, in_dim: int, hidden: int = 2048, out: int = 128) -> None:
        super().__init__()
        for name, value in (("in_dim", in_dim), ("hidden", hidden), ("out", out)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self.in_dim, self.hidden, self.out = int(in_dim), int(hidden), int(out)
        self.net = nn.Sequential(
            nn.Linear(self.in_dim, self.hidden),
            nn.BatchNorm1d(self.hidden),
            nn.GELU(),
            nn.Linear(self.hidden, self.out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(x), dim=1)  # (B, out)


class FrozenTeacherProjection(nn.Module):
    """Frozen random projection of teacher features: normalise → ProjectionMLP (eval mode).

    Built from ``seed`` so that it is reproducible, and saved with the model (``state_dict``
    holds the weights, the seed and the feature statistics): queue entries and text anchors
    are only meaningful under the same projection. It stays in eval mode (``train()`` is a
    no-op) and none of its parameters require gradients.

    Feature normalisation (centring) is on by default; statistics come from
    :meth:`fit_stats` (training-set mean) or :meth:`update_stats` (running mean); ``forward``
    itself never changes them.

    Args:
        in_dim: teacher feature dimension F.
        hidden: MLP hidden width.
        out: embedding dimension D.
        seed: construction seed.
        centre: centre teacher features.
        scale: also divide by their std.
        momentum: running-mean momentum for :meth:`update_stats`.

    Shape:
        input: (B, F) raw teacher features; output: (B, D) L2-normalised.
    """

    seed: torch.Tensor

    def __init__(
        self,
        in_dim: int,
        hidden: int = 2048,
        out: int = 128,
        seed: int = 0,
        centre: bool = True,
        scale: bool = False,
        momentum: float = 0.01,
    ) -> None:
        super().__init__()
        with seeded(seed):
            self.mlp = ProjectionMLP(in_dim, hidden, out)
        self.normaliser = FeatureNormaliser(in_dim, centre=centre, scale=scale, momentum=momentum)
        self.register_buffer("seed", torch.tensor(int(seed), dtype=torch.long))
        self._config: dict[str, Any] = {
            "in_dim": int(in_dim),
            "hidden": int(hidden),
            "out": int(out),
            "seed": int(seed),
            "centre": bool(centre),
            "scale": bool(scale),
            "momentum": float(momentum),
        }
        self.requires_grad_(False)
        super().train(False)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (plain types) for :meth:`from_config`."""
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FrozenTeacherProjection:
        return cls(**config)

    @property
    def out_dim(self) -> int:
        return self.mlp.out

    def train(self, mode: bool = True) -> FrozenTeacherProjection:
        """Always stays in eval mode (frozen BatchNorm statistics)."""
        return super().train(False)

    @torch.no_grad()
    def fit_stats(self, features: torch.Tensor) -> None:
        """Set the feature statistics from (N, F) training-set features."""
        self.normaliser.fit(features)

    @torch.no_grad()
    def update_stats(self, features: torch.Tensor) -> None:
        """Fold (B, F) features into the running feature statistics."""
        self.normaliser.update(features)

    @torch.no_grad()
    def forward(self, features: torch.Tensor) -> torch.Tensor:
        features = features.to(self.normaliser.mean)
        return self.mlp(self.normaliser(features))  # (B, D)

"""Centring (and optional scaling) of raw teacher features before the frozen projection.

Why: EfficientNet features are non-negative (ReLU6 then average pooling), so after a random
projection all teacher embeddings point nearly the same way (mean pairwise cosine ~0.92) and
COMODO's soft targets are almost uniform (~99 % of the maximum entropy). Subtracting the
feature mean fixes this (cosine ~0.3, entropy ~60 %).
"""

from __future__ import annotations

import torch
from torch import nn


class FeatureNormaliser(nn.Module):
    """Subtracts a feature mean and optionally divides by a feature std.

    Statistics come either from :meth:`fit` (exact, e.g. a training set) or from :meth:`update`
    (running: a cumulative average while few samples were seen, then an exponential moving
    average with ``momentum``). ``forward`` never changes the statistics. Until any statistics
    exist, ``forward`` is the identity. All statistics live in ``state_dict()``.

    Args:
        dim: feature dimension F.
        centre: subtract the mean.
        scale: divide by the standard deviation (+ ``eps``).
        momentum: weight of a new batch in the running mean, in (0, 1].
        eps: added to the standard deviation.

    Shape:
        input / output: (B, F).
    """

    mean: torch.Tensor
    var: torch.Tensor
    count: torch.Tensor

    def __init__(
        self,
        dim: int,
        centre: bool = True,
        scale: bool = False,
        momentum: float = 0.01,
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if int(dim) != dim or dim < 1:
            raise ValueError(f"dim must be an integer >= 1, got {dim!r}")
        if not 0 < momentum <= 1:
            raise ValueError(f"momentum must be in (0, 1], got {momentum!r}")
        self.dim = int(dim)
        self.centre = bool(centre)
        self.scale = bool(scale)
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.register_buffer("mean", torch.zeros(self.dim))  # (F,)
        self.register_buffer("var", torch.ones(self.dim))  # (F,)
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @property
    def enabled(self) -> bool:
        return self.centre or self.scale

    @property
    def has_stats(self) -> bool:
        return int(self.count.item()) > 0

    def _check(self, features: torch.Tensor) -> None:
        if features.dim() != 2 or features.shape[1] != self.dim:
            raise ValueError(f"features must be (N, {self.dim}), got {tuple(features.shape)}")

    @torch.no_grad()
    def fit(self, features: torch.Tensor) -> None:
        """Set the statistics exactly from (N, F) features (e.g. the training set)."""
        self._check(features)
        if features.shape[0] == 0:
            raise ValueError("features must hold at least one row")
        features = features.detach().to(self.mean)
        self.mean.copy_(features.mean(dim=0))
        self.var.copy_(features.var(dim=0, unbiased=False))
        self.count.fill_(features.shape[0])

    @torch.no_grad()
    def update(self, features: torch.Tensor) -> None:
        """Fold (B, F) features into the running statistics."""
        self._check(features)
        batch = features.shape[0]
        if batch == 0:
            return
        features = features.detach().to(self.mean)
        seen = int(self.count.item())
        # Cumulative average while it weighs the new batch more than the EMA would.
        weight = max(self.momentum, batch / (seen + batch))
        batch_mean = features.mean(dim=0)  # (F,)
        batch_var = features.var(dim=0, unbiased=False)  # (F,)
        delta = batch_mean - self.mean
        self.var.mul_(1 - weight).add_(weight * batch_var + weight * (1 - weight) * delta**2)
        self.mean.add_(weight * delta)
        self.count.fill_(seen + batch)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        self._check(features)
        if not self.enabled or not self.has_stats:
            return features
        out = features
        if self.centre:
            out = out - self.mean.to(out)
        if self.scale:
            out = out / (self.var.to(out).sqrt() + self.eps)
        return out

    def extra_repr(self) -> str:
        return f"dim={self.dim}, centre={self.centre}, scale={self.scale}, momentum={self.momentum}"

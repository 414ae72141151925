"""IMU2CLIP-style symmetric InfoNCE between student and (frozen) teacher embeddings."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_TEMPERATURE = 0.07
MAX_LOGIT_SCALE = 100.0  # CLIP's clamp on exp(logit_scale)


def infonce_loss(
    z_x: torch.Tensor, z_v: torch.Tensor, temperature: float | torch.Tensor
) -> torch.Tensor:
    """Symmetric InfoNCE with in-batch negatives: row i of z_x matches row i of z_v.

    ``(CE(z_x z_vᵀ / T, arange) + CE(z_v z_xᵀ / T, arange)) / 2``. The teacher side is detached
    (the video encoder is frozen, as in IMU2CLIP); gradients reach the student through both terms.

    Args:
        z_x: (B, D) L2-normalised student embeddings, B >= 2 for the loss to mean anything.
        z_v: (B, D) L2-normalised teacher embeddings.
        temperature: > 0, float or a scalar tensor (learnable).

    Shape:
        output: ().
    """
    if z_x.dim() != 2 or z_x.shape != z_v.shape:
        raise ValueError(
            f"z_x and z_v must both be (B, D); got {tuple(z_x.shape)} and {tuple(z_v.shape)}"
        )
    if isinstance(temperature, float | int) and not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    logits = z_x @ z_v.detach().to(z_x).T / temperature  # (B, B)
    labels = torch.arange(z_x.shape[0], device=z_x.device)  # (B,)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


class InfoNCELoss(nn.Module):
    """Symmetric InfoNCE (IMU2CLIP baseline).

    By default the temperature is fixed at 0.07 (CLIP's initial value). With ``learnable=True``
    it is learnt CLIP-style as ``logit_scale = log(1 / T)``, initialised from ``temperature`` and
    clamped so that ``1 / T <= 100``; then pass this module's parameters to the optimizer.

    Args:
        temperature: initial / fixed temperature (> 0).
        learnable: learn the temperature.
    """

    def __init__(self, temperature: float = DEFAULT_TEMPERATURE, learnable: bool = False) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        self.learnable = bool(learnable)
        scale = torch.tensor(math.log(1.0 / temperature))
        if self.learnable:
            self.logit_scale = nn.Parameter(scale)
        else:
            self.register_buffer("logit_scale", scale)

    @property
    def temperature(self) -> float:
        return float(1.0 / self.logit_scale.detach().exp().clamp(max=MAX_LOGIT_SCALE))

    def forward(self, z_x: torch.Tensor, z_v: torch.Tensor) -> torch.Tensor:
        """Loss of (B, D) student embeddings against (B, D) teacher embeddings."""
        inverse_t = self.logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)
        return infonce_loss(z_x, z_v, 1.0 / inverse_t)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature:.4g}, learnable={self.learnable}"

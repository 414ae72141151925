"""Optional Mantis-8M student backbone (the paper's student), from locally stored weights.

Needs the ``mantis-tsfm`` package (not a dependency: it is only usable with weights that
are already on disk, and it is slow here — ~50 ms per window, seconds per training step) and
a folder written by ``Mantis8M.save_pretrained`` / a downloaded ``paris-noah/Mantis-8M``
snapshot. Each channel is resampled to 512 samples and encoded separately (Mantis is
univariate); the channel embeddings (256 each) are concatenated: E = 256 · C.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from comodo_live.models.projection import ProjectionMLP, seeded

MANTIS_SEQ_LEN = 512
MANTIS_DIM = 256


def load_mantis8m(weights_path: str | Path) -> nn.Module:
    """Mantis8M from a local weights folder (never downloads)."""
    path = Path(weights_path)
    has_weights = any(path.glob("*.safetensors")) or any(path.glob("*.bin"))
    if not (path.is_dir() and has_weights):
        raise FileNotFoundError(
            f"Mantis-8M weights not found in {path}: expected a local folder with the model's "
            "config.json and model.safetensors (e.g. a snapshot of paris-noah/Mantis-8M)"
        )
    try:
        from mantis.architecture import Mantis8M
    except ImportError as exc:
        raise ImportError(
            "the Mantis-8M student needs the mantis-tsfm package: pip install mantis-tsfm"
        ) from exc
    return Mantis8M.from_pretrained(str(path), device="cpu")


class MantisStudent(nn.Module):
    """Mantis-8M backbone + per-channel normalisation + COMODO projection head.

    Same interface as :class:`~comodo_live.models.student.ImuStudent`: ``encode`` (B, C, N) →
    (B, 256·C), ``forward`` → (B, proj_dim) L2-normalised, ``config``, ``set_channel_stats``.
    """

    channel_mean: torch.Tensor
    channel_std: torch.Tensor

    def __init__(
        self,
        weights_path: str,
        in_channels: int = 6,
        proj_hidden: int = 2048,
        proj_dim: int = 128,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = int(in_channels)
        self.embed_dim = MANTIS_DIM * self.in_channels
        self._config: dict[str, Any] = {
            "type": "mantis",
            "weights_path": str(weights_path),
            "in_channels": self.in_channels,
            "proj_hidden": int(proj_hidden),
            "proj_dim": int(proj_dim),
            "seed": seed,
        }
        self.backbone = load_mantis8m(weights_path)
        self.register_buffer("channel_mean", torch.zeros(self.in_channels))
        self.register_buffer("channel_std", torch.ones(self.in_channels))
        with seeded(seed):
            self.head = ProjectionMLP(self.embed_dim, proj_hidden, proj_dim)

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    @torch.no_grad()
    def set_channel_stats(self, mean: Any, std: Any) -> None:
        mean_t = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std_t = torch.as_tensor(std, dtype=torch.float32).flatten()
        if (
            mean_t.numel() != self.in_channels
            or std_t.numel() != self.in_channels
            or (std_t <= 0).any()
        ):
            raise ValueError(f"mean/std must be {self.in_channels} values with std > 0")
        self.channel_mean.copy_(mean_t)
        self.channel_std.copy_(std_t)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must be (B, {self.in_channels}, N), got {tuple(x.shape)}")
        batch = x.shape[0]
        x = (x - self.channel_mean[:, None]) / self.channel_std[:, None]  # (B, C, N)
        x = F.interpolate(x, size=MANTIS_SEQ_LEN, mode="linear", align_corners=False)  # (B, C, 512)
        per_channel = self.backbone(
            x.reshape(batch * self.in_channels, 1, MANTIS_SEQ_LEN)
        )  # (B*C, 256)
        return per_channel.reshape(batch, self.embed_dim)  # (B, 256 * C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encode(x))

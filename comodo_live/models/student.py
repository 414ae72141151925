"""The default on-device IMU student: a small residual 1-D CNN plus COMODO's projection head."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from comodo_live.models.projection import ProjectionMLP, seeded

STUDENT_TYPE = "cnn"


class _ResidualBlock(nn.Module):
    """Two conv-BN layers with a (strided) residual shortcut."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = nn.Conv1d(c_in, c_out, kernel_size, stride, pad, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel_size, 1, pad, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv1d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm1d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ImuStudent(nn.Module):
    """IMU window encoder (B, C, N) → (B, E), with a projection head (B, E) → (B, D).

    Per-channel normalisation ((x - mean) / std, buffers kept in ``state_dict``) runs inside
    the forward pass so that exported graphs include it. The backbone is a stem conv (stride
    ``stem_stride``) and three residual stages (width, 2·width, embed_dim channels; strides 1,
    2, 2) followed by global average pooling, so any window length N >= 1 works. The default
    (stride-2 stem) keeps a batch-64 training step of 2 s @ 50 Hz windows near 50 ms on 2 cores.

    Args:
        in_channels: C, IMU channels (accel xyz m/s², gyro xyz rad/s).
        embed_dim: E, backbone embedding size (what probes use).
        proj_hidden: projection head hidden width (paper: 2048).
        proj_dim: D, projected embedding size (paper: 128).
        width: channels of the first stage.
        kernel_size: odd conv kernel size (samples).
        stem_stride: temporal stride of the stem conv.
        seed: construction seed (None: use the global RNG).

    Shape:
        input: (B, C, N) float; :meth:`encode`: (B, E); :meth:`forward`: (B, D) L2-normalised.
    """

    channel_mean: torch.Tensor
    channel_std: torch.Tensor

    def __init__(
        self,
        in_channels: int = 6,
        embed_dim: int = 256,
        proj_hidden: int = 2048,
        proj_dim: int = 128,
        width: int = 64,
        kernel_size: int = 5,
        stem_stride: int = 2,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("embed_dim", embed_dim),
            ("width", width),
        ):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if int(kernel_size) != kernel_size or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd integer >= 1, got {kernel_size!r}")
        if int(stem_stride) != stem_stride or stem_stride < 1:
            raise ValueError(f"stem_stride must be an integer >= 1, got {stem_stride!r}")
        self.in_channels, self.embed_dim = int(in_channels), int(embed_dim)
        self._config: dict[str, Any] = {
            "type": STUDENT_TYPE,
            "in_channels": int(in_channels),
            "embed_dim": int(embed_dim),
            "proj_hidden": int(proj_hidden),
            "proj_dim": int(proj_dim),
            "width": int(width),
            "kernel_size": int(kernel_size),
            "stem_stride": int(stem_stride),
            "seed": seed,
        }
        self.register_buffer("channel_mean", torch.zeros(self.in_channels))  # (C,)
        self.register_buffer("channel_std", torch.ones(self.in_channels))  # (C,)
        with seeded(seed):
            self.stem = nn.Sequential(
                nn.Conv1d(self.in_channels, width, 7, stem_stride, 3, bias=False),
                nn.BatchNorm1d(width),
                nn.ReLU(),
            )
            self.stages = nn.Sequential(
                _ResidualBlock(width, width, kernel_size, 1),
                _ResidualBlock(width, 2 * width, kernel_size, 2),
                _ResidualBlock(2 * width, self.embed_dim, kernel_size, 2),
            )
            self.head = ProjectionMLP(self.embed_dim, proj_hidden, proj_dim)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (plain types) for :func:`build_student`."""
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ImuStudent:
        """Rebuild from :attr:`config` (the ``type`` key, if present, must be ``"cnn"``)."""
        config = dict(config)
        kind = config.pop("type", STUDENT_TYPE)
        if kind != STUDENT_TYPE:
            raise ValueError(
                f"config['type'] must be {STUDENT_TYPE!r} for ImuStudent, got {kind!r}"
            )
        return cls(**config)

    @property
    def proj_dim(self) -> int:
        return self.head.out

    def backbone_parameters(self) -> int:
        """Number of parameters without the projection head."""
        return sum(p.numel() for n, p in self.named_parameters() if not n.startswith("head."))

    @torch.no_grad()
    def set_channel_stats(
        self, mean: np.ndarray | torch.Tensor, std: np.ndarray | torch.Tensor
    ) -> None:
        """Set the per-channel normalisation, (C,) mean and (C,) std (> 0), in input units."""
        mean_t = torch.as_tensor(np.asarray(mean, dtype=np.float32)).flatten()
        std_t = torch.as_tensor(np.asarray(std, dtype=np.float32)).flatten()
        for name, value in (("mean", mean_t), ("std", std_t)):
            if value.numel() != self.in_channels or not torch.isfinite(value).all():
                raise ValueError(
                    f"{name} must be {self.in_channels} finite values, got {value.tolist()}"
                )
        if (std_t <= 0).any():
            raise ValueError(f"std must be > 0 per channel, got {std_t.tolist()}")
        self.channel_mean.copy_(mean_t)
        self.channel_std.copy_(std_t)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone embedding (B, E) of (B, C, N) windows, without the projection head."""
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must be (B, {self.in_channels}, N), got {tuple(x.shape)}")
        x = (x - self.channel_mean[:, None]) / self.channel_std[:, None]  # (B, C, N)
        features = self.stages(self.stem(x))  # (B, E, ~N / (4 * stem_stride))
        return features.mean(dim=2)  # (B, E)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalised projected embedding (B, D) — what the COMODO loss uses."""
        return self.head(self.encode(x))


def build_student(config: dict[str, Any]) -> nn.Module:
    """Rebuild a student from its ``.config`` (``type``: ``"cnn"``, the default)."""
    config = dict(config)
    kind = config.pop("type", STUDENT_TYPE)
    if kind == STUDENT_TYPE:
        return ImuStudent(**config)
    raise ValueError(f"config['type'] must be {STUDENT_TYPE!r}, got {kind!r}")

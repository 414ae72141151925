"""IMU window augmentation for distillation: scaling, jitter, small rotations, time warp.

All transforms take and return (B, 6, N) float tensors in physical units (accel m/s², gyro
rad/s, channel order of :data:`comodo_live.records.IMU_CHANNELS`). Randomness comes from the
``generator`` so that runs are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class ImuAugment:
    """Random IMU augmentation.

    Attributes:
        scale_std: std of a per-window, per-sensor gain around 1 (unitless).
        jitter_std: Gaussian noise std as a fraction of each channel's std in the window.
        max_rotation_deg: rotation angle bound (degrees) of a random sensor re-orientation applied
            to accel and gyro alike.
        time_warp: max relative speed change of a smooth time warp (0 disables).
    """

    scale_std: float = 0.1
    jitter_std: float = 0.05
    max_rotation_deg: float = 15.0
    time_warp: float = 0.2

    def __post_init__(self) -> None:
        for name in ("scale_std", "jitter_std", "max_rotation_deg", "time_warp"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.time_warp >= 1:
            raise ValueError(f"time_warp must be in [0, 1), got {self.time_warp}")

    def __call__(self, imu: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Augment a batch (B, 6, N); returns a new tensor."""
        if imu.ndim != 3 or imu.shape[1] != 6:
            raise ValueError(f"imu must be (B, 6, N), got shape {tuple(imu.shape)}")
        out = imu
        if self.max_rotation_deg > 0:
            out = rotate(out, self.max_rotation_deg, generator)
        if self.scale_std > 0:
            gain = 1 + self.scale_std * _randn((out.shape[0], 2, 1), out, generator)  # (B, 2, 1)
            out = out * gain.repeat_interleave(3, dim=1)
        if self.time_warp > 0:
            out = time_warp(out, self.time_warp, generator)
        if self.jitter_std > 0:
            std = out.std(dim=2, keepdim=True)  # (B, 6, 1)
            out = out + self.jitter_std * std * _randn(tuple(out.shape), out, generator)
        return out


def _randn(shape: tuple[int, ...], like: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
    return torch.randn(shape, generator=g, dtype=like.dtype).to(like.device)


def random_rotations(
    batch: int, max_deg: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(B, 3, 3) rotation matrices about random axes by angles uniform in [-max_deg, max_deg]."""
    axis = torch.randn((batch, 3), generator=generator)
    axis = axis / axis.norm(dim=1, keepdim=True).clamp_min(1e-8)  # (B, 3)
    angle = (torch.rand((batch,), generator=generator) * 2 - 1) * torch.pi * max_deg / 180.0
    skew = torch.zeros((batch, 3, 3))
    skew[:, 0, 1], skew[:, 0, 2] = -axis[:, 2], axis[:, 1]
    skew[:, 1, 0], skew[:, 1, 2] = axis[:, 2], -axis[:, 0]
    skew[:, 2, 0], skew[:, 2, 1] = -axis[:, 1], axis[:, 0]
    sin, cos = angle.sin()[:, None, None], angle.cos()[:, None, None]
    eye = torch.eye(3).expand(batch, 3, 3)
    return eye + sin * skew + (1 - cos) * (skew @ skew)  # Rodrigues, (B, 3, 3)


def rotate(
    imu: torch.Tensor, max_deg: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Rotate accel and gyro of each window by the same random small rotation."""
    rot = random_rotations(imu.shape[0], max_deg, generator).to(imu)  # (B, 3, 3)
    accel = rot @ imu[:, 0:3]  # (B, 3, N)
    gyro = rot @ imu[:, 3:6]  # (B, 3, N)
    return torch.cat([accel, gyro], dim=1)


def time_warp(
    imu: torch.Tensor, strength: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Resample each window along a smooth monotone time map with speed in [1-s, 1+s]."""
    batch, channels, length = imu.shape
    knots = 4
    speed = 1 + strength * (torch.rand((batch, knots), generator=generator) * 2 - 1)  # (B, K)
    speed = F.interpolate(speed[:, None], size=length, mode="linear", align_corners=True)[:, 0]
    warped = torch.cumsum(speed, dim=1)  # (B, N)
    warped = (warped - warped[:, :1]) / (warped[:, -1:] - warped[:, :1]).clamp_min(1e-8)
    grid_x = (warped * 2 - 1).to(imu)  # (B, N) in [-1, 1]
    grid = torch.stack([grid_x, torch.zeros_like(grid_x)], dim=-1)[:, None]  # (B, 1, N, 2)
    out = F.grid_sample(imu[:, :, None, :], grid, mode="bilinear", align_corners=True)
    return out[:, :, 0, :].reshape(batch, channels, length)  # (B, C, N)

"""A hand-made, untrained featuriser of Kinect skeleton sequences (a strong label-free teacher).

Unlike the video teachers, :meth:`SkeletonTeacher.embed` takes skeleton sequences, not video:
(T, J, 3) float joint positions (Kinect v1: J = 20, x/y/z in metres in the camera frame). The
UTD-MHAD benchmark uses it to test whether distillation transfers what a teacher knows,
independent of how good an image model is on depth frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from comodo_live.models.teachers.base import Teacher

KINECT_V1_JOINTS = 20
HIP_CENTRE = 3  # Kinect v1 order: 0 head, 1 shoulder centre, 2 spine, 3 hip centre, ...
SHOULDER_CENTRE = 1


def resample_sequence(sequence: np.ndarray, length: int) -> np.ndarray:
    """Linear interpolation of (T, ...) along time to (length, ...)."""
    steps = sequence.shape[0]
    flat = sequence.reshape(steps, -1)  # (T, J * 3)
    if steps == 1:
        return np.repeat(flat, length, axis=0).reshape((length, *sequence.shape[1:]))
    source = np.linspace(0.0, 1.0, steps)
    target = np.linspace(0.0, 1.0, length)
    out = np.stack([np.interp(target, source, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape((length, *sequence.shape[1:]))


class SkeletonTeacher(Teacher):
    """Skeleton features: body-centred, body-size-scaled joint positions and velocities.

    Per sequence: every frame's joints minus that frame's hip centre; divided by the median
    torso length (shoulder centre to hip centre; falls back to the RMS joint distance for a
    degenerate skeleton); resampled to ``num_frames`` steps; velocities are the per-step
    differences (``np.gradient``) of the resampled positions, times ``velocity_weight``.
    F = 2 · num_frames · J · 3 (1920 for 16 steps of 20 joints).

    Args:
        num_frames: resampled sequence length.
        num_joints: J.
        centre_joint: index of the body-centre joint.
        top_joint: index of the joint whose distance to ``centre_joint`` sets the scale.
        velocity_weight: multiplier of the velocity features (0 drops their information).
    """

    name = "skeleton"
    input_size = None

    def __init__(
        self,
        num_frames: int = 16,
        num_joints: int = KINECT_V1_JOINTS,
        centre_joint: int = HIP_CENTRE,
        top_joint: int = SHOULDER_CENTRE,
        velocity_weight: float = 1.0,
    ) -> None:
        if int(num_frames) != num_frames or num_frames < 2:
            raise ValueError(f"num_frames must be an integer >= 2, got {num_frames!r}")
        if int(num_joints) != num_joints or num_joints < 1:
            raise ValueError(f"num_joints must be an integer >= 1, got {num_joints!r}")
        for name, joint in (("centre_joint", centre_joint), ("top_joint", top_joint)):
            if not 0 <= joint < num_joints:
                raise ValueError(f"{name} must be in [0, {num_joints}), got {joint!r}")
        self.num_frames = int(num_frames)
        self.num_joints = int(num_joints)
        self.centre_joint = int(centre_joint)
        self.top_joint = int(top_joint)
        self.velocity_weight = float(velocity_weight)
        self.feature_dim = 2 * self.num_frames * self.num_joints * 3

    @property
    def config(self) -> dict[str, Any]:
        return {
            **super().config,
            "num_joints": self.num_joints,
            "centre_joint": self.centre_joint,
            "top_joint": self.top_joint,
            "velocity_weight": self.velocity_weight,
        }

    def featurise(self, sequence: np.ndarray) -> np.ndarray:
        """(T, J, 3) joint positions → (F,) float32 features."""
        sequence = np.asarray(sequence, dtype=np.float64)
        if sequence.ndim != 3 or sequence.shape[1:] != (self.num_joints, 3) or len(sequence) < 1:
            raise ValueError(
                f"a skeleton sequence must be (T, {self.num_joints}, 3) with T >= 1, got {sequence.shape}"
            )
        if not np.isfinite(sequence).all():
            raise ValueError("a skeleton sequence holds NaN or infinite values")
        centred = sequence - sequence[:, self.centre_joint : self.centre_joint + 1]  # (T, J, 3)
        torso = np.linalg.norm(centred[:, self.top_joint], axis=1)  # (T,)
        scale = float(np.median(torso))
        if scale < 1e-6:
            scale = float(np.sqrt((centred**2).sum(axis=2).mean()))
        centred = centred / max(scale, 1e-6)
        positions = resample_sequence(centred, self.num_frames)  # (L, J, 3)
        velocities = np.gradient(positions, axis=0) * self.velocity_weight  # (L, J, 3)
        return np.concatenate([positions.ravel(), velocities.ravel()]).astype(np.float32)

    def embed(self, clips: np.ndarray | Sequence[np.ndarray]) -> torch.Tensor:
        """Features (B, F) of B skeleton sequences ((B, T, J, 3) array or a list of (T, J, 3))."""
        sequences = list(clips)
        if not sequences:
            raise ValueError("clips must hold at least one skeleton sequence")
        return torch.from_numpy(np.stack([self.featurise(s) for s in sequences]))  # (B, F)

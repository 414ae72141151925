"""The paper's video teachers through Hugging Face ``transformers`` (optional extra ``[hf]``).

Models load from a local folder (``save_pretrained`` layout) or a hub id already in the local
cache; by default nothing is downloaded (``local_files_only=True``), in keeping with the app's
offline rule — pass ``local_files_only=False`` to allow a download.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from comodo_live.models.teachers.base import Clips, Teacher, sampled_frames

KINDS = ("videomae", "timesformer")
# Pixel statistics of the public checkpoints, used when the folder has no preprocessor config.
DEFAULT_PIXEL_STATS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "videomae": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "timesformer": ((0.45, 0.45, 0.45), (0.225, 0.225, 0.225)),
    "xclip": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
}


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise ImportError(
            "the Hugging Face teachers need transformers: pip install 'comodo-live[hf]'"
        ) from exc
    return transformers


def _pixel_stats(path_or_id: str, kind: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """image_mean / image_std from a local folder's preprocessor config, else the defaults."""
    for name in ("preprocessor_config.json", "video_preprocessor_config.json"):
        file = Path(path_or_id) / name
        if file.is_file():
            config = json.loads(file.read_text())
            if "image_mean" in config and "image_std" in config:
                return tuple(config["image_mean"]), tuple(config["image_std"])
    return DEFAULT_PIXEL_STATS[kind]


def _load(model_class: Any, path_or_id: str, local_files_only: bool) -> Any:
    try:
        model = model_class.from_pretrained(path_or_id, local_files_only=local_files_only)
    except OSError as exc:
        raise FileNotFoundError(
            f"cannot load {model_class.__name__} from {path_or_id!r} "
            f"(local_files_only={local_files_only}): expected a save_pretrained folder or a "
            f"cached hub id ({exc})"
        ) from exc
    model.requires_grad_(False)
    return model.eval()


def _image_size(config: Any) -> int:
    size = config.image_size
    return int(size if isinstance(size, int) else size[0])


class HFVideoTeacher(Teacher):
    """VideoMAE (mean-pooled tokens) or TimeSformer (CLS token) clip features.

    Args:
        path_or_id: local folder or hub id.
        kind: ``"videomae"`` or ``"timesformer"``.
        local_files_only: never download (default).

    The frame count and input size come from the model config (``num_frames``, ``image_size``).
    """

    input_size: int

    def __init__(
        self, path_or_id: str | Path, kind: str = "videomae", local_files_only: bool = True
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        transformers = _transformers()
        model_class = (
            transformers.VideoMAEModel if kind == "videomae" else transformers.TimesformerModel
        )
        self.kind = kind
        self.name = kind
        self.path_or_id = str(path_or_id)
        self.model = _load(model_class, self.path_or_id, local_files_only)
        config = self.model.config
        self.num_frames = int(config.num_frames)
        self.input_size = _image_size(config)
        self.feature_dim = int(config.hidden_size)
        self.pixel_mean, self.pixel_std = _pixel_stats(self.path_or_id, kind)

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "path_or_id": self.path_or_id}

    @torch.no_grad()
    def embed(self, clips: Clips) -> torch.Tensor:
        pixels = sampled_frames(
            clips, self.num_frames, self.input_size, self.pixel_mean, self.pixel_std
        )
        pixels = pixels.to(self.model.device)
        hidden = self.model(pixel_values=pixels).last_hidden_state  # (B, tokens, H)
        pooled = hidden.mean(dim=1) if self.kind == "videomae" else hidden[:, 0]  # (B, H)
        return pooled.float().cpu()


class XClipTeacher(Teacher):
    """X-CLIP video features (the model's projected, MIT-pooled embedding) and text features.

    Text anchors (:meth:`embed_text`) live in the same space as the video features.

    Args:
        path_or_id: local folder (model + tokenizer) or hub id.
        local_files_only: never download (default).
    """

    name = "xclip"
    input_size: int

    def __init__(self, path_or_id: str | Path, local_files_only: bool = True) -> None:
        transformers = _transformers()
        self.path_or_id = str(path_or_id)
        self.model = _load(transformers.XCLIPModel, self.path_or_id, local_files_only)
        config = self.model.config
        self.num_frames = int(config.vision_config.num_frames)
        self.input_size = _image_size(config.vision_config)
        self.feature_dim = int(config.projection_dim)
        self.pixel_mean, self.pixel_std = _pixel_stats(self.path_or_id, "xclip")
        self._local_files_only = local_files_only
        self._tokenizer: Any = None

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "path_or_id": self.path_or_id}

    @torch.no_grad()
    def embed(self, clips: Clips) -> torch.Tensor:
        pixels = sampled_frames(
            clips, self.num_frames, self.input_size, self.pixel_mean, self.pixel_std
        )
        out = self.model.get_video_features(pixel_values=pixels.to(self.model.device))
        features = out.pooler_output if hasattr(out, "pooler_output") else out  # (B, P)
        return features.float().cpu()

    def tokenizer(self) -> Any:
        """The model folder's tokenizer (loaded on first use)."""
        if self._tokenizer is None:
            auto = _transformers().AutoTokenizer
            try:
                self._tokenizer = auto.from_pretrained(
                    self.path_or_id, local_files_only=self._local_files_only
                )
            except OSError as exc:
                raise FileNotFoundError(
                    f"no tokenizer for X-CLIP at {self.path_or_id!r} ({exc})"
                ) from exc
        return self._tokenizer

    @torch.no_grad()
    def embed_text(self, texts: Sequence[str]) -> torch.Tensor:
        """Text features (N, P) of N prompts, e.g. activity names as anchors."""
        if isinstance(texts, str) or not texts:
            raise ValueError(f"texts must be a non-empty list of strings, got {texts!r}")
        tokens = self.tokenizer()(list(texts), padding=True, return_tensors="pt")
        mask = tokens.get("attention_mask")
        out = self.model.get_text_features(
            input_ids=tokens["input_ids"].to(self.model.device),
            attention_mask=None if mask is None else mask.to(self.model.device),
        )
        features = out.pooler_output if hasattr(out, "pooler_output") else out  # (N, P)
        return features.float().cpu()

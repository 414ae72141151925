"""Tests of the Hugging Face teachers on tiny random models saved to a temp folder.

They load through the same ``build_teacher(name, path_or_id=folder)`` path users take, offline.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from comodo_live.models.teachers import build_teacher
from comodo_live.models.teachers.base import sampled_frames

transformers = pytest.importorskip("transformers")

TINY = {
    "hidden_size": 32,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "image_size": 32,
    "patch_size": 16,
}


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _clips(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (2, 10, 40, 50, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hf")
    torch.manual_seed(0)
    videomae = transformers.VideoMAEConfig(
        num_frames=4, tubelet_size=2, num_hidden_layers=2, **TINY
    )
    transformers.VideoMAEModel(videomae).save_pretrained(root / "videomae")
    timesformer = transformers.TimesformerConfig(num_frames=4, num_hidden_layers=2, **TINY)
    transformers.TimesformerModel(timesformer).save_pretrained(root / "timesformer")
    xclip = transformers.XCLIPConfig(
        text_config={
            "vocab_size": 50,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 16,
        },
        vision_config={
            **TINY,
            "num_hidden_layers": 1,
            "num_frames": 4,
            "mit_hidden_size": 32,
            "mit_intermediate_size": 64,
            "mit_num_hidden_layers": 1,
            "mit_num_attention_heads": 2,
        },
        projection_dim=32,
        prompt_layers=1,
        prompt_attention_heads=2,
    )
    transformers.XCLIPModel(xclip).save_pretrained(root / "xclip")
    _save_word_tokenizer(root / "xclip")
    return root


def _save_word_tokenizer(folder: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[PAD]": 0, "[UNK]": 1}
    for word in ["a", "person", "is", "walking", "running", "sitting", "cycling"]:
        vocab[word] = len(vocab)
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]"
    ).save_pretrained(folder)


@pytest.mark.parametrize("kind", ["videomae", "timesformer"])
def test_hf_video_teacher__round_trip_matches_direct_model(tiny_models: Path, kind: str) -> None:
    teacher = build_teacher(kind, path_or_id=str(tiny_models / kind))
    assert (teacher.num_frames, teacher.input_size, teacher.feature_dim) == (4, 32, 32)
    features = teacher.embed(_clips())
    assert features.shape == (2, 32) and torch.isfinite(features).all()
    model_class = (
        transformers.VideoMAEModel if kind == "videomae" else transformers.TimesformerModel
    )
    direct = model_class.from_pretrained(tiny_models / kind).eval()
    pixels = sampled_frames(_clips(), 4, 32, teacher.pixel_mean, teacher.pixel_std)
    with torch.no_grad():
        hidden = direct(pixel_values=pixels).last_hidden_state
    expected = hidden.mean(dim=1) if kind == "videomae" else hidden[:, 0]
    torch.testing.assert_close(features, expected, atol=1e-5, rtol=1e-5)
    assert not any(p.requires_grad for p in teacher.model.parameters())


def test_hf_video_teacher__reads_pixel_stats_from_folder(tiny_models: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "videomae"
    shutil.copytree(tiny_models / "videomae", folder)
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": [0.5] * 3, "image_std": [0.5] * 3})
    )
    teacher = build_teacher("videomae", path_or_id=str(folder))
    assert teacher.pixel_mean == (0.5, 0.5, 0.5)


def test_xclip_teacher__video_and_text_features(tiny_models: Path) -> None:
    teacher = build_teacher("xclip", path_or_id=str(tiny_models / "xclip"))
    video = teacher.embed(_clips())
    assert video.shape == (2, 32) == (2, teacher.feature_dim)
    text = teacher.embed_text(["a person is walking", "running", "sitting"])
    assert text.shape == (3, 32) and torch.isfinite(text).all()
    assert not torch.allclose(text[0], text[1])
    with pytest.raises(ValueError, match="texts"):
        teacher.embed_text("walking")  # type: ignore[arg-type]


def test_hf_teacher__missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no-model-here"):
        build_teacher("videomae", path_or_id=str(tmp_path / "no-model-here"))
    with pytest.raises(ValueError, match="kind"):
        from comodo_live.models.teachers.hf import HFVideoTeacher

        HFVideoTeacher(tmp_path, kind="x3d")

"""Tests of the default EfficientNet-Lite0 teacher with its real, shipped ImageNet weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from comodo_live.models.teachers.efficientnet import (
    EfficientNetLite0Teacher,
    default_weights_path,
    load_efficientnet_lite0,
)


@pytest.fixture(scope="module")
def teacher() -> EfficientNetLite0Teacher:
    return EfficientNetLite0Teacher(num_segments=4, frames=8, input_size=224)


def _textured_clip(seed: int, frames: int = 8, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    clip = []
    for t in range(frames):
        stripes = 127 + 120 * np.sin((x * (1 + seed) + y * t) / 4.0)
        frame = np.stack([stripes, np.roll(stripes, t, axis=0), 255 - stripes], axis=-1)
        clip.append(np.clip(frame + rng.normal(0, 10, frame.shape), 0, 255))
    return np.asarray(clip, dtype=np.uint8)


def test_weights__shipped_file_loaded_exactly() -> None:
    path = default_weights_path()
    assert path.is_file() and path.stat().st_size > 10_000_000
    model = load_efficientnet_lite0()
    stored = torch.load(path, map_location="cpu", weights_only=True)
    loaded = model.state_dict()
    assert set(stored) == set(loaded)
    for name, tensor in stored.items():
        assert torch.equal(loaded[name], tensor), name
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(4.65e6, rel=0.01)
    bn_var = model._bn1.running_var
    assert not torch.allclose(bn_var, torch.ones_like(bn_var))  # trained statistics, not init
    assert not model.training and not any(p.requires_grad for p in model.parameters())


def test_weights__incomplete_file_fails_loudly(tmp_path: Path) -> None:
    stored = torch.load(default_weights_path(), map_location="cpu", weights_only=True)
    stored.pop("_conv_head.weight")
    torch.save(stored, tmp_path / "partial.pth")
    with pytest.raises(RuntimeError, match=r"_conv_head\.weight"):
        load_efficientnet_lite0(tmp_path / "partial.pth")
    with pytest.raises(FileNotFoundError, match=r"missing\.pth"):
        load_efficientnet_lite0(tmp_path / "missing.pth")


def test_embed__shape_dtype_and_determinism(teacher: EfficientNetLite0Teacher) -> None:
    clips = np.stack([_textured_clip(0), _textured_clip(1)])
    first = teacher.embed(clips)
    assert first.shape == (2, 5120) == (2, teacher.feature_dim)
    assert first.dtype == torch.float32 and not first.requires_grad
    assert (first >= 0).all()  # ReLU6 + average pooling: the reason teacher features get centred
    torch.testing.assert_close(teacher.embed(clips), first)
    torch.testing.assert_close(teacher.embed_clip(clips[1]), first[1], atol=1e-4, rtol=1e-4)


def test_embed__constant_and_textured_frames_differ(teacher: EfficientNetLite0Teacher) -> None:
    constant = np.full((8, 64, 64, 3), 128, np.uint8)
    features = teacher.embed([constant, _textured_clip(2)])
    cosine = torch.nn.functional.cosine_similarity(features[0], features[1], dim=0)
    assert cosine < 0.9
    assert features[0].std() > 0  # a constant image still passes through real weights


def test_embed__segments_keep_time_order(teacher: EfficientNetLite0Teacher) -> None:
    clip = _textured_clip(3)  # 8 frames, sampled 1:1
    forward = teacher.embed([clip]).view(4, 1280)
    backward = teacher.embed([clip[::-1].copy()]).view(4, 1280)
    torch.testing.assert_close(backward, forward.flip(0), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(forward[0], forward[3], atol=1e-3)


def test_embed__variable_clip_lengths_and_grayscale(teacher: EfficientNetLite0Teacher) -> None:
    gray = np.random.default_rng(0).integers(0, 255, (13, 50, 70), dtype=np.uint8)
    features = teacher.embed([gray, _textured_clip(4, frames=3)])
    assert features.shape == (2, 5120) and torch.isfinite(features).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"frames": 6, "num_segments": 4}, "multiple"), ({"input_size": 8}, "input_size")],
)
def test_init__validates(kwargs: dict[str, int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        EfficientNetLite0Teacher(**kwargs)


def test_small_input_size__works() -> None:
    teacher = EfficientNetLite0Teacher(num_segments=2, frames=2, input_size=96)
    assert teacher.embed([_textured_clip(5)]).shape == (1, 2560)
    assert teacher.config["input_size"] == 96


def _gopro_frames(shared_data: Path, count: int = 6) -> np.ndarray:
    import cv2

    capture = cv2.VideoCapture(str(shared_data / "video_imu" / "gopro_walk.mp4"))
    frames, index = [], 0
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        if index % 45 == 0:
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        index += 1
    capture.release()
    assert len(frames) == count, "could not decode the GoPro sample video"
    return np.stack(frames)


def test_default_normalisation__matches_weights_batchnorm_stats_on_real_frames(
    shared_data: Path, teacher: EfficientNetLite0Teacher
) -> None:
    from comodo_live.models.teachers.base import frames_to_tensor
    from comodo_live.models.teachers.efficientnet import PIXEL_STATS

    frames = _gopro_frames(shared_data)
    model = load_efficientnet_lite0()
    ratios = {}
    for name, (mean, std) in PIXEL_STATS.items():
        with torch.no_grad():
            stem = model._conv_stem(frames_to_tensor(frames, 224, mean, std))  # (T, 32, 112, 112)
        ratios[name] = float((stem.var(dim=(0, 2, 3)) / model._bn0.running_var).median())
    assert 0.5 < ratios["lite"] < 2.0  # the statistics the weights were trained with
    assert ratios["imagenet"] > 3.0  # torchvision normalisation inflates the input ~2x
    assert teacher.normalisation == "lite" == teacher.config["normalisation"]

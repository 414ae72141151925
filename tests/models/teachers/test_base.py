"""Tests of the shared teacher clip helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from comodo_live.models.teachers.base import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    as_clip_list,
    frames_to_tensor,
    sample_frame_indices,
    sampled_frames,
)


def test_sample_frame_indices__even_and_inclusive() -> None:
    np.testing.assert_array_equal(sample_frame_indices(16, 8), [0, 2, 4, 6, 9, 11, 13, 15])
    np.testing.assert_array_equal(sample_frame_indices(8, 8), np.arange(8))
    np.testing.assert_array_equal(sample_frame_indices(1, 3), [0, 0, 0])


def test_sample_frame_indices__rejects_empty_clip() -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        sample_frame_indices(0, 4)


def test_as_clip_list__grayscale_replicated_and_variable_sizes() -> None:
    clips = as_clip_list([np.zeros((3, 10, 12), np.uint8), np.ones((5, 20, 8, 3), np.uint8)])
    assert [c.shape for c in clips] == [(3, 10, 12, 3), (5, 20, 8, 3)]


@pytest.mark.parametrize(
    ("clips", "match"),
    [
        (np.zeros((2, 4, 8, 8, 3), np.float32), "uint8"),
        (np.zeros((8, 8), np.uint8), "shape"),
        ([], "at least one clip"),
        ([np.zeros((2, 8, 8, 4), np.uint8)], "clip 0"),
    ],
)
def test_as_clip_list__rejects_bad_input(clips: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        as_clip_list(clips)  # type: ignore[arg-type]


def test_frames_to_tensor__resizes_and_normalises() -> None:
    frames = np.full((2, 30, 40, 3), 255, np.uint8)
    x = frames_to_tensor(frames, 16, IMAGENET_MEAN, IMAGENET_STD)
    assert x.shape == (2, 3, 16, 16)
    expected = (1.0 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    torch.testing.assert_close(x[0, :, 5, 5], expected)


def test_sampled_frames__batch_shape() -> None:
    clips = np.random.default_rng(0).integers(0, 255, (3, 5, 20, 20, 3), dtype=np.uint8)
    assert sampled_frames(clips, 4, 8, IMAGENET_MEAN, IMAGENET_STD).shape == (3, 4, 3, 8, 8)

"""Teacher features of UTD-MHAD trials through the cache (tiny files, real skeleton teacher)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from comodo_live.data.teacher_features import utd_depth_features, utd_skeleton_features
from comodo_live.models.teachers import build_teacher
from tests.data.tiny_utd import write_tiny_utd


class MeanFrameTeacher:
    """A tiny clip teacher: per-frame channel means, counted."""

    name = "mean-frame"
    calls = 0

    @property
    def config(self) -> dict[str, Any]:
        return {"name": self.name}

    def embed(self, clips: list[np.ndarray]) -> torch.Tensor:
        self.calls += 1
        return torch.tensor(np.stack([c.mean(axis=(1, 2, 3)) for c in clips]), dtype=torch.float32)


def test_utd_depth_features__one_row_per_trial_and_cached(tmp_path) -> None:
    write_tiny_utd(tmp_path / "data")
    teacher = MeanFrameTeacher()
    feats = utd_depth_features(
        teacher, tmp_path / "data", depth_frames=8, cache_dir=tmp_path / "c", progress=False
    )
    assert feats.shape == (24, 8)
    calls = teacher.calls
    again = utd_depth_features(
        teacher, tmp_path / "data", depth_frames=8, cache_dir=tmp_path / "c", progress=False
    )
    assert teacher.calls == calls
    np.testing.assert_array_equal(feats, again)


def test_utd_skeleton_features__real_skeleton_teacher(tmp_path) -> None:
    write_tiny_utd(tmp_path / "data")
    teacher = build_teacher("skeleton", num_frames=4)
    feats = utd_skeleton_features(
        teacher, tmp_path / "data", cache_dir=tmp_path / "c", progress=False
    )
    assert feats.shape == (24, teacher.feature_dim)
    assert np.isfinite(feats).all()

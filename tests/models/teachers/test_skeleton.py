"""Tests of the hand-made skeleton featuriser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from comodo_live.models.teachers.skeleton import HIP_CENTRE, SkeletonTeacher, resample_sequence


def _sequence(steps: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pose = rng.normal(0, 0.3, (20, 3))
    pose[1] = pose[HIP_CENTRE] + [0.0, 0.5, 0.0]  # torso 0.5 m
    t = np.linspace(0, 2 * np.pi, steps)[:, None, None]
    return pose[None] + 0.1 * np.sin(t + rng.uniform(0, 6, (1, 20, 3)))


def test_embed__shapes() -> None:
    teacher = SkeletonTeacher(num_frames=16)
    features = teacher.embed([_sequence(40), _sequence(77, seed=1)])
    assert features.shape == (2, 1920) == (2, teacher.feature_dim)
    assert features.dtype == torch.float32
    assert teacher.embed_clip(_sequence(40)).shape == (1920,)
    assert teacher.embed(np.stack([_sequence(30)] * 3)).shape == (3, 1920)


def test_featurise__invariant_to_position_and_body_size() -> None:
    teacher = SkeletonTeacher()
    seq = _sequence()
    base = teacher.featurise(seq)
    np.testing.assert_allclose(teacher.featurise(seq + np.array([1.0, -2.0, 3.0])), base, atol=1e-5)
    np.testing.assert_allclose(teacher.featurise(seq * 1.7), base, atol=1e-5)


def test_featurise__centred_on_hip_and_still_pose_has_no_velocity() -> None:
    teacher = SkeletonTeacher(num_frames=8)
    still = np.repeat(_sequence(1), 10, axis=0)
    features = teacher.featurise(still)
    positions, velocities = features[:480].reshape(8, 20, 3), features[480:]
    np.testing.assert_allclose(positions[:, HIP_CENTRE], 0.0, atol=1e-7)
    np.testing.assert_allclose(velocities, 0.0, atol=1e-7)
    assert np.linalg.norm(positions[0, 1]) == pytest.approx(1.0)  # torso length scaled to 1


def test_featurise__robust_to_frame_rate() -> None:
    teacher = SkeletonTeacher()
    seq = _sequence(60)
    upsampled = resample_sequence(seq, 119)
    np.testing.assert_allclose(teacher.featurise(upsampled), teacher.featurise(seq), atol=0.02)


def test_featurise__rejects_bad_input() -> None:
    teacher = SkeletonTeacher()
    with pytest.raises(ValueError, match=r"\(T, 20, 3\)"):
        teacher.featurise(np.zeros((10, 15, 3)))
    bad = _sequence()
    bad[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        teacher.featurise(bad)
    with pytest.raises(ValueError, match="centre_joint"):
        SkeletonTeacher(centre_joint=20)


def test_embed__real_utd_skeletons_separate_actions(shared_data: Path) -> None:
    from sklearn.linear_model import RidgeClassifier
    from sklearn.preprocessing import StandardScaler

    data = np.load(shared_data / "utd_mhad_skeleton.npz")
    labels = np.load(shared_data / "utd_mhad.npz")
    sequences = np.split(data["skeleton"], np.cumsum(data["skeleton_lengths"])[:-1])
    features = SkeletonTeacher().embed(sequences).numpy()
    assert features.shape == (861, 1920) and np.isfinite(features).all()
    train = labels["subject"] % 2 == 1
    scaler = StandardScaler().fit(features[train])
    probe = RidgeClassifier(alpha=10.0).fit(
        scaler.transform(features[train]), labels["action"][train]
    )
    accuracy = probe.score(scaler.transform(features[~train]), labels["action"][~train])
    assert accuracy > 0.5  # 27 classes: chance is 3.7 %; a label-free teacher that knows actions

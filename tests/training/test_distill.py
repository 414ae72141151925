"""Offline distillation: it must transfer what the teacher knows; schedule; augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from comodo_live.data.splits import k_shot_indices, subject_split
from comodo_live.data.synthetic import make_synthetic
from comodo_live.training.augment import ImuAugment, random_rotations, time_warp
from comodo_live.training.distill import (
    DistillConfig,
    distill,
    fit_projection,
    lr_factor,
    new_student,
    teacher_embeddings,
)
from comodo_live.training.probe import embed, linear_probe

TINY = {"embed_dim": 32, "proj_hidden": 64, "proj_dim": 32, "width": 16}


def _probe_top1(student, ds, train, test) -> float:
    emb = embed(student, ds.imu)
    idx = k_shot_indices(ds.labels, ds.subjects, train, 1, seed=0)
    return linear_probe(emb[idx], ds.labels[idx], emb[test], ds.labels[test]).top1


@pytest.mark.parametrize(("method", "margin"), [("comodo", 15.0), ("infonce", 8.0)])
def test_distill__beats_random_student_when_teacher_knows_labels(
    method: str, margin: float
) -> None:
    torch.set_num_threads(1)
    ds, features = make_synthetic(n_classes=8, seed=0)
    train, test = subject_split(ds.subjects, (1, 2), (3, 4))
    projection = fit_projection(features[train], seed=0, hidden=64, out=32)
    z_v = teacher_embeddings(projection, features)
    student = new_student(ds.imu[train], seed=0, **TINY)
    random_top1 = _probe_top1(student, ds, train, test)
    config = DistillConfig(
        method=method, steps=150, batch_size=32, lr=3e-3, queue_size=256, log_every=50
    )
    trained, history = distill(student, ds.imu[train], z_v[train], config, progress=False)
    assert trained is student
    assert _probe_top1(trained, ds, train, test) >= random_top1 + margin
    assert history.step == [50, 100, 150]
    assert history.loss[-1] < history.loss[0]
    assert all(0.0 <= e <= 1.0 for e in history.target_entropy)


def test_distill__centring_lowers_cosine_and_entropy() -> None:
    _, features = make_synthetic(seed=1)
    features = features + 5.0  # a shared offset, like non-negative CNN features
    raw = torch.as_tensor(
        teacher_embeddings(fit_projection(features, 0, centre=False, hidden=64, out=32), features)
    )
    centred = torch.as_tensor(
        teacher_embeddings(fit_projection(features, 0, centre=True, hidden=64, out=32), features)
    )
    from comodo_live.training.diagnostics import mean_pairwise_cosine, target_entropy

    assert mean_pairwise_cosine(centred) < mean_pairwise_cosine(raw) - 0.2
    assert target_entropy(centred[:16], centred[16:]) < target_entropy(raw[:16], raw[16:])


def test_lr_factor__warmup_then_cosine_or_constant() -> None:
    assert lr_factor(0, 100, 0.1, "cosine") == pytest.approx(0.1)
    assert lr_factor(9, 100, 0.1, "cosine") == pytest.approx(1.0)
    assert lr_factor(10, 100, 0.1, "cosine") == pytest.approx(1.0)
    assert lr_factor(55, 100, 0.1, "cosine") == pytest.approx(0.5)
    assert lr_factor(99, 100, 0.1, "constant") == 1.0
    assert lr_factor(0, 100, 0.0, "cosine") == pytest.approx(1.0)


def test_distill_config__validates_arguments() -> None:
    with pytest.raises(ValueError, match="method"):
        DistillConfig(method="simclr")
    with pytest.raises(ValueError, match="warmup_fraction"):
        DistillConfig(warmup_fraction=1.0)


def test_distill__rejects_mismatched_inputs() -> None:
    ds, _ = make_synthetic()
    student = new_student(ds.imu, 0, **TINY)
    with pytest.raises(ValueError, match="same n"):
        distill(student, ds.imu, np.zeros((3, 32), np.float32), progress=False)


def test_augment__rotation_is_orthonormal_and_preserves_norms() -> None:
    g = torch.Generator().manual_seed(0)
    rot = random_rotations(8, 15.0, g)
    torch.testing.assert_close(
        rot @ rot.transpose(1, 2), torch.eye(3).expand(8, 3, 3), atol=1e-5, rtol=0
    )
    x = torch.randn(8, 6, 40)
    out = ImuAugment(scale_std=0, jitter_std=0, time_warp=0)(x, g)
    torch.testing.assert_close(out[:, :3].norm(dim=1), x[:, :3].norm(dim=1), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(out, x)


def test_augment__time_warp_keeps_endpoints_and_shape() -> None:
    x = torch.linspace(0, 1, 50).expand(4, 6, 50).contiguous()
    out = time_warp(x, 0.3, torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    torch.testing.assert_close(out[..., 0], x[..., 0])
    torch.testing.assert_close(out[..., -1], x[..., -1])
    assert (out.diff(dim=-1) >= -1e-6).all()  # monotone map of a ramp stays a ramp


def test_augment__seeded_and_validated() -> None:
    x = torch.randn(3, 6, 30)
    aug = ImuAugment()
    a = aug(x, torch.Generator().manual_seed(3))
    b = aug(x, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="time_warp"):
        ImuAugment(time_warp=1.5)
    with pytest.raises(ValueError, match=r"\(B, 6, N\)"):
        aug(torch.zeros(2, 3, 10))

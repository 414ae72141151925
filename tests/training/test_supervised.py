"""Supervised training on few labels (scratch and fine-tune) with the student encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from comodo_live.data.splits import subject_split
from comodo_live.data.synthetic import make_synthetic
from comodo_live.training.distill import new_student
from comodo_live.training.supervised import SupervisedConfig, evaluate_classifier, train_classifier

TINY = {"embed_dim": 32, "proj_hidden": 64, "proj_dim": 32, "width": 16}


def test_train_classifier__learns_and_leaves_student_unchanged() -> None:
    torch.set_num_threads(1)
    ds, _ = make_synthetic(n_classes=4, n_trials=6, seed=2)
    train, test = subject_split(ds.subjects, (1, 2), (3, 4))
    student = new_student(ds.imu[train], 0, **TINY)
    before = {k: v.clone() for k, v in student.state_dict().items()}
    model = train_classifier(
        student,
        ds.imu[train],
        ds.labels[train],
        4,
        SupervisedConfig(steps=120, batch_size=32, lr=3e-3),
    )
    acc = evaluate_classifier(model, ds.imu[test], ds.labels[test])
    assert acc.top1 > 60.0  # chance is 25
    assert acc.top1 <= acc.top3 <= acc.top5 == 100.0  # 4 classes: top-5 covers all
    for key, value in student.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert model.encode(torch.as_tensor(ds.imu[:2])).shape == (2, 32)


def test_train_classifier__frozen_encoder_with_zero_scale() -> None:
    ds, _ = make_synthetic(n_classes=3, seed=3)
    student = new_student(ds.imu, 0, **TINY)
    model = train_classifier(
        student, ds.imu, ds.labels, 3, SupervisedConfig(steps=5, encoder_lr_scale=0.0)
    )
    conv = model.student.stem[0].weight
    torch.testing.assert_close(conv, student.stem[0].weight)


def test_train_classifier__validates_labels() -> None:
    ds, _ = make_synthetic(n_classes=3)
    student = new_student(ds.imu, 0, **TINY)
    with pytest.raises(ValueError, match="labels must be in"):
        train_classifier(student, ds.imu, ds.labels + 5, 3)
    with pytest.raises(ValueError, match="same n"):
        train_classifier(student, ds.imu, np.zeros(2, dtype=np.int64), 3)

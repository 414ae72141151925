"""Tests of the teacher registry."""

from __future__ import annotations

import pytest

from comodo_live.models.teachers import DEFAULT_TEACHER, Teacher, build_teacher
from comodo_live.models.teachers.skeleton import SkeletonTeacher


def test_build_teacher__default_is_efficientnet() -> None:
    teacher = build_teacher(input_size=64, frames=4, num_segments=2)
    assert DEFAULT_TEACHER == "efficientnet-lite0" == teacher.name
    assert isinstance(teacher, Teacher) and teacher.feature_dim == 2560


def test_build_teacher__skeleton_with_kwargs() -> None:
    teacher = build_teacher("skeleton", num_frames=10)
    assert isinstance(teacher, SkeletonTeacher) and teacher.feature_dim == 1200
    assert teacher.config["num_frames"] == 10


def test_build_teacher__unknown_name() -> None:
    with pytest.raises(ValueError, match="resnet"):
        build_teacher("resnet")

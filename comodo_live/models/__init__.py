"""COMODO learning core: teacher queue, losses, projection heads, IMU students, teachers.

Public API (stable for the engine, benchmark and export modules)::

    from comodo_live.models import (
        TeacherQueue, comodo_loss, ComodoLoss, infonce_loss, InfoNCELoss,
        ProjectionMLP, FrozenTeacherProjection, FeatureNormaliser,
        ImuStudent, build_student,
    )
    from comodo_live.models.teachers import Teacher, build_teacher
"""

from __future__ import annotations

from comodo_live.models.infonce import InfoNCELoss, infonce_loss
from comodo_live.models.loss import DEFAULT_TAU_S, DEFAULT_TAU_T, ComodoLoss, comodo_loss
from comodo_live.models.normalise import FeatureNormaliser
from comodo_live.models.projection import FrozenTeacherProjection, ProjectionMLP
from comodo_live.models.queue import TeacherQueue
from comodo_live.models.student import ImuStudent, build_student

__all__ = [
    "DEFAULT_TAU_S",
    "DEFAULT_TAU_T",
    "ComodoLoss",
    "FeatureNormaliser",
    "FrozenTeacherProjection",
    "ImuStudent",
    "InfoNCELoss",
    "ProjectionMLP",
    "TeacherQueue",
    "build_student",
    "comodo_loss",
    "infonce_loss",
]

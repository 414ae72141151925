"""Frozen-teacher features of every UTD-MHAD trial, computed once through the feature cache.

Video teachers see the depth clips (near = bright, three channels, see
:func:`comodo_live.data.utd_mhad.depth_to_clip`); the skeleton teacher sees the Kinect joints.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from comodo_live.data.feature_cache import cached_features
from comodo_live.data.utd_mhad import (
    IMU_FILE,
    SKELETON_FILE,
    depth_to_clip,
    load_depth,
    load_skeletons,
)

log = logging.getLogger(__name__)


def batched_embed(
    embed: Callable[[list[np.ndarray]], Any],
    items: Sequence[np.ndarray] | Callable[[int], np.ndarray],
    count: int,
    batch_size: int = 16,
    progress: bool = True,
    desc: str = "teacher",
) -> np.ndarray:
    """Run ``embed`` over ``count`` items in batches; items given as a sequence or a getter.

    Returns:
        (count, F) float32 features.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    get = items if callable(items) else items.__getitem__
    out = []
    for start in tqdm(range(0, count, batch_size), desc=desc, disable=not progress):
        batch = [get(i) for i in range(start, min(start + batch_size, count))]
        out.append(np.asarray(embed(batch), dtype=np.float32))  # (b, F)
    return np.concatenate(out)


def utd_depth_features(
    teacher: Any,
    data_dir: str | Path,
    depth_frames: int = 16,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Features (861, F) of a clip teacher (``.embed(clips)``, ``.config``) on the depth clips.

    Args:
        teacher: a :class:`comodo_live.models.teachers.base.Teacher`.
        data_dir: folder holding ``utd_mhad.npz``.
        depth_frames: depth frames handed to the teacher per clip (it samples its own
            ``num_frames`` from them), 1..16.
        cache_dir: feature cache folder (default ``./.cache/features``).
        progress: show a tqdm bar.
    """
    path = Path(data_dir) / IMU_FILE
    config = {
        **teacher.config,
        "input": "depth",
        "depth_frames": depth_frames,
        "depth_map": "p1-p99-near-bright",
    }

    def compute() -> np.ndarray:
        depth = load_depth(path)  # (n, 16, H, W)
        return batched_embed(
            lambda clips: teacher.embed(clips).numpy(),
            lambda i: depth_to_clip(depth[i], depth_frames),
            depth.shape[0],
            progress=progress,
            desc=f"{teacher.name} features",
        )

    return cached_features(teacher.name, config, [path], compute, cache_dir)


def utd_skeleton_features(
    teacher: Any,
    data_dir: str | Path,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Features (861, F) of a skeleton teacher (``.embed(sequences)``) on the Kinect joints."""
    path = Path(data_dir) / SKELETON_FILE

    def compute() -> np.ndarray:
        skeletons = load_skeletons(path)
        return batched_embed(
            lambda seqs: np.asarray(teacher.embed(seqs)),
            skeletons,
            len(skeletons),
            batch_size=128,
            progress=progress,
            desc=f"{teacher.name} features",
        )

    return cached_features(
        teacher.name, {**teacher.config, "input": "skeleton"}, [path], compute, cache_dir
    )

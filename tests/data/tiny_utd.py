"""Writes tiny files in the layout of ../shared/data/utd_mhad*.npz (no shared data needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_tiny_utd(
    folder: Path,
    n_actions: int = 3,
    subjects: tuple[int, ...] = (1, 2, 3, 4),
    n_trials: int = 2,
    seed: int = 0,
) -> Path:
    """Write ``utd_mhad.npz`` and ``utd_mhad_skeleton.npz`` with random, action-dependent content.

    Returns:
        ``folder``.
    """
    rng = np.random.default_rng(seed)
    rows = [
        (a, s, t) for a in range(1, n_actions + 1) for s in subjects for t in range(1, n_trials + 1)
    ]
    imu_lengths = rng.integers(60, 90, size=len(rows))
    skel_lengths = rng.integers(20, 40, size=len(rows))
    inertial = np.concatenate(
        [
            np.sin(np.linspace(0, a * np.pi, n))[:, None] * np.arange(1, 7)
            + rng.normal(0, 0.1, (n, 6))
            for (a, _, _), n in zip(rows, imu_lengths, strict=True)
        ]
    ).astype(np.float32)
    skeleton = np.concatenate(
        [
            rng.normal(0, 0.05, (n, 20, 3))
            + np.linspace(0, a, n)[:, None, None]
            + np.arange(20)[None, :, None] * 0.05
            for (a, _, _), n in zip(rows, skel_lengths, strict=True)
        ]
    ).astype(np.float32)
    depth = rng.integers(0, 4000, size=(len(rows), 16, 12, 16)).astype(np.uint16)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(
        folder / "utd_mhad.npz",
        depth=depth,
        inertial=inertial,
        inertial_lengths=imu_lengths.astype(np.int64),
        action=np.array([r[0] for r in rows], dtype=np.int64),
        subject=np.array([r[1] for r in rows], dtype=np.int64),
        trial=np.array([r[2] for r in rows], dtype=np.int64),
    )
    np.savez(
        folder / "utd_mhad_skeleton.npz",
        skeleton=skeleton,
        skeleton_lengths=skel_lengths.astype(np.int64),
    )
    return folder

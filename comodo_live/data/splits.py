"""Cross-subject splits, k-shot label selection and validation folds over training subjects.

All functions return integer index arrays into the dataset, sorted ascending.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def subject_split(
    subjects: np.ndarray, train_subjects: Sequence[int], test_subjects: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the trials of ``train_subjects`` and of ``test_subjects``.

    Raises:
        ValueError: if the two subject sets overlap or either selects nothing.
    """
    overlap = set(train_subjects) & set(test_subjects)
    if overlap:
        raise ValueError(f"train and test subjects overlap: {sorted(overlap)}")
    train = np.flatnonzero(np.isin(subjects, list(train_subjects)))
    test = np.flatnonzero(np.isin(subjects, list(test_subjects)))
    if train.size == 0 or test.size == 0:
        raise ValueError(
            f"empty split: {train.size} train / {test.size} test trials for subjects "
            f"{list(train_subjects)} / {list(test_subjects)}"
        )
    return train, test


def k_shot_indices(
    labels: np.ndarray, subjects: np.ndarray, pool: np.ndarray, k: int | None, seed: int
) -> np.ndarray:
    """Pick ``k`` trials per (class, subject) from ``pool``, at random with ``seed``.

    Args:
        labels: (n,) class of every trial.
        subjects: (n,) subject of every trial.
        pool: indices to choose from (e.g. the training split).
        k: trials per class per subject, >= 1; None keeps the whole pool. A (class, subject)
            with fewer than ``k`` trials contributes all it has.
        seed: selection seed.

    Returns:
        Sorted indices, a subset of ``pool``.
    """
    if k is None:
        return np.sort(pool)
    if k < 1:
        raise ValueError(f"k must be >= 1 or None (all), got {k}")
    rng = np.random.default_rng(seed)
    chosen: list[np.ndarray] = []
    for subject in np.unique(subjects[pool]):
        for label in np.unique(labels[pool]):
            cell = pool[(subjects[pool] == subject) & (labels[pool] == label)]
            if cell.size:
                chosen.append(rng.choice(cell, size=min(k, cell.size), replace=False))
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def leave_one_subject_out(
    subjects: np.ndarray, pool: np.ndarray
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Validation folds inside ``pool``: each subject in turn is held out.

    Returns:
        One ``(held_out_subject, fit_indices, val_indices)`` per subject in ``pool``.
    """
    folds = []
    for subject in np.unique(subjects[pool]):
        held = subjects[pool] == subject
        folds.append((int(subject), np.sort(pool[~held]), np.sort(pool[held])))
    if len(folds) < 2:
        raise ValueError(f"need at least two subjects in the pool, got {len(folds)}")
    return folds

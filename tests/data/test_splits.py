"""Cross-subject split, k-shot selection and leave-one-subject-out folds."""

from __future__ import annotations

import numpy as np
import pytest

from comodo_live.data.splits import k_shot_indices, leave_one_subject_out, subject_split

LABELS = np.repeat(np.arange(3), 16)  # 3 classes × (4 subjects × 4 trials)
SUBJECTS = np.tile(np.repeat(np.arange(1, 5), 4), 3)


def test_subject_split__disjoint_and_complete() -> None:
    train, test = subject_split(SUBJECTS, (1, 3), (2, 4))
    assert set(SUBJECTS[train]) == {1, 3} and set(SUBJECTS[test]) == {2, 4}
    assert train.size + test.size == LABELS.size


def test_subject_split__overlap_raises() -> None:
    with pytest.raises(ValueError, match="overlap"):
        subject_split(SUBJECTS, (1, 2), (2, 3))


def test_k_shot_indices__k_per_class_and_subject() -> None:
    pool, _ = subject_split(SUBJECTS, (1, 3), (2, 4))
    idx = k_shot_indices(LABELS, SUBJECTS, pool, 2, seed=0)
    assert idx.size == 3 * 2 * 2
    assert set(idx) <= set(pool)
    for label in range(3):
        for subject in (1, 3):
            assert ((LABELS[idx] == label) & (SUBJECTS[idx] == subject)).sum() == 2


def test_k_shot_indices__seeded() -> None:
    pool = np.arange(LABELS.size)
    a = k_shot_indices(LABELS, SUBJECTS, pool, 1, seed=0)
    assert np.array_equal(a, k_shot_indices(LABELS, SUBJECTS, pool, 1, seed=0))
    assert any(
        not np.array_equal(a, k_shot_indices(LABELS, SUBJECTS, pool, 1, seed=s))
        for s in range(1, 5)
    )


def test_k_shot_indices__all_and_invalid() -> None:
    pool = np.arange(10)[::-1]
    np.testing.assert_array_equal(k_shot_indices(LABELS, SUBJECTS, pool, None, 0), np.arange(10))
    with pytest.raises(ValueError, match="k must be"):
        k_shot_indices(LABELS, SUBJECTS, pool, 0, 0)


def test_leave_one_subject_out__folds_partition_pool() -> None:
    pool, _ = subject_split(SUBJECTS, (1, 2, 3), (4,))
    folds = leave_one_subject_out(SUBJECTS, pool)
    assert [f[0] for f in folds] == [1, 2, 3]
    for subject, fit, val in folds:
        assert set(SUBJECTS[val]) == {subject} and subject not in set(SUBJECTS[fit])
        assert np.array_equal(np.sort(np.concatenate([fit, val])), pool)

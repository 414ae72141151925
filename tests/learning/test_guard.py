"""The student guard: grouped cross-validation by stretch, roll back a worse student."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from comodo_live.config import AppConfig
from comodo_live.head import Smoother, unknown_threshold
from comodo_live.learning.guard import StudentGuard, compare_students, group_folds, held_out
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pair_store import PairStore
from comodo_live.learning.pipeline import build_student
from comodo_live.learning.predictor import PredictorModel
from comodo_live.learning.refit import ClassifierWorker
from comodo_live.learning.trainer import TrainerWorker

ACTIVITIES = ("walk", "wave", "sit")


def _window(kind: int, rng: np.random.Generator, samples: int) -> np.ndarray:
    """(6, N) synthetic IMU: a different frequency and axis per activity, plus noise."""
    t = np.arange(samples) / 50.0
    x = 0.3 * rng.standard_normal((6, samples))
    x[kind] += 2.0 * np.sin(2 * np.pi * (1.0 + 1.5 * kind) * t + rng.uniform(0, 6))
    x[3 + kind] += 1.0
    return x.astype(np.float32)


def _labelled(samples: int, stretches: int = 4, per: int = 6) -> LabelStore:
    """``stretches`` stretches of ``per`` windows (hop 0.5 s) per activity, interleaved."""
    rng = np.random.default_rng(1)
    labels = LabelStore(max_per_activity=200, activities=ACTIVITIES)
    t = 0.0
    for _ in range(stretches):
        for kind, name in enumerate(ACTIVITIES):
            for _ in range(per):
                labels.add_window(name, _window(kind, rng, samples), t)
                t += 0.5
            t += 10.0  # a gap: the next labelled window opens a new stretch
    return labels


def test_labels__windows_remember_their_stretch(config: AppConfig) -> None:
    labels = _labelled(config.window.samples, stretches=2, per=3)
    _, names, groups = labels.windows_by_stretch()
    assert len(names) == 18 and np.unique(groups).size == 6
    for g in np.unique(groups):
        assert len({names[i] for i in np.flatnonzero(groups == g)}) == 1
    other = LabelStore(activities=ACTIVITIES)
    other.load_state(labels.state())
    np.testing.assert_array_equal(other.windows_by_stretch()[2], groups)


def test_group_folds__never_split_a_stretch() -> None:
    groups = np.repeat([7, 3, 9, 1, 5], 4)
    folds = group_folds(groups, 3, ["a"] * groups.size)
    for g in np.unique(groups):
        assert np.unique(folds[groups == g]).size == 1
    assert set(folds.tolist()) == {0, 1, 2}


def test_guard__no_labels_says_so(config: AppConfig) -> None:
    student = build_student(config)
    labels = LabelStore(activities=ACTIVITIES)
    windows, names, groups = labels.windows_by_stretch()
    verdict = compare_students(student, student, windows, names, groups, ACTIVITIES)
    assert verdict.gain_points is None
    assert "no labels yet" in StudentGuard().decide(verdict).summary()


def test_guard__labels_without_a_held_out_stretch_say_what_is_missing(config: AppConfig) -> None:
    """Each activity labelled once: every stretch trains (hold_out_every = 2), none is scored;
    the summary must not claim there are no labels."""
    student = build_student(config)
    labels = _labelled(config.window.samples, stretches=1, per=3)
    windows, names, groups = labels.windows_by_stretch()
    scored = np.asarray([held_out(labels.ordinal(int(g)), 2) for g in groups])
    assert not scored.any()
    verdict = compare_students(student, student, windows, names, groups, ACTIVITIES, scored=scored)
    text = StudentGuard().decide(verdict).summary()
    assert verdict.gain_points is None and verdict.labelled == 9 and verdict.windows == 0
    assert "no labels yet" not in text
    assert "9 labelled windows" in text and "second time" in text
    one = np.zeros_like(scored)
    one[groups == groups[0]] = True  # one held-out stretch: still no cross-validated figure
    few = compare_students(student, student, windows, names, groups, ACTIVITIES, scored=one)
    assert "3 held-out windows in 1 stretch;" in few.summary()


def test_guard__rolls_back_a_broken_student(config: AppConfig) -> None:
    start = build_student(config).eval()
    broken = copy.deepcopy(start)
    with torch.no_grad():
        for p in broken.parameters():
            p.copy_(torch.randn_like(p) * 1e-4)  # embeddings no longer depend on the activity
    windows, names, groups = _labelled(config.window.samples).windows_by_stretch()
    guard = StudentGuard()
    verdict = guard.decide(
        compare_students(broken, start, windows, names, groups, ACTIVITIES, min_windows=2)
    )
    assert verdict.start_accuracy is not None and verdict.start_accuracy > 0.8
    assert verdict.gain_points is not None and verdict.gain_points < -20
    assert verdict.rolled_back and guard.rollbacks == 1
    assert "rolled back" in verdict.summary() and f"({len(names)} windows)" in verdict.summary()
    same = guard.decide(
        compare_students(start, start, windows, names, groups, ACTIVITIES, min_windows=2)
    )
    assert same.gain_points == pytest.approx(0.0) and not same.rolled_back
    assert [v.serving for _, v in guard.history] == ["starting", "distilled"]


def test_held_out__every_kth_stretch_of_each_activity_from_the_second() -> None:
    assert [held_out(o, 2) for o in range(6)] == [False, True] * 3
    assert all(held_out(o, 1) for o in range(4))
    assert not any(held_out(o, 0) for o in range(4))
    assert [held_out(o, 3) for o in range(6)] == [False, True, False] * 2


def test_group_folds__each_activity_cut_into_periods() -> None:
    """Activities labelled one after another (UTD-MHAD's session: 4 people per activity): each
    fold holds one period of every activity, never all of one activity."""
    names = [a for a in "abc" for _ in range(4)]  # a a a a b b b b c c c c
    groups = np.arange(1, 13)
    folds = group_folds(groups, 3, names)
    assert folds.tolist() == [0, 0, 1, 2] * 3
    shuffled = np.random.default_rng(0).permutation(12)
    again = group_folds(groups[shuffled], 3, [names[i] for i in shuffled])
    np.testing.assert_array_equal(again, folds[shuffled])  # by stretch id, not window order
    assert group_folds(np.array([5, 5, 9]), 3, ["a", "a", "b"]).tolist() == [0, 0, 0]


def test_labels__stretch_ordinal_per_activity_survives_state(config: AppConfig) -> None:
    labels = _labelled(config.window.samples, stretches=3, per=2)
    _, names, groups = labels.windows_by_stretch()
    ranks = {(n, labels.ordinal(int(g))) for n, g in zip(names, groups, strict=True)}
    assert ranks == {(n, r) for n in ACTIVITIES for r in range(3)}
    other = LabelStore(activities=ACTIVITIES)
    other.load_state(labels.state())
    assert [other.ordinal(int(g)) for g in groups] == [labels.ordinal(int(g)) for g in groups]


def test_guard__scores_only_the_held_out_stretches(config: AppConfig) -> None:
    start = build_student(config).eval()
    broken = copy.deepcopy(start)
    with torch.no_grad():
        for p in broken.parameters():
            p.copy_(torch.randn_like(p) * 1e-4)
    labels = _labelled(config.window.samples)
    windows, names, groups = labels.windows_by_stretch()
    scored = np.asarray([held_out(labels.ordinal(int(g)), 2) for g in groups])
    assert 0 < scored.sum() < scored.size
    verdict = compare_students(
        broken, start, windows, names, groups, ACTIVITIES, min_windows=2, scored=scored
    )
    assert verdict.windows == int(scored.sum())
    assert verdict.stretches == np.unique(groups[scored]).size == 6  # 2nd and 4th of 3 activities
    assert verdict.gain_points is not None and verdict.gain_points < -20
    assert StudentGuard().decide(verdict).rolled_back
    same = compare_students(
        start, start, windows, names, groups, ACTIVITIES, min_windows=2, scored=scored
    )
    assert same.gain_points == pytest.approx(0.0) and same.start_accuracy is not None
    assert same.start_accuracy > 0.8  # each fold's classifier also learnt from unscored stretches
    one = np.zeros_like(scored)
    one[groups == groups[0]] = True  # a single scored stretch: no cross-validated figure
    assert (
        compare_students(
            start, start, windows, names, groups, ACTIVITIES, min_windows=2, scored=one
        ).gain_points
        is None
    )
    with pytest.raises(ValueError, match="scored"):
        compare_students(start, start, windows, names, groups, ACTIVITIES, scored=scored[:-1])


def test_guard__shuffled_teacher_never_served_below_start(config: AppConfig) -> None:
    """Distil from a teacher whose pairs are shuffled; the served student, measured on the
    labelled windows, never falls significantly (one-sided 95 %) below the starting one."""
    cfg = config.replace(
        {"trainer.lr": 1e-2, "trainer.replay_ratio": 4.0, "predictor.min_windows_per_activity": 2}
    )
    samples, dim = cfg.window.samples, cfg.teacher.embed_dim
    rng = np.random.default_rng(0)
    student = build_student(cfg)
    store = PairStore(256, 6, samples, dim)
    trainer = TrainerWorker(cfg.trainer, student, store, seed=0)
    trainer.imu_stats.observe(np.zeros((6, samples), np.float32))
    trainer.imu_stats.observe(np.ones((6, samples), np.float32) * 2)
    trainer.ready()
    labels = _labelled(samples)
    served: list[PredictorModel] = []
    worker = ClassifierWorker(cfg.predictor, labels, trainer.take_snapshot, served.append)
    trainer.publish_snapshot()
    worker.refit_now()  # the starting student
    windows, names, groups = labels.windows_by_stretch()
    centres = rng.standard_normal((3, dim)).astype(np.float32)
    for _ in range(3):  # rounds of distillation on shuffled pairs
        for _ in range(32):
            kind = int(rng.integers(3))
            z = centres[rng.integers(3)] + 0.1 * rng.standard_normal(dim).astype(np.float32)
            store.add(_window(kind, rng, samples), z / np.linalg.norm(z))  # teacher: wrong
        trainer.request_flush()
        assert trainer.step_until_budget() > 0
        trainer.publish_snapshot()
        worker.refit_now()
        verdict = worker.guard.verdict
        assert worker.guard.history[-1] == (trainer.step, verdict)  # the judged snapshot's step
        assert verdict.gain_points is not None and verdict.noise_points is not None
        assert worker.start_student is not None and worker.served is served[-1].encoder
        check = compare_students(
            worker.served, worker.start_student, windows, names, groups, ACTIVITIES, 2
        )
        assert check.gain_points is not None
        assert check.gain_points >= -worker.guard.margin(verdict.noise_points)


@pytest.mark.parametrize(("k", "expected"), [(2, 0.65), (5, 0.44), (27, 1 / 27 + 0.3 * 26 / 27)])
def test_unknown_rule__is_relative_to_chance(k: int, expected: float) -> None:
    """Readable predictions: "unknown" means the same for 2 or 27 activities."""
    assert unknown_threshold(k, 0.0, 0.3) == pytest.approx(expected)
    assert unknown_threshold(k, 0.9, 0.3) == pytest.approx(0.9)  # the absolute floor
    names = [f"a{i}" for i in range(k)]
    smoother = Smoother(alpha=1.0, threshold=0.0, margin=0.3)
    just_below = dict.fromkeys(names, (1 - expected + 0.01) / (k - 1)) | {"a0": expected - 0.01}
    assert smoother(just_below, 0.0).label == "unknown"
    smoother.reset()
    above = dict.fromkeys(names, (1 - expected - 0.01) / (k - 1)) | {"a0": expected + 0.01}
    assert smoother(above, 0.0).label == "a0"

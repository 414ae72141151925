"""TrainerWorker: COMODO steps, unique queue entries, EMA, divergence guard with rollback."""

from __future__ import annotations

import time

import numpy as np
import torch

from comodo_live.config import AppConfig
from comodo_live.learning.pair_store import PairStore
from comodo_live.learning.pipeline import build_student
from comodo_live.learning.trainer import TrainerWorker


def _filled_trainer(config: AppConfig, pairs: int = 24) -> TrainerWorker:
    rng = np.random.default_rng(0)
    student = build_student(config)
    replay = PairStore(
        config.trainer.replay_size, 6, config.window.samples, config.teacher.embed_dim
    )
    centres = rng.standard_normal((3, config.teacher.embed_dim)).astype(np.float32)
    for i in range(pairs):
        kind = i % 3
        imu = (rng.standard_normal((6, config.window.samples)) * (1 + kind)).astype(np.float32)
        z = centres[kind] + 0.1 * rng.standard_normal(config.teacher.embed_dim).astype(np.float32)
        replay.add(imu, z / np.linalg.norm(z))
    trainer = TrainerWorker(config.trainer, student, replay, seed=0)
    trainer.imu_stats.observe(np.ones((6, 4), np.float32))
    trainer.imu_stats.observe(np.zeros((6, 4), np.float32))
    return trainer


def test_trainer__steps_enqueue_each_teacher_embedding_once(config: AppConfig) -> None:
    trainer = _filled_trainer(config, pairs=24)
    for _ in range(10):
        assert trainer.train_step()
    assert trainer.step == 10
    assert len(trainer.queue) == 24  # every pair once, however often it was replayed
    assert trainer.stats is not None and np.isfinite(trainer.stats.loss)
    assert trainer.loss_history().shape == (10, 2)


def test_trainer__ema_follows_the_student_slowly(config: AppConfig) -> None:
    trainer = _filled_trainer(config)
    before = [p.detach().clone() for p in trainer.ema.parameters()]
    for _ in range(5):
        trainer.train_step()
    student = list(trainer.student.parameters())
    ema = list(trainer.ema.parameters())
    moved_ema = sum(float((e - b).norm()) for e, b in zip(ema, before, strict=True))
    moved_student = sum(
        float((s.detach() - b).norm()) for s, b in zip(student, before, strict=True)
    )
    assert 0 < moved_ema < moved_student


def test_trainer__non_finite_loss_is_skipped_and_rolled_back(config: AppConfig) -> None:
    trainer = _filled_trainer(config)
    for _ in range(3):
        trainer.train_step()
    trainer._save_good_state()
    good = {k: v.clone() for k, v in trainer.student.state_dict().items()}
    ema_before = {k: v.clone() for k, v in trainer.ema.state_dict().items()}
    with torch.no_grad():
        next(trainer.student.parameters()).fill_(float("nan"))  # a poisoned student
    step = trainer.step
    assert not trainer.train_step()
    assert trainer.skipped_steps == 1 and trainer.rollbacks == 1 and trainer.step == step
    for key, value in trainer.student.state_dict().items():
        torch.testing.assert_close(value, good[key])  # rolled back
    for key, value in trainer.ema.state_dict().items():
        torch.testing.assert_close(value, ema_before[key])  # the EMA never saw the poison
    assert trainer.train_step()  # training goes on


def test_trainer__exploding_gradient_is_skipped(config: AppConfig) -> None:
    trainer = _filled_trainer(
        config.replace({"trainer.divergence_norm": 1.0, "trainer.max_grad_norm": 1e6})
    )
    trainer._save_good_state()
    taken = [trainer.train_step() for _ in range(3)]
    assert not any(taken)  # every gradient norm of a fresh net is > 1
    assert trainer.skipped_steps == 3 and trainer.step == 0
    assert all(torch.isfinite(p).all() for p in trainer.student.parameters())


def test_trainer__thread_trains_and_publishes_snapshots(config: AppConfig) -> None:
    trainer = _filled_trainer(config)
    with trainer:
        deadline = time.monotonic() + 10
        while trainer.step < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert trainer.step >= 5
    snapshot = trainer.take_snapshot()
    assert snapshot is not None
    assert snapshot.model is not trainer.ema  # a private copy for the predictor side
    torch.testing.assert_close(snapshot.model.channel_std, torch.full((6,), 0.5))


def test_trainer__state_round_trip(config: AppConfig) -> None:
    trainer = _filled_trainer(config)
    for _ in range(4):
        trainer.train_step()
    other = _filled_trainer(config, pairs=0)
    other.load_state(trainer.state())
    assert (
        other.step == 4
        and len(other.queue) == len(trainer.queue)
        and len(other.replay) == len(trainer.replay)
    )
    torch.testing.assert_close(other.queue.entries(), trainer.queue.entries())
    for key, value in trainer.ema.state_dict().items():
        torch.testing.assert_close(other.ema.state_dict()[key], value)
    assert other.imu_stats.applied


def _stream(config: AppConfig, seed: int) -> TrainerWorker:
    """A trainer fed 40 pairs one at a time, stepped synchronously as fast replay does."""
    cfg = config.replace({"trainer.min_pairs": 8, "trainer.replay_ratio": 0.5})
    rng = np.random.default_rng(0)
    replay = PairStore(cfg.trainer.replay_size, 6, cfg.window.samples, cfg.teacher.embed_dim)
    trainer = TrainerWorker(cfg.trainer, build_student(cfg), replay, seed=seed)
    for _ in range(2):
        trainer.imu_stats.observe(rng.standard_normal((6, cfg.window.samples)).astype(np.float32))
    for _ in range(40):
        imu = rng.standard_normal((6, cfg.window.samples)).astype(np.float32)
        z = rng.standard_normal(cfg.teacher.embed_dim).astype(np.float32)
        replay.add(imu, z / np.linalg.norm(z))
        trainer.step_until_budget()
    return trainer


def test_trainer__step_until_budget_is_deterministic_and_tied_to_pairs(config: AppConfig) -> None:
    a, b = _stream(config, seed=3), _stream(config, seed=3)
    # rounds at 8, 16 and 32 pairs (growth 1): 4 + 4 + 8 steps; the last 8 pairs wait
    assert a.schedule.rounds == 3 and a.step == 16
    for key, value in a.ema.state_dict().items():
        torch.testing.assert_close(b.ema.state_dict()[key], value)
    assert a.step_until_budget() == 0  # no new pairs (camera off): training has stopped
    a.request_flush()
    assert a.step_until_budget() == 4 and a.schedule.rounds == 4  # the waiting 8 pairs
    assert a.step_until_budget() == 0
    c = _stream(config, seed=4)
    assert any(not torch.equal(c.ema.state_dict()[k], v) for k, v in a.ema.state_dict().items())


def test_trainer__says_in_words_why_it_does_not_train_yet(config: AppConfig) -> None:
    student = build_student(config)
    replay = PairStore(8, 6, config.window.samples, config.teacher.embed_dim)
    trainer = TrainerWorker(config.trainer, student, replay, seed=0)
    needed = config.trainer.imu_stats_windows
    assert trainer.waiting() == f"waiting for IMU statistics (0/{needed} windows)"
    trainer.imu_stats.observe(np.ones((6, 4), np.float32))
    assert trainer.waiting() == f"waiting for IMU statistics (1/{needed} windows)"
    for _ in range(needed):
        trainer.imu_stats.observe(np.ones((6, 4), np.float32))
    assert not trainer.ready()  # applies the statistics; no pairs yet
    assert trainer.waiting() == "waiting for pairs (0/2)"
    for _ in range(2):
        replay.add(
            np.ones((6, config.window.samples), np.float32), np.eye(config.teacher.embed_dim)[0]
        )
    assert trainer.ready() and trainer.waiting() == ""

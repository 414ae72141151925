"""Pipeline (no LSL): routing, NaN windows, labels → classifier → predictions, checkpoint resume."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from comodo_live.config import AppConfig
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pipeline import Pipeline
from comodo_live.learning.predictions import PredictionBoard
from comodo_live.learning.state import load_state
from comodo_live.records import ImuWindow, PairedWindow

from .conftest import synthetic_window, wait_for


def _feed(pipeline: Pipeline, seconds: float, t0: float, nan_every: int = 0) -> float:
    """Submit windows every 50 ms (hop 0.25 s of stream time) for ``seconds``; returns t."""
    t = t0
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        paired = synthetic_window(t, kind=int(t // 2) % 3)
        if nan_every and i % nan_every == 0:
            data = paired.imu.data.copy()
            data[1, 7] = np.nan
            imu = ImuWindow(data, paired.imu.t_start, t, 50.0, True)
            paired = PairedWindow(imu, paired.clip)
        pipeline.submit(paired)
        t += 0.25
        i += 1
        time.sleep(0.05)
    return t


def _student_finite(pipeline: Pipeline) -> bool:
    models = (pipeline.trainer.student, pipeline.trainer.ema)
    return all(
        torch.isfinite(t).all()
        for m in models
        for t in [*m.parameters(), *m.buffers()]
        if t.is_floating_point()
    )


def test_pipeline__nan_windows_neither_crash_nor_poison(config: AppConfig) -> None:
    labels = LabelStore(activities=("slow", "fast"))
    pipeline = Pipeline(config, labels, PredictionBoard())
    pipeline.start()
    try:
        labels.start_label("slow", 0.0)
        t = _feed(pipeline, 1.0, 1.0)
        labels.start_label("fast", t)
        t = _feed(pipeline, 1.0, t)
        labels.stop_label(t)
        t = _feed(pipeline, 4.0, t, nan_every=2)  # every other window carries a NaN
        assert wait_for(lambda: pipeline.trainer.step >= 10)
        _feed(pipeline, 1.0, t, nan_every=2)
        assert pipeline.running and all(w.error is None for w in pipeline.workers)
    finally:
        pipeline.stop()
    assert _student_finite(pipeline)
    # NaN windows are skipped at the door (comodo_live/imu_quality.py), good ones predicted
    assert pipeline.bad_windows["non-finite"] > 0 and pipeline.predictor.predicted > 0
    assert all(np.isfinite(w).all() for w in labels.windows()[0])
    assert pipeline.board.student is not None and pipeline.board.student.probabilities


def test_pipeline__checkpoint_restores_step_queue_ema_labels(
    tmp_path: Path, config: AppConfig
) -> None:
    checkpoint = tmp_path / "checkpoints" / "latest.pt"
    labels = LabelStore()
    pipeline = Pipeline(config, labels, PredictionBoard(), checkpoint)
    pipeline.start()
    try:
        labels.start_label("slow", 0.0)
        t = _feed(pipeline, 1.0, 1.0)
        labels.stop_label(t)
        _feed(pipeline, 1.0, t)
        assert wait_for(lambda: pipeline.trainer.step >= 8)
    finally:
        pipeline.stop()  # writes the final checkpoint
    saved = load_state(checkpoint)
    assert saved["step"] == pipeline.trainer.step >= 8
    resumed_labels = LabelStore()
    resumed = Pipeline(config, resumed_labels, PredictionBoard(), checkpoint)
    resumed.resume(checkpoint)
    assert resumed.trainer.step == pipeline.trainer.step
    # queue float16, AdamW moments bfloat16 in the checkpoint (learning/compact.py)
    torch.testing.assert_close(
        resumed.trainer.queue.entries(), pipeline.trainer.queue.entries(), atol=2e-3, rtol=0
    )
    for key, value in pipeline.trainer.ema.state_dict().items():
        torch.testing.assert_close(resumed.trainer.ema.state_dict()[key], value)
    for key, value in pipeline.trainer.optimizer.state_dict()["state"].items():
        torch.testing.assert_close(
            resumed.trainer.optimizer.state_dict()["state"][key]["exp_avg"],
            value["exp_avg"],
            rtol=1e-2,
            atol=1e-6,
        )
    # the projection is rebuilt from its seed; its feature statistics are re-estimated
    for key, value in pipeline.teacher.projection.mlp.state_dict().items():
        torch.testing.assert_close(resumed.teacher.projection.mlp.state_dict()[key], value)
    assert not resumed.teacher.projection.normaliser.has_stats
    assert resumed_labels.activities == ("slow",)
    assert resumed_labels.counts() == labels.counts() and labels.counts()["slow"] > 0
    assert len(resumed.replay) == len(pipeline.replay)
    assert saved["classifier"] is not None and saved["classifier"]["activities"] == ["slow"]


def test_pipeline__resume_refuses_another_architecture(tmp_path: Path, config: AppConfig) -> None:
    checkpoint = tmp_path / "latest.pt"
    pipeline = Pipeline(config, LabelStore(), PredictionBoard(), checkpoint)
    pipeline.save_checkpoint()
    other = Pipeline(config.replace({"student.width": 12}), LabelStore(), PredictionBoard())
    with pytest.raises(ValueError, match="checkpoint student"):
        other.resume(checkpoint)


def test_pipeline__first_checkpoint_comes_early(tmp_path: Path, config: AppConfig) -> None:
    from comodo_live.learning.pipeline import FIRST_CHECKPOINT_STEPS

    config = config.replace({"trainer.checkpoint_every_s": 3600.0})
    checkpoint = tmp_path / "checkpoints" / "latest.pt"
    pipeline = Pipeline(config, LabelStore(), PredictionBoard(), checkpoint)
    pipeline.start()
    try:
        t = 1.0
        while pipeline.trainer.step < FIRST_CHECKPOINT_STEPS + 2 and t < 200:
            t = _feed(pipeline, 0.5, t)
        assert wait_for(checkpoint.is_file, 5.0)  # long before checkpoint_every_s
        assert load_state(checkpoint)["step"] >= FIRST_CHECKPOINT_STEPS
    finally:
        pipeline.stop()


def test_trainer_config__demo_gathers_channel_statistics_over_one_pass_of_its_script() -> None:
    from comodo_live.config import load_config
    from comodo_live.learning.pipeline import trainer_config

    live = load_config(overrides={"source.mode": "live"})
    assert trainer_config(live).imu_stats_windows == live.trainer.imu_stats_windows == 240
    demo = load_config(overrides={"source.mode": "demo"})
    # 5 activities × 12 s at hop 0.5 s: every scripted activity once, training within a minute
    assert trainer_config(demo).imu_stats_windows == 120
    short = load_config(overrides={"source.mode": "demo", "trainer.imu_stats_windows": 30})
    assert trainer_config(short).imu_stats_windows == 30  # a smaller setting is kept

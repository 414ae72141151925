"""Session checkpoint payload: compact, private (no raw teacher-feature average), restorable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from comodo_live.config import AppConfig
from comodo_live.learning import compact
from comodo_live.learning import state as session_state
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pipeline import Pipeline
from comodo_live.learning.predictions import PredictionBoard
from comodo_live.training.checkpoint import save_checkpoint


def _filled(config: AppConfig) -> Pipeline:
    """A pipeline (not started) with a full replay, a full queue, AdamW moments, feature stats."""
    pipeline = Pipeline(config, LabelStore(activities=("walk",)), PredictionBoard())
    rng = np.random.default_rng(0)
    channels, samples = pipeline.replay.shape
    dim = config.teacher.embed_dim
    for _ in range(config.trainer.replay_size):
        z_v = rng.standard_normal(dim).astype(np.float32)  # (D,)
        pipeline.replay.add(rng.standard_normal((channels, samples)).astype(np.float32), z_v)
    queue = torch.nn.functional.normalize(torch.randn(config.trainer.queue_size, dim), dim=1)
    pipeline.trainer.queue.enqueue(queue)  # (K, D)
    loss = sum(p.square().sum() for p in pipeline.trainer.student.parameters())
    loss.backward()  # type: ignore[union-attr]
    pipeline.trainer.optimizer.step()
    features = torch.rand(6, pipeline.teacher.projection.config["in_dim"]) + 3.0  # (B, F)
    pipeline.teacher.projection.update_stats(features)
    window = rng.standard_normal((channels, samples)).astype(np.float32)
    assert pipeline.labels.add_window("walk", window)
    assert pipeline.labels.add_teacher_embedding(
        "walk", rng.standard_normal(dim).astype(np.float32)
    )
    return pipeline


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _tensors(v)]
    return []


def test_state__no_raw_teacher_feature_statistics(config: AppConfig) -> None:
    pipeline = _filled(config)
    feature_dim = pipeline.teacher.projection.config["in_dim"]
    mean = pipeline.teacher.projection.normaliser.mean
    assert pipeline.teacher.projection.normaliser.has_stats
    state = pipeline.checkpoint_state()
    for tensor in _tensors(state):
        assert feature_dim not in tensor.shape, f"a {tuple(tensor.shape)} tensor has F values"
    assert "state" not in state["teacher_projection"]
    assert not any(torch.equal(t.flatten()[: mean.numel()], mean) for t in _tensors(state))


def test_state__compact_and_round_trip(tmp_path: Path, config: AppConfig) -> None:
    pipeline = _filled(config)
    trainer = pipeline.trainer
    full = session_state.to_plain(
        {**trainer.state(), "projection": pipeline.teacher.projection_state()}
    )
    old = save_checkpoint(tmp_path / "old.pt", full, "session")
    new = session_state.save_state(tmp_path / "new.pt", pipeline.checkpoint_state())
    assert new.stat().st_size < 0.6 * old.stat().st_size

    resumed = Pipeline(config, LabelStore(), PredictionBoard())
    resumed.resume(new)
    for key, value in trainer.student.state_dict().items():
        torch.testing.assert_close(resumed.trainer.student.state_dict()[key], value)
    torch.testing.assert_close(
        resumed.trainer.queue.entries(), trainer.queue.entries(), atol=2e-3, rtol=0
    )
    assert len(resumed.replay) == len(pipeline.replay)
    _, imu, z_v = resumed.replay.sample(4, np.random.default_rng(1))
    assert imu.dtype == np.float32 and z_v.dtype == np.float32
    assert resumed.labels.counts() == {"walk": 1}
    assert not resumed.teacher.projection.normaliser.has_stats  # re-estimated from new clips


def test_state__partly_filled_queue_stores_only_its_rows(config: AppConfig) -> None:
    pipeline = Pipeline(config, LabelStore(), PredictionBoard())
    pipeline.trainer.queue.enqueue(torch.nn.functional.normalize(torch.randn(5, 32), dim=1))
    state = pipeline.checkpoint_state()
    assert tuple(state["queue"]["buffer"].shape) == (5, 32)
    restored = compact.expand_trainer_state(state)["queue"]["buffer"]
    assert tuple(restored.shape) == (config.trainer.queue_size, 32)
    torch.testing.assert_close(restored[:5], pipeline.trainer.queue.entries(), atol=2e-3, rtol=0)


def test_state__projection_from_another_torch_is_refused(tmp_path: Path, config: AppConfig) -> None:
    pipeline = _filled(config)
    state = pipeline.checkpoint_state()
    state["teacher_projection"]["sha256"] = "0" * 64
    path = session_state.save_state(tmp_path / "latest.pt", state)
    with pytest.raises(ValueError, match="rebuilt from its seed differs"):
        Pipeline(config, LabelStore(), PredictionBoard()).resume(path)


def test_strip_video_data__keeps_student_and_labels_only(tmp_path: Path, config: AppConfig) -> None:
    pipeline = _filled(config)
    state = compact.strip_video_data(pipeline.checkpoint_state())
    assert state["replay"]["z_v"].shape[0] == 0 and state["queue"]["count"] == 0
    assert state["labels"]["teacher"] == {} and state["video_data"] == "none"
    path = session_state.save_state(tmp_path / "latest.pt", state)
    resumed = Pipeline(config, LabelStore(), PredictionBoard())
    resumed.resume(path)
    assert len(resumed.replay) == 0 and len(resumed.trainer.queue) == 0
    assert resumed.labels.counts() == {"walk": 1}
    for key, value in pipeline.trainer.ema.state_dict().items():
        torch.testing.assert_close(resumed.trainer.ema.state_dict()[key], value)


def test_pipeline__disk_full_is_reported_once_in_words(
    tmp_path: Path, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from comodo_live.training import checkpoint as checkpoint_module

    path = tmp_path / "checkpoints" / "latest.pt"
    pipeline = Pipeline(config, LabelStore(), PredictionBoard(), path)
    pipeline._periodic_checkpoint()
    good = path.read_bytes()
    reported: list[str] = []
    pipeline.on_error = reported.append
    real_fdopen = checkpoint_module.os.fdopen

    def full(fd: int, *args: object, **kwargs: object) -> object:
        checkpoint_module.os.close(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint_module.os, "fdopen", full)
    for _ in range(3):
        pipeline._periodic_checkpoint()  # never raises: training goes on
    assert reported == [
        f"checkpoint failed: no space left on {path.parent}; checkpoint latest.pt not written "
        "(the previous one, if any, is kept)"
    ]
    assert path.read_bytes() == good and sorted(p.name for p in path.parent.iterdir()) == [
        "latest.pt"
    ]
    monkeypatch.setattr(checkpoint_module.os, "fdopen", real_fdopen)
    pipeline._periodic_checkpoint()
    assert len(reported) == 1


def test_pipeline__final_checkpoint_on_a_full_disk_is_reported_not_raised(
    tmp_path: Path, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from comodo_live.training import checkpoint as checkpoint_module

    path = tmp_path / "latest.pt"
    pipeline = Pipeline(config, LabelStore(), PredictionBoard(), path)
    reported: list[str] = []
    pipeline.on_error = reported.append

    def full(fd: int, *args: object, **kwargs: object) -> object:
        checkpoint_module.os.close(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint_module.os, "fdopen", full)
    pipeline.stop()  # never started: stops the workers, then the final checkpoint fails
    assert len(reported) == 1 and reported[0].startswith("final checkpoint failed: no space left")
    assert not path.exists()

"""Personalisation: the labelled windows fine-tune the student (no LSL: the controller drives a
pipeline fed directly)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from comodo_live.config import AppConfig
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.personalise import labelled_data
from comodo_live.learning.pipeline import Pipeline
from comodo_live.learning.predictor import PredictorModel
from comodo_live.learning.refit import encode_windows
from comodo_live.learning.state import load_state
from comodo_live.session.controller import Controller
from drivers.sources import make_sources

from .conftest import synthetic_window, wait_for

KINDS = ("slow", "medium", "fast")


def _label(ctrl: Controller, kinds: tuple[str, ...], per_kind: int = 8, t0: float = 1.0) -> float:
    """Submit ``per_kind`` labelled windows of each kind (window frequency = its index).

    No clips: the teacher gets nothing, so the trainer never steps and every weight change
    of the encoder comes from the fine-tune.
    """
    assert ctrl.pipeline is not None
    t = t0
    for name in kinds:
        ctrl.labels.start_label(name, t - 1.0)
        for _ in range(per_kind):
            ctrl.pipeline.submit(synthetic_window(t, KINDS.index(name), with_clip=False))
            t += 0.25
            time.sleep(0.01)
        ctrl.labels.stop_label(t - 1.0)
    return t


def _accuracy(model: PredictorModel, seed: int = 7, per_kind: int = 10) -> float:
    """The predictor's encoder + head on fresh windows of the three kinds."""
    assert model.head is not None
    rng = np.random.default_rng(seed)
    windows = np.stack(
        [synthetic_window(5.0, k, rng=rng).imu.data for k in range(3) for _ in range(per_kind)]
    )
    truth = np.repeat(np.asarray(KINDS), per_kind)
    probabilities = model.head.probabilities(encode_windows(model.encoder, windows))
    return float(np.mean(np.asarray(model.head.activities)[probabilities.argmax(1)] == truth))


@pytest.fixture
def controller(tmp_path: Path, config: AppConfig) -> Iterator[Controller]:
    ctrl = Controller(config, sources_factory=make_sources)
    checkpoint = tmp_path / "checkpoints" / "latest.pt"
    ctrl.pipeline = Pipeline(config, ctrl.labels, ctrl.board, checkpoint)
    ctrl.pipeline.start()
    try:
        yield ctrl
    finally:
        ctrl.stop()


def test_labelled_data__names_what_is_missing() -> None:
    labels = LabelStore(activities=("walking", "sitting"))
    labels.add_window("walking", np.zeros((6, 50), np.float32))
    with pytest.raises(ValueError, match=r"at least 2 activities.*walking: 1.*'sitting'"):
        labelled_data(labels)
    labels.add_window("sitting", np.ones((6, 50), np.float32))
    windows, targets, activities = labelled_data(labels)
    assert windows.shape == (2, 6, 50) and targets.tolist() == [0, 1]
    assert activities == ["walking", "sitting"]


def test_controller__personalise_with_too_few_labels_reports_an_error(
    controller: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    _label(controller, ("slow",), per_kind=3)
    with pytest.raises(ValueError, match="at least 2 activities"):
        controller.start_personalise()  # COMODO_RAISE=1 in tests: commands re-raise
    monkeypatch.delenv("COMODO_RAISE")
    controller.start_personalise()  # the app: no exception, an error in the snapshot
    controller.start_personalise(steps=0)
    snap = controller.snapshot()
    assert any("at least 2 activities" in e and "slow: 3" in e for e in snap.errors)
    assert any("steps must be an int >= 1, got 0" in e for e in snap.errors)
    assert snap.personalise_progress is None and snap.personalise_result is None
    assert controller.pipeline is not None and controller.pipeline.running


def test_controller__personalise_without_a_session_reports_an_error(config: AppConfig) -> None:
    ctrl = Controller(config, sources_factory=make_sources)
    with pytest.raises(ValueError, match="running session"):
        ctrl.start_personalise()
    assert "running session" in ctrl.snapshot().errors[-1]


def test_controller__personalise_fine_tunes_the_predictor_encoder(
    controller: Controller, tmp_path: Path
) -> None:
    pipeline = controller.pipeline
    assert pipeline is not None
    t = _label(controller, KINDS)
    assert wait_for(lambda: pipeline.predictor.model is not None and pipeline.predictor.model.head)
    assert wait_for(lambda: pipeline.classifier.labelled_accuracy is not None)
    before_model = pipeline.predictor.model
    assert before_model is not None
    before_weights = {k: v.clone() for k, v in before_model.encoder.state_dict().items()}
    before_labelled = pipeline.classifier.labelled_accuracy
    before_heldout = _accuracy(before_model)

    controller.start_personalise(steps=40)
    progress = []
    personaliser = controller._personaliser
    assert personaliser is not None
    while personaliser.running:
        progress.append(controller.snapshot().personalise_progress)
        time.sleep(0.01)
    assert personaliser.error is None
    snap = controller.snapshot()
    assert snap.personalise_progress is None
    assert snap.personalise_result is not None and snap.personalise_result.startswith(
        "personalised: 40 steps on 24 windows of 3 activities"
    ), snap.personalise_result
    assert any(p is not None and 0 < p < 1 for p in progress)

    after_model = pipeline.predictor.model
    assert after_model is not None and after_model.head is not None
    changed = [
        k
        for k, v in after_model.encoder.state_dict().items()
        if v.is_floating_point() and not torch.allclose(v, before_weights[k])
    ]
    assert any(k.endswith("weight") for k in changed) and pipeline.trainer.step == 0
    after_labelled = pipeline.classifier.labelled_accuracy
    assert after_labelled is not None and before_labelled is not None
    assert after_labelled >= before_labelled
    assert _accuracy(after_model) >= min(before_heldout, 0.9)

    # predictions keep coming with the new encoder
    predicted = pipeline.predictor.predicted
    for i in range(6):
        pipeline.submit(synthetic_window(t + 0.25 * i, 2, with_clip=False))
        time.sleep(0.05)
    assert wait_for(lambda: pipeline.predictor.predicted > predicted)
    assert pipeline.board.student is not None and pipeline.board.student.probabilities

    # the checkpoint (what export and resume read) holds the fine-tune
    saved = load_state(tmp_path / "checkpoints" / "latest.pt")
    record = saved["personalisation"]
    assert record["steps"] == 40 and record["activities"] == list(KINDS)
    assert record["windows"] == 24 and record["labelled_accuracy_after"] == after_labelled
    assert saved["classifier"] is not None
    resumed = Pipeline(pipeline.config, LabelStore(), pipeline.board)
    resumed.resume(tmp_path / "checkpoints" / "latest.pt")
    assert resumed.personalisation == record


def test_controller__stop_cancels_a_running_personalise(controller: Controller) -> None:
    pipeline = controller.pipeline
    assert pipeline is not None
    _label(controller, KINDS[:2], per_kind=4)
    controller.start_personalise(steps=100_000)
    personaliser = controller._personaliser
    assert personaliser is not None
    assert wait_for(lambda: (personaliser.progress or 0.0) > 0.0)
    controller.start_personalise()  # one at a time: ignored while running
    assert controller._personaliser is personaliser
    t0 = time.monotonic()
    controller.stop()
    assert time.monotonic() - t0 < 10.0
    assert not personaliser.running and personaliser.result == "personalise cancelled"
    assert pipeline.personalisation is None

"""Personalisation: fine-tune the student on the user's labelled windows (recipe g, offline in
:func:`comodo_live.training.supervised.train_classifier`), off the UI thread.

Design (one honest choice, documented in notes/engine.md): a copy of the current EMA student
plus a fresh linear head are trained with cross-entropy on all labelled windows (activities with
at least one window; at least two such activities). The fine-tuned encoder then becomes the
student **and** the EMA start point (:meth:`TrainerWorker.install_student`): the classifier refits
its head on the fine-tuned embeddings at once and the predictor uses them; the next checkpoint
holds them as ``student`` / ``ema_student`` (what export and resume read) plus a
``personalisation`` record. Continual COMODO distillation goes on from the fine-tuned weights
(so, with the camera on, it slowly pulls the encoder back towards the teacher's space; press
Personalise again after more labels or a long camera-on stretch). Distillation steps the trainer
took while the fine-tune ran are overwritten. The supervised head itself is not used: the
predictor keeps its own refit classifier (with the prototype fallback and "unknown").
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from comodo_live.learning.labels import LabelStore
from comodo_live.worker import Worker

if TYPE_CHECKING:
    from comodo_live.learning.pipeline import Pipeline

logger = logging.getLogger(__name__)

TRAIN_SHARE = 0.9  # progress fraction of the fine-tune; the rest is install + classifier refit
REFIT_TIMEOUT_S = 15.0  # how long to wait for the classifier to refit on the new encoder


class Cancelled(Exception):
    """Raised inside the fine-tune loop when the personaliser is stopped."""


def labelled_data(labels: LabelStore) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The labelled windows as a supervised problem.

    Returns:
        windows (M, C, N) float32, targets (M,) int64 in [0, K), the K activity names (display
        order, only those with labelled windows).

    Raises:
        ValueError: fewer than two activities have labelled windows (names what is missing).
    """
    windows, names = labels.windows()
    present = [a for a in labels.activities if a in set(names)]
    if len(present) < 2:
        counts = labels.counts()
        missing = [a for a, n in counts.items() if n == 0]
        raise ValueError(
            "personalise needs labelled windows of at least 2 activities, got "
            f"{len(present)} ({', '.join(f'{a}: {counts.get(a, 0)}' for a in present) or 'none'});"
            + (
                f" label {' or '.join(repr(a) for a in missing)} while the camera is on"
                if missing
                else " add and label another activity"
            )
        )
    index = {name: i for i, name in enumerate(present)}
    targets = np.asarray([index[n] for n in names], dtype=np.int64)
    return np.asarray(windows, dtype=np.float32), targets, present


class Personaliser(Worker):
    """One fine-tune of the pipeline's student on the labelled windows, in its own thread.

    A :class:`~comodo_live.worker.Worker`: ``start()`` takes the labelled windows (raises
    ValueError when too few activities are labelled) and starts the thread; ``stop()`` cancels
    (between optimiser steps), joins, and under ``COMODO_RAISE=1`` re-raises a failure.
    Progress, result and error are plain attributes for the snapshot.

    Args:
        pipeline: the running pipeline (its trainer, classifier, predictor and labels).
        steps: fine-tune optimiser steps, >= 1.
        on_error: receives an error message when the fine-tune fails.
        seed: head init / batch order seed.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        steps: int,
        on_error: Callable[[str], None] | None = None,
        seed: int = 0,
    ) -> None:
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        super().__init__("comodo-personalise")
        self.pipeline = pipeline
        self.steps = int(steps)
        self.seed = seed
        self._on_error = on_error or (lambda message: None)
        self._data: tuple[np.ndarray, np.ndarray, list[str]] | None = None
        self.progress: float | None = None  # None (idle) or fraction in [0, 1]
        self.result: str | None = None  # summary of the last run, or "error: ..."
        self.record: dict[str, Any] | None = None

    def start(self) -> Personaliser:
        """Collect the labelled windows (errors raise here) and fine-tune in the background."""
        if self.running:
            return self
        return super().start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Cancel a running fine-tune (nothing is installed) and join; idempotent."""
        super().stop(timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the run ends; True if it did (tests, scripts)."""
        return self.join(timeout_s)

    # --- the run ------------------------------------------------------------------------------
    def _open(self) -> None:
        self._data = labelled_data(self.pipeline.labels)  # ValueError: too few activities
        self.progress = 0.0

    def _loop(self) -> None:
        assert self._data is not None
        windows, targets, activities = self._data
        try:
            self._personalise(windows, targets, activities)
        except Cancelled:
            self.result = "personalise cancelled"
        except Exception as exc:
            self.result = f"error: {exc}"
            self._on_error(f"personalise failed: {exc!r}")
            raise  # the Worker logs it and keeps it in ``error``
        finally:
            self.progress = None
            self._data = None

    def _on_step(self, done: int, total: int) -> None:
        if self._stop_event.is_set():
            raise Cancelled
        self.progress = TRAIN_SHARE * done / total

    def _personalise(self, windows: np.ndarray, targets: np.ndarray, activities: list[str]) -> None:
        from comodo_live.training.supervised import SupervisedConfig, train_classifier

        pipeline = self.pipeline
        trainer = pipeline.trainer
        t0 = time.monotonic()
        with trainer.state_lock:
            student = copy.deepcopy(trainer.ema)
        student.requires_grad_(True)  # the EMA copy is frozen; the encoder must learn here
        before = pipeline.classifier.labelled_accuracy
        config = SupervisedConfig(steps=self.steps, seed=self.seed)  # recipe g, no augmentation
        model = train_classifier(
            student, windows, targets, len(activities), config, on_step=self._on_step
        )
        if self._stop_event.is_set():
            raise Cancelled
        weights = {k: v.detach().clone() for k, v in model.student.state_dict().items()}
        serial = trainer.install_student(weights)
        self.progress = TRAIN_SHARE
        refit = self._wait_for_refit(serial)
        after = pipeline.classifier.labelled_accuracy if refit else None
        self.record = {
            "steps": self.steps,
            "activities": list(activities),
            "windows": int(windows.shape[0]),
            "trainer_step": int(trainer.step),
            "labelled_accuracy_before": before,
            "labelled_accuracy_after": after,
            "seconds": round(time.monotonic() - t0, 3),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        pipeline.personalisation = self.record
        pipeline.save_checkpoint()
        self.progress = 1.0
        accuracy = (
            "" if after is None else f"; labelled-window accuracy {_pct(before)} → {_pct(after)}"
        )
        self.result = (
            f"personalised: {self.steps} steps on {windows.shape[0]} windows of "
            f"{len(activities)} activities{accuracy}"
        )
        logger.info("%s", self.result)

    def _wait_for_refit(self, serial: int) -> bool:
        """Wait until the predictor uses an encoder at least as new as ``serial``."""
        end = time.monotonic() + REFIT_TIMEOUT_S
        while time.monotonic() < end:
            model = self.pipeline.predictor.model
            if model is not None and model.serial >= serial:
                return True
            if self._stop_event.wait(0.05):
                return False
        logger.warning("personalise: the classifier did not refit within %.0f s", REFIT_TIMEOUT_S)
        return False


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{100.0 * value:.0f} %"

"""What the live-learning loop did so far, as one frozen record (:meth:`Pipeline.stats`).

The front end's snapshot and the session's ``metrics.jsonl`` line are both built from it, so
the figures are gathered once, in one shape, without reaching into the workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from comodo_live.records import TrainStats

if TYPE_CHECKING:  # the record itself stays torch-free
    from comodo_live.learning.teacher import TeacherStats


@dataclass(frozen=True)
class PipelineStats:
    """Trainer, teacher, pair store, classifier and predictor figures, copied at one instant.

    Attributes:
        step: optimiser steps so far.
        train: the latest step's diagnostics (loss in nats, lr, queue fill, target entropy,
            mean cosine), None before the first step.
        steps_per_s: optimiser steps per second over the last ~5 s (0 when not training).
        loss_history: (K, 2) float64 [step, loss in nats], recent points, oldest first.
        queue_fill: fraction of the teacher queue filled, [0, 1].
        skipped_steps: optimiser steps skipped (NaN/inf loss or exploding gradient norm).
        rollbacks: times the student was rolled back to its last good state.
        pairs: (IMU window, teacher embedding) pairs in the pair store.
        teacher: teacher throughput (clips/s, duty in [0, 1], stale clips skipped, clips encoded).
        windows: IMU windows routed so far.
        predictions: student predictions made so far.
        predictor_skipped: stale windows the predictor dropped.
        latency_p95_ms: 95th percentile of last IMU sample → prediction latency over the recent
            predictions, milliseconds (NaN before the first).
        classifier_fits: times the classifier head was refitted.
        failures: ``"<worker> stopped: <exception>"`` for every learning worker that failed.
        distillation_gain: the student guard's figure, ``"distillation gain on your labels:
            +x points (n windows)"`` or ``"... no labels yet"`` (``learning/guard.py``).
        distillation_gain_points: that gain in percentage points (None without labels).
        distillation_gain_windows: labelled windows it was measured on.
        serving: ``"distilled"`` or ``"starting"`` (the guard rolled the student back).
        waiting: why training has not started, in words (``"waiting for IMU statistics (37/240
            windows)"``), "" once it trains.
    """

    step: int
    train: TrainStats | None
    steps_per_s: float
    loss_history: np.ndarray
    queue_fill: float
    skipped_steps: int
    rollbacks: int
    pairs: int
    teacher: TeacherStats
    windows: int
    predictions: int
    predictor_skipped: int
    latency_p95_ms: float
    classifier_fits: int
    failures: tuple[str, ...] = ()
    distillation_gain: str = "distillation gain on your labels: no labels yet"
    distillation_gain_points: float | None = None
    distillation_gain_windows: int = 0
    serving: str = "distilled"
    waiting: str = ""

    @property
    def loss(self) -> float:
        """The last step's loss, nats (NaN before the first step)."""
        return self.train.loss if self.train is not None else math.nan

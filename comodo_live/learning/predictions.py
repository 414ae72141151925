"""Recent student and teacher predictions, paired per window, and their agreement.

The student predicts every window; the teacher (camera on) only the windows it encoded. A
teacher prediction is paired with the student prediction of the same window (same ``t``);
agreement is the fraction of recent paired windows whose top activities match.
"""

from __future__ import annotations

import math
import threading
from collections import deque

import numpy as np

from comodo_live.head import Smoother, softmax
from comodo_live.records import Prediction

AGREEMENT_WINDOWS = 20  # paired windows in the running agreement
TIME_TOLERANCE_S = 1e-4


def top_label(prediction: Prediction) -> str | None:
    """The most probable activity regardless of the unknown threshold (None if no classes)."""
    if not prediction.probabilities:
        return None
    return max(prediction.probabilities, key=prediction.probabilities.__getitem__)


def teacher_prediction(
    z_v: np.ndarray,
    names: tuple[str, ...],
    anchors: np.ndarray,
    temperature: float,
    smoother: Smoother,
    t: float,
) -> Prediction:
    """The teacher's own prediction: cosine of z_v (D,) to teacher-space anchors (K, D)."""
    if not names:
        return smoother({}, t, "teacher")
    z = z_v / max(float(np.linalg.norm(z_v)), 1e-12)
    probs = softmax((anchors @ z)[None] / temperature)[0]  # (K,)
    return smoother(dict(zip(names, map(float, probs), strict=True)), t, "teacher")


class PredictionBoard:
    """Thread-safe store of recent (student, teacher-or-None) predictions.

    Args:
        history: paired entries kept for the timeline.
    """

    def __init__(self, history: int = 240) -> None:
        self._lock = threading.Lock()
        self._pairs: deque[list[Prediction | None]] = deque(maxlen=history)
        self._orphans: deque[Prediction] = deque(maxlen=8)  # teacher results before the student's
        self._matches: deque[bool] = deque(maxlen=AGREEMENT_WINDOWS)
        self._agreement: deque[tuple[float, float]] = deque(maxlen=history)
        self.student: Prediction | None = None
        self.teacher: Prediction | None = None

    def add_student(self, prediction: Prediction) -> None:
        with self._lock:
            self.student = prediction
            entry: list[Prediction | None] = [prediction, None]
            for orphan in list(self._orphans):
                if abs(orphan.t - prediction.t) < TIME_TOLERANCE_S:
                    self._orphans.remove(orphan)
                    entry[1] = orphan
                    self._compare(prediction, orphan)
            self._pairs.append(entry)

    def add_teacher(self, prediction: Prediction) -> None:
        with self._lock:
            self.teacher = prediction
            for entry in reversed(self._pairs):
                student = entry[0]
                assert student is not None
                if abs(student.t - prediction.t) < TIME_TOLERANCE_S:
                    entry[1] = prediction
                    self._compare(student, prediction)
                    return
            self._orphans.append(prediction)

    def clear_teacher(self) -> None:
        """Camera off: no current teacher prediction."""
        with self._lock:
            self.teacher = None
            self._orphans.clear()

    def _compare(self, student: Prediction, teacher: Prediction) -> None:
        s, t = top_label(student), top_label(teacher)
        if s is None or t is None:
            return
        self._matches.append(s == t)
        self._agreement.append((teacher.t, float(np.mean(self._matches))))

    @property
    def agreement(self) -> float:
        """Running student–teacher agreement in [0, 1], NaN before any paired window."""
        with self._lock:
            return float(np.mean(self._matches)) if self._matches else math.nan

    def agreement_history(self) -> np.ndarray:
        """(K, 2) float64 [LSL time s, running agreement]."""
        with self._lock:
            return np.asarray(list(self._agreement), dtype=np.float64).reshape(-1, 2)

    def recent(self) -> tuple[tuple[Prediction, Prediction | None], ...]:
        with self._lock:
            return tuple((e[0], e[1]) for e in self._pairs if e[0] is not None)

"""The predictor's activity classifier on student embeddings, as plain arrays.

A logistic regression on standardised embeddings for activities with enough labelled windows;
activities with fewer fall back to a cosine prototype anchor. This is exactly the formula of
:mod:`comodo_live.export.head` (what an exported package computes)::

    z = (e - feature_mean) / feature_std
    logit_k = cos(e, anchor_k) / anchor_temperature   if anchor_mask_k
              z · coef_k + intercept_k                 otherwise
    p = softmax(logit)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from comodo_live.records import Prediction


@dataclass(frozen=True, eq=False)
class LinearHead:
    """Fitted classifier over ``activities`` (K) on E-dimensional embeddings.

    Attributes:
        activities: K names in logit order.
        coef: (K, E) float32 (zero rows for anchor classes).
        intercept: (K,) float32.
        feature_mean: (E,) float32.
        feature_std: (E,) float32, > 0.
        anchors: (K, E) float32 prototype anchors (mean labelled embedding per activity).
        anchor_mask: (K,) bool, True where the activity is scored by its anchor.
        anchor_temperature: cosine temperature of anchor logits.
        fitted_on: labelled windows the head was fitted on.
        version: label-store version the head was fitted against.
    """

    activities: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    feature_mean: np.ndarray
    feature_std: np.ndarray
    anchors: np.ndarray
    anchor_mask: np.ndarray
    anchor_temperature: float
    fitted_on: int = 0
    version: int = 0

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        """(B, E) embeddings → (B, K) logits."""
        e = np.asarray(embeddings, dtype=np.float32)  # (B, E)
        linear = (
            (e - self.feature_mean) / self.feature_std
        ) @ self.coef.T + self.intercept  # (B, K)
        e_unit = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)  # (B, E)
        a_unit = self.anchors / np.maximum(
            np.linalg.norm(self.anchors, axis=1, keepdims=True), 1e-12
        )
        anchor = (e_unit @ a_unit.T) / self.anchor_temperature  # (B, K)
        return np.where(self.anchor_mask[None, :], anchor, linear)

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """(B, E) embeddings → (B, K) softmax probabilities."""
        return softmax(self.logits(embeddings))

    def as_dict(self) -> dict[str, object]:
        """Plain values for checkpoints and export (see :mod:`comodo_live.export.head`)."""
        return {
            "activities": list(self.activities),
            "coef": self.coef,
            "intercept": self.intercept,
            "feature_mean": self.feature_mean,
            "feature_std": self.feature_std,
            "anchors": self.anchors,
            "anchor_mask": self.anchor_mask,
            "anchor_temperature": float(self.anchor_temperature),
            "l2_normalise": False,
            "fitted_on": int(self.fitted_on),
        }


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (B, K) logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_head(
    embeddings: np.ndarray,
    labels: list[str],
    activities: tuple[str, ...],
    min_windows: int = 4,
    c: float = 1.0,
    anchor_temperature: float = 0.1,
    version: int = 0,
) -> LinearHead | None:
    """Fit the classifier on labelled embeddings.

    Args:
        embeddings: (M, E) student embeddings of the labelled windows.
        labels: M activity names.
        activities: activities to score, in order (those without windows are left out).
        min_windows: windows an activity needs for the logistic regression; fewer → anchor.
        c: inverse L2 regularisation of the logistic regression.
        anchor_temperature: cosine temperature of anchor logits.
        version: label-store version, recorded in the head.

    Returns:
        The head, or None when no activity has a labelled window.
    """
    if embeddings.shape[0] != len(labels):
        raise ValueError(
            f"embeddings ({embeddings.shape[0]}) and labels ({len(labels)}) differ in length"
        )
    labels_arr = np.asarray(labels)
    present = tuple(a for a in activities if (labels_arr == a).any())
    if not present:
        return None
    e = np.asarray(embeddings, dtype=np.float32)  # (M, E)
    dim = e.shape[1]
    counts = np.array([(labels_arr == a).sum() for a in present])
    linear = counts >= min_windows
    if linear.sum() < 2:  # a regression needs two classes
        linear[:] = False
    anchors = np.stack([e[labels_arr == a].mean(axis=0) for a in present]).astype(
        np.float32
    )  # (K, E)
    mean = e.mean(axis=0)
    std = e.std(axis=0) + 1e-6
    coef = np.zeros((len(present), dim), np.float32)
    intercept = np.zeros(len(present), np.float32)
    if linear.any():
        from sklearn.linear_model import LogisticRegression

        keep = np.isin(labels_arr, np.asarray(present)[linear])
        z = (e[keep] - mean) / std
        model = LogisticRegression(C=c, max_iter=500)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(z, labels_arr[keep])
        rows = {str(cls): i for i, cls in enumerate(model.classes_)}
        w, b = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # binary: sklearn keeps one row; softmax form is [0, w]
            w = np.concatenate([np.zeros_like(w), w])
            b = np.concatenate([np.zeros_like(b), b])
        for k, name in enumerate(present):
            if linear[k]:
                coef[k], intercept[k] = w[rows[name]], b[rows[name]]
    return LinearHead(
        activities=present,
        coef=coef,
        intercept=intercept,
        feature_mean=mean.astype(np.float32),
        feature_std=std.astype(np.float32),
        anchors=anchors,
        anchor_mask=~linear,
        anchor_temperature=float(anchor_temperature),
        fitted_on=int(e.shape[0]),
        version=version,
    )


class Smoother:
    """Exponential smoothing of class probabilities with an "unknown" threshold.

    Args:
        alpha: weight of the newest probabilities, (0, 1] (1 = no smoothing).
        threshold: below this smoothed confidence the label is ``"unknown"``, [0, 1].
    """

    def __init__(self, alpha: float = 0.5, threshold: float = 0.5) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
        self.alpha = float(alpha)
        self.threshold = float(threshold)
        self._state: dict[str, float] = {}

    def reset(self) -> None:
        self._state = {}

    def __call__(
        self, probabilities: dict[str, float], t: float, source: str, latency_ms: float = 0.0
    ) -> Prediction:
        """Fold in one window's probabilities and return the smoothed prediction."""
        if set(probabilities) != set(self._state):  # activities changed: restart smoothing
            self._state = dict(probabilities)
        else:
            a = self.alpha
            self._state = {k: a * p + (1 - a) * self._state[k] for k, p in probabilities.items()}
        if not self._state:
            return Prediction(t, "unknown", 0.0, {}, source, latency_ms)
        label = max(self._state, key=self._state.__getitem__)
        confidence = self._state[label]
        if confidence < self.threshold:
            label = "unknown"
        return Prediction(t, label, float(confidence), dict(self._state), source, latency_ms)

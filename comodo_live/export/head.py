"""The activity classifier on student embeddings, as plain arrays (what a package stores).

Formula (per window, embedding ``e`` (E,)):

    u = e / max(|e|, 1e-12)              if l2_normalise else e
    z = (u - feature_mean) / feature_std  (identity when no standardisation)
    linear_k = z · coef_k + intercept_k
    anchor_k = cos(e, anchors_k) / anchor_temperature
    logit_k = anchor_k if anchor_mask_k else linear_k
    probabilities = softmax(logits)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ARRAY_FIELDS = ("coef", "intercept", "feature_mean", "feature_std", "anchors", "anchor_mask")


@dataclass(frozen=True, eq=False)
class HeadSpec:
    """A linear head with optional prototype-anchor fallback classes.

    Attributes:
        activities: K names, in logit order.
        coef: (K, E) float32 weights on the standardised embedding.
        intercept: (K,) float32.
        feature_mean: (E,) float32 subtracted before ``coef`` (zeros: none).
        feature_std: (E,) float32 (> 0) divided before ``coef`` (ones: none).
        anchors: (K, E) float32 prototype anchors in embedding space (zeros where unused).
        anchor_mask: (K,) bool, True where the class is scored by its anchor (too few labels).
        anchor_temperature: cosine temperature of anchor logits (> 0).
        l2_normalise: L2-normalise the embedding before standardising.
        unknown_threshold: smoothed confidence below which the app says ``"unknown"``, [0, 1].
        smoothing_alpha: weight of the newest window in the app's probability EMA, (0, 1].
    """

    activities: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    feature_mean: np.ndarray
    feature_std: np.ndarray
    anchors: np.ndarray
    anchor_mask: np.ndarray
    anchor_temperature: float = 0.1
    l2_normalise: bool = False
    unknown_threshold: float = 0.0
    smoothing_alpha: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        k = len(self.activities)
        if k < 1 or len(set(self.activities)) != k:
            raise ValueError(f"activities must be >= 1 distinct names, got {list(self.activities)}")
        if self.coef.ndim != 2 or self.coef.shape[0] != k:
            raise ValueError(f"coef must be (K={k}, E), got {self.coef.shape}")
        e = self.coef.shape[1]
        expected: dict[str, tuple[int, ...]] = {"intercept": (k,), "feature_mean": (e,)}
        expected["feature_std"] = (e,)
        expected |= {"anchors": (k, e), "anchor_mask": (k,)}
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {getattr(self, name).shape}")
        for name in ARRAY_FIELDS[:5]:
            if not np.isfinite(getattr(self, name)).all():
                raise ValueError(f"{name} must be finite")
        if (self.feature_std <= 0).any():
            raise ValueError("feature_std must be > 0 everywhere")
        if not self.anchor_temperature > 0:
            raise ValueError(f"anchor_temperature must be > 0, got {self.anchor_temperature!r}")
        if not 0 <= self.unknown_threshold <= 1:
            raise ValueError(f"unknown_threshold must be in [0, 1], got {self.unknown_threshold!r}")
        if not 0 < self.smoothing_alpha <= 1:
            raise ValueError(f"smoothing_alpha must be in (0, 1], got {self.smoothing_alpha!r}")

    @property
    def embed_dim(self) -> int:
        return int(self.coef.shape[1])

    @classmethod
    def create(
        cls,
        activities: Sequence[str],
        coef: Any,
        intercept: Any,
        feature_mean: Any = None,
        feature_std: Any = None,
        anchors: Any = None,
        anchor_mask: Any = None,
        **options: Any,
    ) -> HeadSpec:
        """Build from array-likes (numpy or torch), filling the optional parts with no-ops."""
        coef_np = _f32(coef)
        k, e = coef_np.shape if coef_np.ndim == 2 else (len(activities), -1)
        return cls(
            activities=tuple(str(a) for a in activities),
            coef=coef_np,
            intercept=_f32(intercept).reshape(-1),
            feature_mean=np.zeros(e, np.float32) if feature_mean is None else _f32(feature_mean),
            feature_std=np.ones(e, np.float32) if feature_std is None else _f32(feature_std),
            anchors=np.zeros((k, e), np.float32) if anchors is None else _f32(anchors),
            anchor_mask=(
                np.zeros(k, bool) if anchor_mask is None else np.asarray(_np(anchor_mask), bool)
            ),
            **options,
        )

    @classmethod
    def from_sklearn(
        cls, model: Any, activities: Sequence[str] | None = None, **options: Any
    ) -> HeadSpec:
        """From a fitted ``LogisticRegression`` (or a ``Pipeline(StandardScaler, LogisticRegression)``).

        A binary model's single decision row ``w`` becomes the two-class softmax rows ``[0, w]``,
        so that ``softmax(logits)`` equals ``predict_proba``.
        """
        scaler = None
        if hasattr(model, "steps"):
            *pre, (_, model) = model.steps
            if len(pre) > 1 or (pre and not hasattr(pre[0][1], "scale_")):
                raise ValueError("only Pipeline(StandardScaler, LogisticRegression) is supported")
            scaler = pre[0][1] if pre else None
        coef = np.asarray(model.coef_, np.float32)  # (K, E) or (1, E)
        intercept = np.asarray(model.intercept_, np.float32).reshape(-1)
        if coef.shape[0] == 1:
            coef = np.concatenate([np.zeros_like(coef), coef])  # (2, E)
            intercept = np.concatenate([np.zeros(1, np.float32), intercept])
        names = activities if activities is not None else [str(c) for c in model.classes_]
        mean = std = None
        if scaler is not None:
            mean = getattr(scaler, "mean_", None)
            std = getattr(scaler, "scale_", None)
        return cls.create(names, coef, intercept, mean, std, **options)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays stored in ``classifier.npz`` (plain dtypes, no objects)."""
        return {name: np.asarray(getattr(self, name)) for name in ARRAY_FIELDS}

    def to_json(self) -> dict[str, Any]:
        """The ``classifier.json`` document (names, options, formula)."""
        return {
            "activities": list(self.activities),
            "num_classes": len(self.activities),
            "embedding_dim": self.embed_dim,
            "l2_normalise": self.l2_normalise,
            "anchor_temperature": self.anchor_temperature,
            "anchor_classes": [
                a for a, m in zip(self.activities, self.anchor_mask, strict=True) if m
            ],
            "unknown_threshold": self.unknown_threshold,
            "smoothing_alpha": self.smoothing_alpha,
            "arrays": {name: list(getattr(self, name).shape) for name in ARRAY_FIELDS},
            "formula": (__doc__ or "").split("Formula", 1)[-1].strip(),
            "extra": self.extra,
        }

    @classmethod
    def from_files(cls, doc: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> HeadSpec:
        """Inverse of :meth:`to_json` + :meth:`to_arrays`."""
        return cls.create(
            doc["activities"],
            **{name: arrays[name] for name in ARRAY_FIELDS},
            anchor_temperature=float(doc["anchor_temperature"]),
            l2_normalise=bool(doc["l2_normalise"]),
            unknown_threshold=float(doc["unknown_threshold"]),
            smoothing_alpha=float(doc["smoothing_alpha"]),
            extra=dict(doc.get("extra", {})),
        )

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        """Reference numpy implementation: (B, E) embeddings → (B, K) logits (float64)."""
        e = np.asarray(embeddings, np.float64)
        norm = np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        u = e / norm if self.l2_normalise else e
        linear = ((u - self.feature_mean) / self.feature_std) @ self.coef.T + self.intercept
        a = self.anchors / np.maximum(np.linalg.norm(self.anchors, axis=1, keepdims=True), 1e-12)
        anchor = (e / norm) @ a.T / self.anchor_temperature
        return np.where(self.anchor_mask[None, :], anchor, linear)


def _np(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _f32(value: Any) -> np.ndarray:
    return np.ascontiguousarray(_np(value), dtype=np.float32)

"""The activity classifier on student embeddings: one head for the engine, export and runtime.

A logistic regression on standardised embeddings for activities with enough labelled windows;
activities with fewer fall back to a cosine prototype anchor (:func:`fit_head`). The same arrays
are what a model package stores (``classifier.json`` + ``classifier.npz``) and what its ONNX graph
computes (:class:`comodo_live.export.graph.ActivityHead`). :class:`Smoother` turns a window's
probabilities into the smoothed prediction with the ``"unknown"`` threshold, in the app and in the
standalone runtime alike.

Numpy and the standard library only (the runtime imports this module); sklearn is imported inside
:func:`fit_head`. The formula is :data:`FORMULA`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np

from comodo_live.records import Prediction

FORMULA = """(per window, embedding ``e`` (E,)):

    u = e / max(|e|, 1e-12)              if l2_normalise else e
    z = (u - feature_mean) / feature_std  (identity when no standardisation)
    linear_k = z · coef_k + intercept_k
    anchor_k = cos(e, anchors_k) / anchor_temperature
    logit_k = anchor_k if anchor_mask_k else linear_k
    probabilities = softmax(logits)"""

ARRAY_FIELDS = ("coef", "intercept", "feature_mean", "feature_std", "anchors", "anchor_mask")
REQUIRED_FIELDS = ("activities", "coef", "intercept")
PACKAGE_OPTIONS = ("anchor_temperature", "l2_normalise", "unknown_threshold", "smoothing_alpha")


class HeadError(ValueError):
    """A head whose fields are missing, mistyped, mis-shaped or out of range."""


class HeadDict(TypedDict):
    """:meth:`HeadSpec.to_dict`: plain JSON values (checkpoints, package seeds)."""

    activities: list[str]
    coef: list[list[float]]
    intercept: list[float]
    feature_mean: list[float]
    feature_std: list[float]
    anchors: list[list[float]]
    anchor_mask: list[bool]
    anchor_temperature: float
    l2_normalise: bool
    unknown_threshold: float
    smoothing_alpha: float
    fitted_on: int
    version: int
    extra: dict[str, Any]


DICT_FIELDS = tuple(HeadDict.__annotations__)


@dataclass(frozen=True, eq=False)
class HeadSpec:
    """A linear head over K activities with a prototype-anchor fallback per class.

    Arrays are coerced to contiguous float32 (``anchor_mask``: bool) on construction.

    Attributes:
        activities: K distinct names, in logit order.
        coef: (K, E) float32 weights on the standardised embedding (zero rows for anchor classes).
        intercept: (K,) float32.
        feature_mean: (E,) float32 subtracted before ``coef`` (zeros: none).
        feature_std: (E,) float32, > 0, divided before ``coef`` (ones: none).
        anchors: (K, E) float32 prototype anchors in embedding space (zeros where unused).
        anchor_mask: (K,) bool, True where the class is scored by its anchor (too few labels).
        anchor_temperature: cosine temperature of anchor logits, > 0.
        l2_normalise: L2-normalise the embedding before standardising.
        unknown_threshold: smoothed confidence below which the label is ``"unknown"``, [0, 1].
        smoothing_alpha: weight of the newest window in the probability EMA, (0, 1].
        fitted_on: labelled windows the head was fitted on (0: unknown).
        version: label-store version the head was fitted against.
        extra: free JSON facts stored with a package.
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
    fitted_on: int = 0
    version: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = tuple(str(a) for a in self.activities)
        object.__setattr__(self, "activities", names)
        for name in ARRAY_FIELDS[:5]:
            object.__setattr__(self, name, _f32(getattr(self, name)))
        object.__setattr__(self, "anchor_mask", np.asarray(_np(self.anchor_mask), bool))
        k = len(names)
        if k < 1 or len(set(names)) != k:
            raise HeadError(f"activities must be >= 1 distinct names, got {list(names)}")
        if self.coef.ndim != 2 or self.coef.shape[0] != k:
            raise HeadError(f"coef must have shape (K={k}, E), got {self.coef.shape}")
        e = self.coef.shape[1]
        expected: dict[str, tuple[int, ...]] = {"intercept": (k,), "feature_mean": (e,)}
        expected["feature_std"] = (e,)
        expected |= {"anchors": (k, e), "anchor_mask": (k,)}
        for name, shape in expected.items():
            found = getattr(self, name).shape
            if found != shape:
                raise HeadError(f"{name} must have shape {shape} (K={k}, E={e}), got {found}")
        for name in ARRAY_FIELDS[:5]:
            bad = int((~np.isfinite(getattr(self, name))).sum())
            if bad:
                raise HeadError(f"{name} must be finite, got {bad} NaN/inf values")
        if (self.feature_std <= 0).any():
            low = float(self.feature_std.min())
            raise HeadError(f"feature_std must be > 0 everywhere, got a minimum of {low!r}")
        if not self.anchor_temperature > 0:
            raise HeadError(f"anchor_temperature must be > 0, got {self.anchor_temperature!r}")
        if not 0 <= self.unknown_threshold <= 1:
            raise HeadError(f"unknown_threshold must be in [0, 1], got {self.unknown_threshold!r}")
        if not 0 < self.smoothing_alpha <= 1:
            raise HeadError(f"smoothing_alpha must be in (0, 1], got {self.smoothing_alpha!r}")
        for name in ("fitted_on", "version"):
            if getattr(self, name) < 0:
                raise HeadError(f"{name} must be >= 0, got {getattr(self, name)!r}")

    @property
    def embed_dim(self) -> int:
        """E, the embedding size the head expects."""
        return int(self.coef.shape[1])

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        """(B, E) embeddings → (B, K) float32 logits (:data:`FORMULA`)."""
        e = np.asarray(embeddings, dtype=np.float32)  # (B, E)
        if e.ndim != 2 or e.shape[1] != self.embed_dim:
            raise ValueError(f"embeddings must have shape (B, E={self.embed_dim}), got {e.shape}")
        e_unit = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)  # (B, E)
        features = e_unit if self.l2_normalise else e  # (B, E)
        linear = ((features - self.feature_mean) / self.feature_std) @ self.coef.T + self.intercept
        a_unit = self.anchors / np.maximum(
            np.linalg.norm(self.anchors, axis=1, keepdims=True), 1e-12
        )  # (K, E)
        anchor = (e_unit @ a_unit.T) / self.anchor_temperature  # (B, K)
        return np.where(self.anchor_mask[None, :], anchor, linear)  # (B, K)

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """(B, E) embeddings → (B, K) softmax probabilities."""
        return softmax(self.logits(embeddings))

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
        """Build from array-likes (numpy, lists or torch), filling the optional parts with no-ops."""
        coef_np = _f32(coef)
        k, e = coef_np.shape if coef_np.ndim == 2 else (len(activities), -1)
        return cls(
            activities=tuple(str(a) for a in activities),
            coef=coef_np,
            intercept=_f32(intercept).reshape(-1),
            feature_mean=np.zeros(max(e, 0), np.float32) if feature_mean is None else feature_mean,
            feature_std=np.ones(max(e, 0), np.float32) if feature_std is None else feature_std,
            anchors=np.zeros((k, max(e, 0)), np.float32) if anchors is None else anchors,
            anchor_mask=np.zeros(k, bool) if anchor_mask is None else anchor_mask,
            **options,
        )

    @classmethod
    def from_sklearn(
        cls, model: Any, activities: Sequence[str] | None = None, **options: Any
    ) -> HeadSpec:
        """From a fitted ``LogisticRegression`` (or ``Pipeline(StandardScaler, LogisticRegression)``).

        A binary model's single decision row ``w`` becomes the two-class softmax rows ``[0, w]``,
        so that ``softmax(logits)`` equals ``predict_proba``.
        """
        scaler = None
        if hasattr(model, "steps"):
            *pre, (_, model) = model.steps
            if len(pre) > 1 or (pre and not hasattr(pre[0][1], "scale_")):
                raise HeadError("only Pipeline(StandardScaler, LogisticRegression) is supported")
            scaler = pre[0][1] if pre else None
        coef = np.asarray(model.coef_, np.float32)  # (K, E) or (1, E)
        intercept = np.asarray(model.intercept_, np.float32).reshape(-1)  # (K,) or (1,)
        if coef.shape[0] == 1:
            coef = np.concatenate([np.zeros_like(coef), coef])  # (2, E)
            intercept = np.concatenate([np.zeros(1, np.float32), intercept])  # (2,)
        names = activities if activities is not None else [str(c) for c in model.classes_]
        mean = std = None
        if scaler is not None:
            mean = getattr(scaler, "mean_", None)
            std = getattr(scaler, "scale_", None)
        return cls.create(names, coef, intercept, mean, std, **options)

    def to_dict(self) -> HeadDict:
        """Every field as plain JSON values (lists, floats); :meth:`from_dict` reads it back."""
        return HeadDict(
            activities=list(self.activities),
            coef=self.coef.tolist(),
            intercept=self.intercept.tolist(),
            feature_mean=self.feature_mean.tolist(),
            feature_std=self.feature_std.tolist(),
            anchors=self.anchors.tolist(),
            anchor_mask=self.anchor_mask.tolist(),
            anchor_temperature=float(self.anchor_temperature),
            l2_normalise=bool(self.l2_normalise),
            unknown_threshold=float(self.unknown_threshold),
            smoothing_alpha=float(self.smoothing_alpha),
            fitted_on=int(self.fitted_on),
            version=int(self.version),
            extra=dict(self.extra),
        )

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> HeadSpec:
        """Inverse of :meth:`to_dict`; arrays may also be numpy arrays or tensors (checkpoints).

        Only ``activities``, ``coef`` and ``intercept`` are required; the rest default to no-ops.

        Raises:
            HeadError: missing or unknown field, or a value of the wrong type, shape or range
                (the message names the field, the value and what was expected).
        """
        if not isinstance(doc, Mapping):
            raise HeadError(f"head must be a mapping of fields, got {type(doc).__name__}")
        missing = [name for name in REQUIRED_FIELDS if name not in doc]
        if missing:
            raise HeadError(f"head fields {missing} missing (required: {list(REQUIRED_FIELDS)})")
        unknown = sorted(set(doc) - set(DICT_FIELDS))
        if unknown:
            raise HeadError(f"head fields {unknown} unknown (known: {list(DICT_FIELDS)})")
        activities = doc["activities"]
        if not isinstance(activities, (list, tuple)) or not all(
            isinstance(a, str) for a in activities
        ):
            raise HeadError(f"activities must be a list of names, got {activities!r}")
        arrays = {name: _array(name, doc[name]) for name in ARRAY_FIELDS if name in doc}
        options: dict[str, Any] = {}
        for name in ("anchor_temperature", "unknown_threshold", "smoothing_alpha"):
            if name in doc:
                options[name] = _number(name, doc[name])
        for name in ("fitted_on", "version"):
            if name in doc:
                options[name] = _integer(name, doc[name])
        if "l2_normalise" in doc:
            value = doc["l2_normalise"]
            if not isinstance(value, (bool, np.bool_)):
                raise HeadError(f"l2_normalise must be true or false, got {value!r}")
            options["l2_normalise"] = bool(value)
        if "extra" in doc:
            if not isinstance(doc["extra"], Mapping):
                raise HeadError(f"extra must be a mapping, got {doc['extra']!r}")
            options["extra"] = dict(doc["extra"])
        return cls.create(list(activities), **arrays, **options)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays stored in a package's ``classifier.npz`` (plain dtypes, no objects)."""
        return {name: np.asarray(getattr(self, name)) for name in ARRAY_FIELDS}

    def to_json(self) -> dict[str, Any]:
        """A package's ``classifier.json`` document (names, options, formula)."""
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
            "formula": FORMULA,
            "extra": self.extra,
        }

    @classmethod
    def from_files(cls, doc: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> HeadSpec:
        """Inverse of :meth:`to_json` + :meth:`to_arrays`.

        Raises:
            HeadError: a field or array missing, or invalid (see :meth:`from_dict`).
        """
        missing = [name for name in ("activities", *PACKAGE_OPTIONS) if name not in doc]
        missing += [name for name in ARRAY_FIELDS if name not in arrays]
        if missing:
            raise HeadError(f"classifier fields {missing} missing")
        names = ("activities", *PACKAGE_OPTIONS, "extra")
        fields = {name: doc[name] for name in names if name in doc}
        return cls.from_dict({**fields, **{name: arrays[name] for name in ARRAY_FIELDS}})


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (B, K) logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # (B, K)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_head(
    embeddings: np.ndarray,
    labels: Sequence[str],
    activities: tuple[str, ...],
    min_windows: int = 4,
    c: float = 1.0,
    anchor_temperature: float = 0.1,
    version: int = 0,
) -> HeadSpec | None:
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
    counts = np.array([(labels_arr == a).sum() for a in present])  # (K,)
    linear = counts >= min_windows  # (K,)
    if linear.sum() < 2:  # a regression needs two classes
        linear[:] = False
    anchors = np.stack([e[labels_arr == a].mean(axis=0) for a in present]).astype(
        np.float32
    )  # (K, E)
    mean = e.mean(axis=0)  # (E,)
    std = e.std(axis=0) + 1e-6  # (E,)
    coef = np.zeros((len(present), dim), np.float32)  # (K, E)
    intercept = np.zeros(len(present), np.float32)  # (K,)
    if linear.any():
        from sklearn.linear_model import LogisticRegression

        keep = np.isin(labels_arr, np.asarray(present)[linear])
        z = (e[keep] - mean) / std
        model = LogisticRegression(C=c, max_iter=500)
        # BLAS runs one thread for the whole process (comodo_live.blas): the matrices are small,
        # and threaded BLAS spent ~85 % of each L-BFGS iteration on thread hand-offs (1.56 s vs
        # 0.29 s for 350 windows, 27 activities, 256 dims, 2 cores). Not toggled here: changing
        # it from this (worker) thread races other threads' BLAS calls.
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
    return HeadSpec(
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


def unknown_threshold(k: int, floor: float, margin: float) -> float:
    """The "unknown" rule for ``k`` activities: a smoothed top probability below
    max(floor, 1/k + margin × (1 - 1/k)) is shown as ``"unknown"``.

    ``margin`` is the fraction of the way from chance (1/k) to certainty (1), [0, 1), so the
    rule means the same with 2 activities or 27 (margin 0.3: 0.65 for k = 2, 0.44 for k = 5,
    0.33 for k = 27); ``floor`` is an absolute lower bound, [0, 1].
    """
    if k < 1:
        return float(floor)
    chance = 1.0 / k
    return float(max(floor, chance + margin * (1.0 - chance)))


class Smoother:
    """Exponential smoothing of class probabilities with an ``"unknown"`` threshold.

    The one smoother of the app's predictor and teacher and of the standalone runtime.

    Args:
        alpha: weight of the newest probabilities, (0, 1] (1 = no smoothing).
        threshold: below this smoothed confidence the label is ``"unknown"``, [0, 1] (an
            absolute floor when ``margin`` is set).
        margin: also ``"unknown"`` below 1/K + margin × (1 - 1/K) for K activities
            (:func:`unknown_threshold`), [0, 1) (0: the fixed ``threshold`` alone).
    """

    def __init__(self, alpha: float = 0.5, threshold: float = 0.5, margin: float = 0.0) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
        if not 0 <= margin < 1:
            raise ValueError(f"margin must be in [0, 1), got {margin!r}")
        self.alpha = float(alpha)
        self.threshold = float(threshold)
        self.margin = float(margin)
        self._state: dict[str, float] = {}

    def reset(self) -> None:
        self._state = {}

    def __call__(
        self,
        probabilities: Mapping[str, float],
        t: float,
        source: str = "student",
        latency_ms: float = 0.0,
    ) -> Prediction:
        """Fold in one window's probabilities (name → p) and return the smoothed prediction.

        Smoothing restarts when the set of activities changes.
        """
        if set(probabilities) != set(self._state):
            self._state = {k: float(p) for k, p in probabilities.items()}
        else:
            a = self.alpha
            self._state = {
                k: a * float(p) + (1 - a) * self._state[k] for k, p in probabilities.items()
            }
        if not self._state:
            return Prediction(float(t), "unknown", 0.0, {}, source, latency_ms)
        label = max(self._state, key=self._state.__getitem__)
        confidence = self._state[label]
        if self.margin == 0:
            limit = self.threshold
        else:
            limit = unknown_threshold(len(self._state), self.threshold, self.margin)
        if confidence < limit:
            label = "unknown"
        return Prediction(float(t), label, float(confidence), dict(self._state), source, latency_ms)


def _np(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor (checkpoints), without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _f32(value: Any) -> np.ndarray:
    return np.ascontiguousarray(_np(value), dtype=np.float32)


def _array(name: str, value: Any) -> np.ndarray:
    try:
        array = _np(value)
        if array.dtype == object or array.dtype.kind not in "biuf":
            raise TypeError(array.dtype)
    except (TypeError, ValueError) as exc:
        raise HeadError(
            f"{name} must be a numeric array, got {type(value).__name__} ({exc})"
        ) from exc
    return array


def _number(name: str, value: Any) -> float:
    if hasattr(value, "detach") and getattr(value, "ndim", None) == 0:  # a 0-d tensor
        value = value.item()
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.number)):
        raise HeadError(f"{name} must be a number, got {value!r}")
    return float(value)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise HeadError(f"{name} must be an integer, got {value!r}")
    return int(value)

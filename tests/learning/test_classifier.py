"""The predictor's classifier: logistic regression, anchor fallback, smoothing, unknown threshold."""

from __future__ import annotations

import numpy as np
import pytest

from comodo_live.learning.classifier import Smoother, fit_head


def _blobs(
    rng: np.random.Generator, per_class: dict[str, int], dim: int = 16
) -> tuple[np.ndarray, list[str]]:
    centres = {name: rng.normal(0, 3, dim) for name in per_class}
    x = [centres[n] + rng.normal(0, 0.5, dim) for n, k in per_class.items() for _ in range(k)]
    names = [n for n, k in per_class.items() for _ in range(k)]
    return np.asarray(x, np.float32), names


def test_fit_head__linear_head_separates_classes() -> None:
    rng = np.random.default_rng(0)
    x, names = _blobs(rng, {"a": 10, "b": 10, "c": 10})
    head = fit_head(x, names, ("a", "b", "c"), min_windows=4)
    assert head is not None
    assert not head.anchor_mask.any()
    predicted = np.asarray(head.activities)[head.probabilities(x).argmax(axis=1)]
    assert (predicted == np.asarray(names)).mean() == 1.0
    np.testing.assert_allclose(head.probabilities(x).sum(axis=1), 1.0, rtol=1e-5)


def test_fit_head__binary_uses_softmax_form() -> None:
    rng = np.random.default_rng(1)
    x, names = _blobs(rng, {"a": 8, "b": 8})
    head = fit_head(x, names, ("a", "b"), min_windows=4)
    assert head is not None and head.coef.shape[0] == 2
    np.testing.assert_array_equal(head.coef[0], 0.0)  # sklearn's single row becomes [0, w]
    predicted = np.asarray(head.activities)[head.probabilities(x).argmax(axis=1)]
    assert (predicted == np.asarray(names)).mean() == 1.0


def test_fit_head__few_windows_fall_back_to_anchors() -> None:
    rng = np.random.default_rng(2)
    x, names = _blobs(rng, {"a": 10, "b": 10, "rare": 2})
    head = fit_head(x, names, ("a", "b", "rare", "never"), min_windows=4)
    assert head is not None
    assert head.activities == ("a", "b", "rare")  # no window at all: not scored
    assert head.anchor_mask.tolist() == [False, False, True]
    np.testing.assert_allclose(head.anchors[2], x[-2:].mean(axis=0), rtol=1e-5)


def test_fit_head__single_class_and_no_labels() -> None:
    x = np.ones((3, 4), np.float32)
    assert fit_head(x[:0], [], ("a",)) is None
    head = fit_head(x, ["a"] * 3, ("a", "b"))
    assert head is not None and head.activities == ("a",)
    np.testing.assert_allclose(head.probabilities(x), 1.0)


def test_smoother__unknown_below_threshold() -> None:
    smoother = Smoother(alpha=1.0, threshold=0.6)
    assert smoother({"a": 0.55, "b": 0.45}, 1.0, "student").label == "unknown"
    confident = smoother({"a": 0.9, "b": 0.1}, 2.0, "student")
    assert confident.label == "a"
    assert confident.confidence == pytest.approx(0.9)


def test_smoother__exponential_smoothing_delays_switches() -> None:
    smoother = Smoother(alpha=0.5, threshold=0.0)
    smoother({"a": 1.0, "b": 0.0}, 0.0, "student")
    first = smoother({"a": 0.0, "b": 1.0}, 0.5, "student")
    assert first.probabilities == pytest.approx({"a": 0.5, "b": 0.5})
    second = smoother({"a": 0.0, "b": 1.0}, 1.0, "student")
    assert second.label == "b" and second.confidence == pytest.approx(0.75)


def test_smoother__restarts_when_activities_change() -> None:
    smoother = Smoother(alpha=0.2, threshold=0.0)
    smoother({"a": 1.0, "b": 0.0}, 0.0, "student")
    out = smoother({"a": 0.1, "b": 0.1, "c": 0.8}, 1.0, "student")
    assert out.label == "c" and out.confidence == pytest.approx(0.8)


@pytest.mark.parametrize(("alpha", "threshold"), [(0.0, 0.5), (1.5, 0.5), (0.5, -0.1), (0.5, 1.1)])
def test_smoother__validates_arguments(alpha: float, threshold: float) -> None:
    with pytest.raises(ValueError, match=r"alpha|threshold"):
        Smoother(alpha, threshold)

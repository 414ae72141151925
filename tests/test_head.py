"""comodo_live.head: fit, score, dict round-trip with validation, the one smoother."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from comodo_live.head import (
    ARRAY_FIELDS,
    FORMULA,
    HeadError,
    HeadSpec,
    Smoother,
    fit_head,
    softmax,
)
from tests.conftest import ROOT


def _blobs(
    rng: np.random.Generator, per_class: dict[str, int], dim: int = 16
) -> tuple[np.ndarray, list[str]]:
    centres = {name: rng.normal(0, 3, dim) for name in per_class}
    x = [centres[n] + rng.normal(0, 0.5, dim) for n, k in per_class.items() for _ in range(k)]
    names = [n for n, k in per_class.items() for _ in range(k)]
    return np.asarray(x, np.float32), names


def _sklearn_data(classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (classes, 8))
    labels = np.repeat(np.arange(classes), 15)
    features = centres[labels] + rng.normal(0, 1, (len(labels), 8)) + 5.0
    return features.astype(np.float32), np.array([f"act{k}" for k in labels])


def _head(**options: Any) -> HeadSpec:
    rng = np.random.default_rng(7)
    return HeadSpec.create(
        ["a", "b", "c"],
        coef=rng.normal(size=(3, 8)),
        intercept=[0.1, -0.2, 0.3],
        feature_mean=rng.normal(size=8),
        feature_std=rng.uniform(0.5, 2.0, 8),
        anchors=rng.normal(size=(3, 8)),
        anchor_mask=[False, True, False],
        **options,
    )


# --- fit -------------------------------------------------------------------------------------


def test_fit_head__linear_head_separates_classes() -> None:
    x, names = _blobs(np.random.default_rng(0), {"a": 10, "b": 10, "c": 10})
    head = fit_head(x, names, ("a", "b", "c"), min_windows=4, version=3)
    assert head is not None and head.fitted_on == 30 and head.version == 3
    assert not head.anchor_mask.any() and head.coef.dtype == np.float32
    predicted = np.asarray(head.activities)[head.probabilities(x).argmax(axis=1)]
    assert (predicted == np.asarray(names)).mean() == 1.0
    np.testing.assert_allclose(head.probabilities(x).sum(axis=1), 1.0, rtol=1e-5)


def test_fit_head__binary_uses_softmax_form() -> None:
    x, names = _blobs(np.random.default_rng(1), {"a": 8, "b": 8})
    head = fit_head(x, names, ("a", "b"), min_windows=4)
    assert head is not None and head.coef.shape[0] == 2
    np.testing.assert_array_equal(head.coef[0], 0.0)  # sklearn's single row becomes [0, w]
    predicted = np.asarray(head.activities)[head.probabilities(x).argmax(axis=1)]
    assert (predicted == np.asarray(names)).mean() == 1.0


def test_fit_head__few_windows_fall_back_to_anchors() -> None:
    x, names = _blobs(np.random.default_rng(2), {"a": 10, "b": 10, "rare": 2})
    head = fit_head(x, names, ("a", "b", "rare", "never"), min_windows=4)
    assert head is not None
    assert head.activities == ("a", "b", "rare")  # no window at all: not scored
    assert head.anchor_mask.tolist() == [False, False, True]
    np.testing.assert_allclose(head.anchors[2], x[-2:].mean(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(head.coef[2], 0.0)


def test_fit_head__single_class_and_no_labels() -> None:
    x = np.ones((3, 4), np.float32)
    assert fit_head(x[:0], [], ("a",)) is None
    head = fit_head(x, ["a"] * 3, ("a", "b"))
    assert head is not None and head.activities == ("a",)
    np.testing.assert_allclose(head.probabilities(x), 1.0)
    with pytest.raises(ValueError, match=r"embeddings \(3\) and labels \(2\)"):
        fit_head(x, ["a"] * 2, ("a",))


# --- score -----------------------------------------------------------------------------------


@pytest.mark.parametrize("classes", [2, 4])
def test_head_spec__from_sklearn_matches_predict_proba(classes: int) -> None:
    features, labels = _sklearn_data(classes)
    for model in (
        LogisticRegression(max_iter=1000),
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    ):
        model.fit(features, labels)
        head = HeadSpec.from_sklearn(model)
        assert head.coef.shape == (classes, 8) and head.activities == tuple(model.classes_)
        np.testing.assert_allclose(
            head.probabilities(features), model.predict_proba(features), atol=1e-5
        )


@pytest.mark.parametrize("l2_normalise", [False, True])
def test_head_spec__logits_follow_the_formula(l2_normalise: bool) -> None:
    head = _head(anchor_temperature=0.2, l2_normalise=l2_normalise)
    e = np.random.default_rng(8).normal(size=(5, 8)) * 3.0  # (B, E)
    unit = e / np.linalg.norm(e, axis=1, keepdims=True)
    u = unit if l2_normalise else e
    linear = ((u - head.feature_mean) / head.feature_std) @ head.coef.T + head.intercept
    anchor = unit @ (head.anchors[1] / np.linalg.norm(head.anchors[1])) / 0.2
    logits = head.logits(e)
    assert logits.shape == (5, 3) and logits.dtype == np.float32
    np.testing.assert_allclose(logits[:, [0, 2]], linear[:, [0, 2]], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(logits[:, 1], anchor, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(head.probabilities(e), softmax(logits), rtol=1e-6)
    with pytest.raises(ValueError, match=r"embeddings must have shape \(B, E=8\), got \(5, 7\)"):
        head.logits(e[:, :7])


def test_softmax__rows_sum_to_one_and_survive_large_logits() -> None:
    p = softmax(np.array([[1000.0, 1000.0, -1000.0], [0.0, np.log(3.0), -np.inf]]))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]], atol=1e-12)


# --- dict round-trip and validation ----------------------------------------------------------


def test_head_spec__dict_round_trip_is_exact_and_json_able() -> None:
    x, names = _blobs(np.random.default_rng(3), {"a": 10, "b": 10, "rare": 2})
    fitted = fit_head(x, names, ("a", "b", "rare"), version=5)
    assert fitted is not None
    head = replace(
        fitted, l2_normalise=True, unknown_threshold=0.4, smoothing_alpha=0.5, extra={"k": 1}
    )
    doc = json.loads(json.dumps(head.to_dict()))  # plain JSON values only
    back = HeadSpec.from_dict(doc)
    for name in ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(back, name), getattr(head, name), err_msg=name)
        assert getattr(back, name).dtype == getattr(head, name).dtype
    assert back.activities == head.activities and back.extra == {"k": 1}
    assert (back.l2_normalise, back.unknown_threshold, back.smoothing_alpha) == (True, 0.4, 0.5)
    assert (back.fitted_on, back.version) == (22, 5)
    np.testing.assert_array_equal(back.logits(x), head.logits(x))


def test_head_spec__from_dict_accepts_arrays_and_fills_defaults() -> None:
    head = HeadSpec.from_dict(
        {"activities": ["a", "b"], "coef": np.ones((2, 3)), "intercept": [0, 1]}
    )
    np.testing.assert_array_equal(head.feature_std, 1.0)
    np.testing.assert_array_equal(head.anchor_mask, False)
    assert head.anchor_temperature == 0.1 and not head.l2_normalise and head.smoothing_alpha == 1.0


def test_head_spec__package_files_round_trip() -> None:
    head = _head(unknown_threshold=0.3, smoothing_alpha=0.5, l2_normalise=True)
    doc = json.loads(json.dumps(head.to_json()))
    assert doc["formula"] == FORMULA and doc["anchor_classes"] == ["b"]
    assert doc["arrays"]["coef"] == [3, 8] and doc["embedding_dim"] == 8
    back = HeadSpec.from_files(doc, head.to_arrays())
    e = np.random.default_rng(9).normal(size=(4, 8))
    np.testing.assert_array_equal(back.logits(e), head.logits(e))
    assert (back.unknown_threshold, back.smoothing_alpha, back.l2_normalise) == (0.3, 0.5, True)
    with pytest.raises(HeadError, match=r"\['smoothing_alpha', 'anchors'\] missing"):
        arrays = {k: v for k, v in head.to_arrays().items() if k != "anchors"}
        HeadSpec.from_files({k: v for k, v in doc.items() if k != "smoothing_alpha"}, arrays)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"coef": None}, r"\['coef'\] missing \(required: \['activities', 'coef', 'intercept'\]\)"),
        ({"colour": "red"}, r"\['colour'\] unknown"),
        ({"activities": "ab"}, r"activities must be a list of names, got 'ab'"),
        ({"activities": ["a", "a", "c"]}, r"distinct names, got \['a', 'a', 'c'\]"),
        ({"intercept": [0.0, 1.0]}, r"intercept must have shape \(3,\) \(K=3, E=8\), got \(2,\)"),
        ({"coef": [[1.0, 2.0], [3.0]]}, r"coef must be a numeric array, got list"),
        ({"anchors": np.full((3, 8), "x")}, r"anchors must be a numeric array"),
        ({"feature_std": np.zeros(8)}, r"feature_std must be > 0 everywhere, got a minimum of 0"),
        ({"feature_mean": np.full(8, np.nan)}, r"feature_mean must be finite, got 8 NaN/inf"),
        ({"anchor_temperature": 0.0}, r"anchor_temperature must be > 0, got 0\.0"),
        ({"anchor_temperature": "0.1"}, r"anchor_temperature must be a number, got '0\.1'"),
        ({"unknown_threshold": 1.5}, r"unknown_threshold must be in \[0, 1\], got 1\.5"),
        ({"smoothing_alpha": 0.0}, r"smoothing_alpha must be in \(0, 1\], got 0\.0"),
        ({"l2_normalise": "yes"}, r"l2_normalise must be true or false, got 'yes'"),
        ({"fitted_on": 2.5}, r"fitted_on must be an integer, got 2\.5"),
        ({"version": -1}, r"version must be >= 0, got -1"),
        ({"extra": [1]}, r"extra must be a mapping, got \[1\]"),
    ],
)
def test_head_spec__from_dict_names_field_value_and_expected(
    change: dict[str, Any], message: str
) -> None:
    doc: dict[str, Any] = dict(_head().to_dict())
    for key, value in change.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    with pytest.raises(HeadError, match=message):
        HeadSpec.from_dict(doc)


# --- the one smoother ------------------------------------------------------------------------


def test_smoother__unknown_below_threshold() -> None:
    smoother = Smoother(alpha=1.0, threshold=0.6)
    assert smoother({"a": 0.55, "b": 0.45}, 1.0, "student").label == "unknown"
    confident = smoother({"a": 0.9, "b": 0.1}, 2.0, "student")
    assert confident.label == "a" and confident.source == "student"
    assert confident.confidence == pytest.approx(0.9) and confident.t == 2.0


def test_smoother__exponential_smoothing_delays_switches() -> None:
    smoother = Smoother(alpha=0.5, threshold=0.0)
    smoother({"a": 1.0, "b": 0.0}, 0.0, "student")
    first = smoother({"a": 0.0, "b": 1.0}, 0.5, "student")
    assert first.probabilities == pytest.approx({"a": 0.5, "b": 0.5})
    second = smoother({"a": 0.0, "b": 1.0}, 1.0, "student")
    assert second.label == "b" and second.confidence == pytest.approx(0.75)


def test_smoother__restarts_when_activities_change_or_on_reset() -> None:
    smoother = Smoother(alpha=0.2, threshold=0.0)
    smoother({"a": 1.0, "b": 0.0}, 0.0, "student")
    out = smoother({"a": 0.1, "b": 0.1, "c": 0.8}, 1.0, "student")
    assert out.label == "c" and out.confidence == pytest.approx(0.8)
    smoother.reset()
    assert smoother({"a": 0.1, "b": 0.1, "c": 0.8}, 2.0).confidence == pytest.approx(0.8)
    empty = smoother({}, 3.0, "teacher")
    assert (empty.label, empty.confidence, empty.probabilities) == ("unknown", 0.0, {})


@pytest.mark.parametrize(("alpha", "threshold"), [(0.0, 0.5), (1.5, 0.5), (0.5, -0.1), (0.5, 1.1)])
def test_smoother__validates_arguments(alpha: float, threshold: float) -> None:
    with pytest.raises(ValueError, match=r"alpha|threshold"):
        Smoother(alpha, threshold)


def test_head__imports_neither_torch_nor_sklearn() -> None:
    code = """
        import sys
        import comodo_live.head
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "sklearn", "scipy")))
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

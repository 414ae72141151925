"""HeadSpec: the classifier arrays reproduce sklearn, the engine's LinearHead and the torch head."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from comodo_live.export.graph import ActivityHead
from comodo_live.export.head import HeadSpec


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _data(classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (classes, 8))
    labels = np.repeat(np.arange(classes), 15)
    features = centres[labels] + rng.normal(0, 1, (len(labels), 8)) + 5.0
    return features.astype(np.float32), np.array([f"act{k}" for k in labels])


@pytest.mark.parametrize("classes", [2, 4])
def test_head_spec__from_sklearn_matches_predict_proba(classes: int) -> None:
    features, labels = _data(classes)
    for model in (
        LogisticRegression(max_iter=1000),
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    ):
        model.fit(features, labels)
        head = HeadSpec.from_sklearn(model)
        assert head.coef.shape == (classes, 8) and head.activities == tuple(model.classes_)
        np.testing.assert_allclose(
            _softmax(head.logits(features)), model.predict_proba(features), atol=1e-5
        )


def test_head_spec__torch_head_matches_numpy_with_anchor_fallback() -> None:
    features, _ = _data(3, seed=1)
    head = HeadSpec.create(
        ["a", "b", "c"],
        coef=np.random.default_rng(2).normal(size=(3, 8)),
        intercept=[0.1, -0.2, 0.3],
        feature_mean=features.mean(0),
        feature_std=features.std(0) + 1e-3,
        anchors=np.random.default_rng(3).normal(size=(3, 8)),
        anchor_mask=[False, True, False],
        anchor_temperature=0.2,
    )
    with torch.no_grad():
        logits = ActivityHead(head)(torch.from_numpy(features)).numpy()
    np.testing.assert_allclose(logits, head.logits(features), rtol=1e-5, atol=1e-5)
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    anchor = head.anchors[1] / np.linalg.norm(head.anchors[1])
    np.testing.assert_allclose(logits[:, 1], unit @ anchor / 0.2, rtol=1e-5, atol=1e-6)


def test_head_spec__matches_the_engine_linear_head() -> None:
    classifier = pytest.importorskip("comodo_live.learning.classifier")
    features, labels = _data(3, seed=4)
    keep = np.r_[np.arange(2), np.arange(15, 45)]  # act0 gets 2 windows → anchor fallback
    engine_head = classifier.fit_head(
        features[keep], [str(labels[i]) for i in keep], ("act0", "act1", "act2")
    )
    assert engine_head is not None and engine_head.anchor_mask.any()
    head = HeadSpec.create(**{k: v for k, v in engine_head.as_dict().items() if k != "fitted_on"})
    np.testing.assert_allclose(
        head.logits(features), engine_head.logits(features), rtol=1e-4, atol=1e-4
    )
    with torch.no_grad():
        torch_logits = ActivityHead(head)(torch.from_numpy(features)).numpy()
    np.testing.assert_allclose(torch_logits, engine_head.logits(features), rtol=1e-4, atol=1e-4)


def test_head_spec__validates_shapes() -> None:
    with pytest.raises(ValueError, match=r"intercept must have shape \(2,\)"):
        HeadSpec.create(["a", "b"], coef=np.zeros((2, 4)), intercept=np.zeros(3))
    with pytest.raises(ValueError, match="distinct"):
        HeadSpec.create(["a", "a"], coef=np.zeros((2, 4)), intercept=np.zeros(2))
    with pytest.raises(ValueError, match="feature_std must be > 0"):
        HeadSpec.create(["a", "b"], np.zeros((2, 4)), np.zeros(2), feature_std=np.zeros(4))

"""ActivityHead: the exported torch head computes comodo_live.head's formula."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from comodo_live.export.graph import ActivityHead
from comodo_live.head import HeadSpec, fit_head


@pytest.mark.parametrize("l2_normalise", [False, True])
def test_activity_head__matches_numpy_with_anchor_fallback(l2_normalise: bool) -> None:
    rng = np.random.default_rng(1)
    features = (rng.normal(0, 2, (40, 8)) + 5.0).astype(np.float32)  # (B, E)
    head = HeadSpec.create(
        ["a", "b", "c"],
        coef=np.random.default_rng(2).normal(size=(3, 8)),
        intercept=[0.1, -0.2, 0.3],
        feature_mean=features.mean(0),
        feature_std=features.std(0) + 1e-3,
        anchors=np.random.default_rng(3).normal(size=(3, 8)),
        anchor_mask=[False, True, False],
        anchor_temperature=0.2,
        l2_normalise=l2_normalise,
    )
    with torch.no_grad():
        logits = ActivityHead(head)(torch.from_numpy(features)).numpy()
    np.testing.assert_allclose(logits, head.logits(features), rtol=1e-5, atol=1e-5)
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    anchor = head.anchors[1] / np.linalg.norm(head.anchors[1])
    np.testing.assert_allclose(logits[:, 1], unit @ anchor / 0.2, rtol=1e-5, atol=1e-6)


def test_activity_head__matches_a_fitted_head() -> None:
    rng = np.random.default_rng(4)
    centres = rng.normal(0, 2, (3, 8))
    labels = np.r_[np.zeros(2, int), np.repeat([1, 2], 15)]  # class 0: 2 windows → anchor
    features = (centres[labels] + rng.normal(0, 1, (len(labels), 8)) + 5.0).astype(np.float32)
    head = fit_head(features, [f"act{k}" for k in labels], ("act0", "act1", "act2"))
    assert head is not None and head.anchor_mask.tolist() == [True, False, False]
    with torch.no_grad():
        logits = ActivityHead(head)(torch.from_numpy(features)).numpy()
    np.testing.assert_allclose(logits, head.logits(features), rtol=1e-4, atol=1e-4)

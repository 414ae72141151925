"""The model card states how the exported model was made, personalisation included."""

from __future__ import annotations

import numpy as np

from comodo_live.export.card import CardInfo, render_model_card
from comodo_live.head import HeadSpec
from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from comodo_live.runtime.package import Preprocessing

_PARITY = {
    "windows": 4,
    "source": "labelled",
    "atol": 1e-4,
    "passed": True,
    "onnxruntime": {"batched": {"max_abs_diff": {"probabilities": 1e-7}}},
    "torchscript": {"batched": {"max_abs_diff": {"probabilities": 2e-7}}},
}


def _render(info: CardInfo) -> str:
    k, e = 2, 4
    head = HeadSpec(
        activities=("walking", "sitting"),
        coef=np.zeros((k, e), np.float32),
        intercept=np.zeros(k, np.float32),
        feature_mean=np.zeros(e, np.float32),
        feature_std=np.ones(e, np.float32),
        anchors=np.zeros((k, e), np.float32),
        anchor_mask=np.zeros(k, bool),
    )
    pre = Preprocessing(IMU_CHANNELS, IMU_UNITS, 50.0, 100, 0.5, (0.0,) * 6, (1.0,) * 6)
    return render_model_card(info, head, pre, _PARITY, "2026-11-21")


def test_render_model_card__reports_personalisation() -> None:
    record = {
        "steps": 200,
        "windows": 34,
        "labelled_accuracy_before": 0.8,
        "labelled_accuracy_after": 0.95,
    }
    text = _render(CardInfo.from_mapping({"session": "s1", "personalisation": record}))
    assert "student fine-tuned for 200 steps on 34 labelled windows" in text
    assert "80.0 % → 95.0 %" in text


def test_render_model_card__says_when_not_personalised() -> None:
    text = _render(CardInfo.from_mapping({"session": "s1", "steps": 10}))
    assert "Personalisation: none" in text
    assert "optimiser steps: 10" in text

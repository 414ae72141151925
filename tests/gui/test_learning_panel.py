from __future__ import annotations

import numpy as np

from comodo_live.records import TrainStats
from gui.learning_panel import LearningPanel
from tests.gui.conftest import make_snapshot


def test_learning_panel__figures_and_curves(qtbot) -> None:
    panel = LearningPanel()
    qtbot.addWidget(panel)
    train = TrainStats(120, 2.5, 6.2, 0.75, 0.4, 0.1, 3e-4, skipped_steps=1)
    loss = np.c_[np.arange(50.0), np.linspace(5, 2.5, 50)]  # (K, 2) [step, loss]
    agreement = np.c_[100.0 + np.arange(20.0), np.linspace(0.2, 0.8, 20)]  # (K, 2) [t, agreement]
    snap = make_snapshot(
        train=train,
        loss_history=loss,
        agreement_history=agreement,
        teacher_clips_per_s=1.5,
        teacher_skipped=4,
        teacher_duty=0.6,
    )
    panel.update_learning(snap, now=120.0)
    values = {k: v.text() for k, v in panel.values.items()}
    assert values["step"] == "120" and values["steps/s"] == "6.2" and values["skipped clips"] == "4"
    assert values["target entropy"] == "0.40" and values["teacher duty"] == "60%"
    assert panel.queue_bar.value() == 75
    x, y = panel.loss_curve.getData()
    np.testing.assert_allclose(y, loss[:, 1])
    x, y = panel.agreement_curve.getData()
    assert x[0] == 0.0 and x[-1] == 19.0  # seconds since the first point shown
    panel.update_learning(snap, now=121.5)
    assert len(panel.entropy_curve.getData()[0]) == 2  # one entropy point per second

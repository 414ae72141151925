from __future__ import annotations

from comodo_live.records import Prediction
from gui.prediction_panel import PredictionPanel, describe
from tests.gui.conftest import make_snapshot

ACTS = ("walking", "sitting")


def _pred(t: float, label: str, p: float, source: str = "student") -> Prediction:
    probs = (
        {"walking": p, "sitting": 1 - p} if label == "walking" else {"walking": 1 - p, "sitting": p}
    )
    return Prediction(t, label, p, probs, source)


def test_prediction_panel__shows_label_bars_and_timeline(qtbot) -> None:
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 400)
    panel.show()
    recent = tuple(
        (_pred(i * 0.5, "walking", 0.8), _pred(i * 0.5, "sitting", 0.7, "teacher"))
        for i in range(10)
    )
    snap = make_snapshot(
        activities=ACTS,
        prediction=_pred(5.0, "walking", 0.87),
        teacher_prediction=_pred(5.0, "sitting", 0.6, "teacher"),
        recent_predictions=recent,
    )
    panel.update_prediction(snap)
    assert "walking" in panel.current.text() and "87%" in panel.current.text()
    assert panel.teacher.text() == "teacher (video): sitting 60%"
    assert panel.bars.activities == ACTS and panel.bars.probabilities["walking"] == 0.87
    assert len(panel.timeline.recent) == 10
    qtbot.waitExposed(panel)
    panel.grab()  # paints bars and timeline without error
    panel.update_prediction(
        make_snapshot(activities=ACTS, camera_on=False, prediction=snap.prediction)
    )
    assert "idle — camera off" in panel.teacher.text()


def test_describe__none_and_prediction() -> None:
    assert describe(None) == "—"
    assert describe(_pred(0.0, "sitting", 0.5)) == "sitting 50%"


def test_prediction_panel__activity_names_are_text_not_markup(qtbot) -> None:
    from PyQt6.QtCore import Qt

    panel = PredictionPanel()
    qtbot.addWidget(panel)
    name = "<img src=x>"  # printable, so a valid activity name: shown as text
    snap = make_snapshot(
        activities=(name, "sitting"),
        prediction=Prediction(1.0, name, 0.9, {name: 0.9, "sitting": 0.1}, "student"),
        teacher_prediction=Prediction(1.0, name, 0.8, {name: 0.8, "sitting": 0.2}, "teacher"),
    )
    panel.update_prediction(snap)
    assert "&lt;img src=x&gt;" in panel.current.text() and "<img" not in panel.current.text()
    assert panel.teacher.textFormat() == Qt.TextFormat.PlainText
    assert panel.teacher.text() == "teacher (video): <img src=x> 80%"

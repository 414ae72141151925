"""Prediction panel: current activity in large type, probability bars, timeline of predictions."""

from __future__ import annotations

import html

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from comodo_live.records import Prediction
from comodo_live.session.snapshot import EngineSnapshot
from gui.palette import activity_color
from gui.prediction_views import ProbabilityBars, TimelineStrip


def describe(prediction: Prediction | None) -> str:
    """Short text for a prediction: ``"walking 87%"``, or ``"—"`` when there is none."""
    if prediction is None:
        return "—"
    return f"{prediction.label} {100 * prediction.confidence:.0f}%"


class PredictionPanel(QGroupBox):
    """What the IMU-only student recognises now (and the teacher, while the camera is on)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Prediction", parent)
        self.current = QLabel("waiting for the first prediction…")
        self.current.setObjectName("currentActivity")
        self.current.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.current.setTextFormat(Qt.TextFormat.RichText)
        self.current.setMinimumHeight(56)
        self._set_current_style("#333333")
        self.detail = QLabel("student (IMU only)")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.teacher = QLabel("teacher (video): —")
        self.teacher.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for label in (self.detail, self.teacher):
            label.setTextFormat(Qt.TextFormat.PlainText)  # activity names are never markup
        self.bars = ProbabilityBars()
        self.timeline = TimelineStrip()
        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addWidget(self.detail)
        layout.addWidget(self.teacher)
        layout.addWidget(self.bars)
        layout.addWidget(QLabel("recent predictions (last 60 s):"))
        layout.addWidget(self.timeline)
        self._shown: Prediction | None = None

    def _set_current_style(self, color: str) -> None:
        self.current.setStyleSheet(f"font-size: 34px; font-weight: bold; color: {color};")

    def update_prediction(self, snap: EngineSnapshot) -> None:
        """Refresh from ``snap`` (cheap when nothing changed)."""
        prediction = snap.prediction
        if prediction is not None and prediction is not self._shown:
            self._shown = prediction
            self.current.setText(  # rich text: the label (a user's or a marker's) escaped
                f"{html.escape(prediction.label)}  <span style='font-size:20px'>"
                f"{100 * prediction.confidence:.0f}%</span>"
            )
            self._set_current_style(activity_color(prediction.label, snap.activities).name())
            self.detail.setText(f"student (IMU only) · latency {prediction.latency_ms:.1f} ms")
        if snap.camera_on:
            self.teacher.setText(f"teacher (video): {describe(snap.teacher_prediction)}")
        else:
            self.teacher.setText("teacher (video): idle — camera off")
        probabilities = prediction.probabilities if prediction is not None else {}
        self.bars.set_probabilities(snap.activities, probabilities)
        self.timeline.set_recent(snap.activities, snap.recent_predictions)

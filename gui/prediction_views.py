"""Painted widgets of the prediction panel: probability bars and the prediction timeline strip."""

from __future__ import annotations

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QPainter, QPaintEvent
from PyQt6.QtWidgets import QSizePolicy, QWidget

from comodo_live.records import Prediction
from gui.palette import activity_color

_ROW_H = 20
_NAME_W = 110


class ProbabilityBars(QWidget):
    """One horizontal bar per activity: the smoothed probability of the latest prediction."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.activities: tuple[str, ...] = ()
        self.probabilities: dict[str, float] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(_ROW_H + 4)

    def set_probabilities(
        self, activities: tuple[str, ...], probabilities: dict[str, float]
    ) -> None:
        """Show ``probabilities`` (activity → [0, 1]) for each of ``activities`` in order."""
        if activities != self.activities:
            self.activities = activities
            self.setFixedHeight(max(1, len(activities)) * (_ROW_H + 2) + 4)
        if probabilities != self.probabilities:
            self.probabilities = dict(probabilities)
            self.update()

    def paintEvent(self, event: QPaintEvent | None) -> None:
        painter = QPainter(self)
        bar_w = max(10, self.width() - _NAME_W - 50)
        if not self.activities:
            painter.drawText(4, _ROW_H - 5, "no activities yet — add one under Controls")
        for row, name in enumerate(self.activities):
            y = 2 + row * (_ROW_H + 2)
            p = min(1.0, max(0.0, float(self.probabilities.get(name, 0.0))))
            painter.setPen(self.palette().text().color())
            painter.drawText(
                QRectF(0, y, _NAME_W - 6, _ROW_H),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            painter.fillRect(QRectF(_NAME_W, y + 3, bar_w, _ROW_H - 6), QColor("#e6e6e6"))
            painter.fillRect(
                QRectF(_NAME_W, y + 3, bar_w * p, _ROW_H - 6), activity_color(name, self.activities)
            )
            painter.drawText(
                QRectF(_NAME_W + bar_w + 4, y, 46, _ROW_H),
                Qt.AlignmentFlag.AlignVCenter,
                f"{100 * p:.0f}%",
            )
        painter.end()


class TimelineStrip(QWidget):
    """Recent predictions as coloured cells on a time axis: a student row and a teacher row.

    Args:
        span_s: seconds of history shown (right edge = newest prediction).
    """

    def __init__(self, span_s: float = 60.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if span_s <= 0:
            raise ValueError(f"span_s must be > 0 s, got {span_s}")
        self.span_s = span_s
        self.activities: tuple[str, ...] = ()
        self.recent: tuple[tuple[Prediction, Prediction | None], ...] = ()
        self.setFixedHeight(2 * _ROW_H + 22)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_recent(
        self,
        activities: tuple[str, ...],
        recent: tuple[tuple[Prediction, Prediction | None], ...],
    ) -> None:
        """Show ``recent`` (student, teacher-or-None) pairs, oldest first."""
        changed = (
            activities != self.activities
            or len(recent) != len(self.recent)
            or (recent and self.recent and recent[-1][0].t != self.recent[-1][0].t)
        )
        self.activities, self.recent = activities, recent
        if changed:
            self.update()

    def paintEvent(self, event: QPaintEvent | None) -> None:
        painter = QPainter(self)
        left, width = 60, max(10, self.width() - 64)
        text_color = self.palette().text().color()
        painter.setPen(text_color)
        for row, name in enumerate(("student", "teacher")):
            painter.drawText(
                QRectF(0, row * (_ROW_H + 2), left - 4, _ROW_H),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            painter.fillRect(QRectF(left, row * (_ROW_H + 2), width, _ROW_H), QColor("#f0f0f0"))
        if self.recent:
            t_end = self.recent[-1][0].t
            scale = width / self.span_s
            for i, (student, teacher) in enumerate(self.recent):
                t_next = self.recent[i + 1][0].t if i + 1 < len(self.recent) else t_end + 0.25
                x0 = left + max(0.0, (student.t - t_end + self.span_s) * scale)
                x1 = left + min(width, (t_next - t_end + self.span_s) * scale)
                if x1 <= left:
                    continue
                painter.fillRect(
                    QRectF(x0, 0, x1 - x0, _ROW_H), activity_color(student.label, self.activities)
                )
                if teacher is not None:
                    painter.fillRect(
                        QRectF(x0, _ROW_H + 2, x1 - x0, _ROW_H),
                        activity_color(teacher.label, self.activities),
                    )
        painter.setPen(text_color)
        painter.drawText(
            QRectF(left, 2 * _ROW_H + 4, width, 16),
            Qt.AlignmentFlag.AlignLeft,
            f"−{self.span_s:.0f} s",
        )
        painter.drawText(
            QRectF(left, 2 * _ROW_H + 4, width, 16),
            Qt.AlignmentFlag.AlignRight,
            "now (teacher row empty while the camera is off)",
        )
        painter.end()

"""Streams panel: the session's LSL streams, their rates and a health light."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QGroupBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from comodo_live.session.snapshot import LAGGY_AFTER_S, MISSING_AFTER_S, StreamStatus
from comodo_live.streams.names import FRAME_INDEX_TYPE, VIDEO_TYPE
from gui.palette import health_color
from gui.qt import present

_COLUMNS = ("", "type", "name", "Hz", "measured", "last data")
# The engine decides a stream's health (comodo_live.session.streams.health_of); this only says how.
HEALTH_HELP = (
    f"ok: data flowing at ≥ 90% of the nominal rate; laggy: newest data over {LAGGY_AFTER_S:g} s "
    f"old or rate below 90% of nominal; missing: newest data over {MISSING_AFTER_S:g} s old; "
    "off: camera stream in privacy mode"
)
CAMERA_TYPES = (FRAME_INDEX_TYPE, VIDEO_TYPE)


def _age_text(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):  # NaN / never
        return "never"
    return f"{seconds:.1f} s ago"


class StreamsPanel(QGroupBox):
    """Table of the session's streams with a coloured health light (the engine reads exactly the
    streams of its own sources, so there is nothing to pick)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Streams", parent)
        self._keys: tuple[tuple[str, str, str], ...] = ()
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        vertical = present(self.table.verticalHeader(), "vertical header")
        vertical.setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setToolTip(HEALTH_HELP)
        self.table.setWordWrap(False)
        font = self.table.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.table.setFont(font)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        vertical.setDefaultSectionSize(22)
        header = present(self.table.horizontalHeader(), "horizontal header")
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)

    def update_streams(self, streams: tuple[StreamStatus, ...], camera_on: bool = True) -> None:
        """Show ``streams`` (rows are rebuilt only when the set of streams changes).

        In privacy mode (``camera_on`` False) camera streams show an "off" light: no data is expected.
        """
        keys = tuple((s.type, s.source_id, s.name) for s in streams)
        if keys != self._keys:
            self._keys = keys
            self.table.setRowCount(len(streams))
            for row in range(len(streams)):
                for col in range(len(_COLUMNS)):
                    self.table.setItem(row, col, QTableWidgetItem())
        for row, s in enumerate(streams):
            health = "off" if not camera_on and s.type in CAMERA_TYPES else s.health
            light = self._item(row, 0)
            light.setText("●")
            light.setForeground(QColor(health_color(health)))
            age = "" if health == "off" else f" (newest data {_age_text(s.seconds_since_data)})"
            light.setToolTip(f"{health}{age}: {HEALTH_HELP}")
            nominal = "irregular" if s.nominal_rate_hz <= 0 else f"{s.nominal_rate_hz:.0f}"
            texts = (
                s.type,
                s.name,
                nominal,
                f"{s.measured_rate_hz:.1f}",
                _age_text(s.seconds_since_data),
            )
            for col, text in enumerate(texts, start=1):
                item = self._item(row, col)
                if item.text() != text:
                    item.setText(text)
            self._item(row, 2).setToolTip(f"source_id: {s.source_id}")

    def health_of(self, stream_type: str) -> list[str]:
        """Health strings currently displayed for streams of ``stream_type`` (tests, status bar)."""
        return [
            self._item(r, 0).toolTip().split(":")[0].split(" ")[0]
            for r in range(self.table.rowCount())
            if self._item(r, 1).text() == stream_type
        ]

    def _item(self, row: int, col: int) -> QTableWidgetItem:
        return present(self.table.item(row, col), f"stream table item ({row}, {col})")

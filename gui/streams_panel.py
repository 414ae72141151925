"""Streams panel: discovered LSL streams, their rates and a health light, plus a picker."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from comodo_live.session.snapshot import StreamStatus
from comodo_live.streams.names import FRAME_INDEX_TYPE, VIDEO_TYPE
from gui.palette import health_color

_COLUMNS = ("", "type", "name", "Hz", "measured", "last data")
HEALTH_HELP = (
    "ok: data flowing at ≥ 90% of the nominal rate; laggy: no data for ~1.5 s or rate below 90% "
    "of nominal; missing: no data for ~7 s; off: camera stream in privacy mode"
)
CAMERA_TYPES = (FRAME_INDEX_TYPE, VIDEO_TYPE)


def _age_text(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):  # NaN / never
        return "never"
    return f"{seconds:.1f} s ago"


class StreamsPanel(QGroupBox):
    """Table of streams with a coloured health light; a picker per type with several candidates.

    Args:
        on_select: called with (stream_type, source_id) when the user picks another candidate.
    """

    def __init__(
        self, on_select: Callable[[str, str], None], parent: QWidget | None = None
    ) -> None:
        super().__init__("Streams", parent)
        self._on_select = on_select
        self._keys: tuple[tuple[str, str, str], ...] = ()
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setToolTip(HEALTH_HELP)
        self.table.setWordWrap(False)
        font = self.table.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.table.setFont(font)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.pickers: dict[str, QComboBox] = {}
        self._picker_form = QFormLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(self._picker_form)

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
            self._rebuild_pickers(streams)
        for row, s in enumerate(streams):
            health = "off" if not camera_on and s.type in CAMERA_TYPES else s.health
            light = self.table.item(row, 0)
            light.setText("●")
            light.setForeground(QColor(health_color(health)))
            light.setToolTip(f"{health}: {HEALTH_HELP}")
            nominal = "irregular" if s.nominal_rate_hz <= 0 else f"{s.nominal_rate_hz:.0f}"
            texts = (
                s.type,
                s.name,
                nominal,
                f"{s.measured_rate_hz:.1f}",
                _age_text(s.seconds_since_data),
            )
            for col, text in enumerate(texts, start=1):
                item = self.table.item(row, col)
                if item.text() != text:
                    item.setText(text)
            self.table.item(row, 2).setToolTip(f"source_id: {s.source_id}")
        self._sync_pickers(streams)

    def health_of(self, stream_type: str) -> list[str]:
        """Health strings currently displayed for streams of ``stream_type`` (tests, status bar)."""
        return [
            self.table.item(r, 0).toolTip().split(":")[0]
            for r in range(self.table.rowCount())
            if self.table.item(r, 1).text() == stream_type
        ]

    def _rebuild_pickers(self, streams: tuple[StreamStatus, ...]) -> None:
        while self._picker_form.rowCount():
            self._picker_form.removeRow(0)
        self.pickers = {}
        by_type: dict[str, list[StreamStatus]] = {}
        for s in streams:
            by_type.setdefault(s.type, []).append(s)
        for stream_type, candidates in by_type.items():
            if len(candidates) < 2:
                continue
            combo = QComboBox()
            for s in candidates:
                combo.addItem(f"{s.name} ({s.source_id})", s.source_id)
            combo.activated.connect(
                lambda index, t=stream_type, c=combo: self._on_select(t, c.itemData(index))
            )
            self.pickers[stream_type] = combo
            self._picker_form.addRow(f"{stream_type} source:", combo)

    def _sync_pickers(self, streams: tuple[StreamStatus, ...]) -> None:
        for s in streams:
            combo = self.pickers.get(s.type)
            if combo is not None and s.selected:
                index = combo.findData(s.source_id)
                if index >= 0 and index != combo.currentIndex() and not combo.view().isVisible():
                    combo.setCurrentIndex(index)

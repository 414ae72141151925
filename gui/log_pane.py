"""Log pane: worker errors and GUI messages, newest last, bounded."""

from __future__ import annotations

import time

from PyQt6.QtCore import QSize
from PyQt6.QtWidgets import QPlainTextEdit, QWidget


def new_errors(previous: tuple[str, ...], current: tuple[str, ...]) -> tuple[str, ...]:
    """The entries of ``current`` not already in ``previous``.

    Both are rolling "recent errors, newest last" windows of one sequence: the longest suffix of
    ``previous`` that is a prefix of ``current`` was already shown.
    """
    for k in range(min(len(previous), len(current)), 0, -1):
        if previous[-k:] == current[:k]:
            return current[k:]
    return current


class LogPane(QPlainTextEdit):
    """Read-only, bounded log (``max_lines`` lines kept)."""

    def __init__(self, max_lines: int = 1000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if max_lines < 1:
            raise ValueError(f"max_lines must be >= 1, got {max_lines}")
        self.setReadOnly(True)
        self.setMaximumBlockCount(max_lines)
        self.setPlaceholderText("worker errors and session events appear here")
        self.lines: list[str] = []  # everything logged this session (bounded like the widget)
        self._max_lines = max_lines

    def sizeHint(self) -> QSize:
        return QSize(600, 80)

    def log(self, level: str, message: str) -> None:
        """Append ``message`` with a wall-clock time stamp and ``level`` ("info" | "error")."""
        line = f"{time.strftime('%H:%M:%S')} [{level}] {message}"
        self.lines.append(line)
        del self.lines[: -self._max_lines]
        self.appendPlainText(line)

"""Counts frames actually drawn by a widget (paint events), for the fps read-out and benchmark."""

from __future__ import annotations

import time

from PyQt6.QtCore import QEvent, QObject
from PyQt6.QtWidgets import QWidget


class FrameCounter(QObject):
    """Event filter on ``widget`` counting distinct frames painted.

    Several paint events between two refresh ticks count as one frame (:meth:`tick` marks a
    refresh), so the figure is "refreshes that reached the screen", not raw paint calls.
    """

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.frames = 0
        self.paint_events = 0
        self._tick = 0
        self._painted_tick = -1
        self._t_last = time.perf_counter()
        self._frames_last = 0
        self.fps = 0.0
        widget.installEventFilter(self)

    def tick(self) -> None:
        """Mark the start of a new refresh; updates :attr:`fps` about once a second."""
        self._tick += 1
        now = time.perf_counter()
        if now - self._t_last >= 1.0:
            self.fps = (self.frames - self._frames_last) / (now - self._t_last)
            self._t_last, self._frames_last = now, self.frames

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.Paint:
            self.paint_events += 1
            if self._painted_tick != self._tick:
                self._painted_tick = self._tick
                self.frames += 1
        return False

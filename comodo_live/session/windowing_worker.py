"""The windowing worker: polls the :class:`~comodo_live.streams.windowing.Windower` as soon as
IMU data arrives (the reader's chunk hook wakes it), so a window reaches the predictor within a
few milliseconds of its last sample."""

from __future__ import annotations

import threading
from collections.abc import Callable

from comodo_live.records import PairedWindow
from comodo_live.streams.windowing import Windower
from comodo_live.worker import Worker

POLL_FALLBACK_S = 0.05  # poll at least this often even without a wake-up


def chunk_hook(event: threading.Event) -> Callable[..., None]:
    """A StreamReader ``on_chunk`` hook that sets ``event`` (new IMU samples arrived)."""

    def hook(*_: object) -> None:
        event.set()

    return hook


class WindowingWorker(Worker):
    """Turns IMU chunks into windows and hands each to ``sink`` (in this thread).

    Args:
        windower: the windower (its reader must be started).
        sink: receives every window, oldest first.
        wake: event the IMU reader's chunk hook sets (see :func:`chunk_hook`).
        before_poll: called in this thread before each poll (e.g. to read label markers).
    """

    def __init__(
        self,
        windower: Windower,
        sink: Callable[[PairedWindow], None],
        wake: threading.Event,
        before_poll: Callable[[], None] | None = None,
    ) -> None:
        super().__init__("comodo-windowing")
        self.windower = windower
        self._sink = sink
        self._wake = wake
        self._before_poll = before_poll
        self.windows = 0

    def _loop(self) -> None:
        while not self._stop_event.is_set():
            self._wake.wait(POLL_FALLBACK_S)
            self._wake.clear()
            if self._before_poll is not None:
                self._before_poll()
            for paired in self.windower.poll():
                self.windows += 1
                self._sink(paired)

"""Housekeeping: the metrics log line every ``metrics_every_s`` and worker failure reports.

The housekeeper knows neither the controller nor the workers: it is handed two functions that
return records copied at one instant (the metrics line, the failure messages) and where to put
them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from comodo_live.metrics import MetricsLog
from comodo_live.worker import Worker


class Housekeeper(Worker):
    """Writes ``{"type": "metrics", ...}`` lines and reports each worker failure once.

    Args:
        every_s: seconds between metrics lines, > 0.
        metrics_line: builds the line now (see :func:`~comodo_live.session.snapshots.metrics_line`).
        failures: returns ``"<worker> stopped: <exception>"`` for every failed worker now.
        report_error: shows a message to the user (the snapshot's errors).
        metrics: the session's metrics log (None: lines are built but not written).
        tick: called first on every period (e.g. the free-space check), or None.
    """

    def __init__(
        self,
        every_s: float,
        metrics_line: Callable[[], dict[str, Any]],
        failures: Callable[[], Iterable[str]],
        report_error: Callable[[str], None],
        metrics: MetricsLog | None,
        tick: Callable[[], object] | None = None,
    ) -> None:
        if not every_s > 0:
            raise ValueError(f"every_s must be > 0 seconds, got {every_s}")
        super().__init__("comodo-housekeeping")
        self.every_s = float(every_s)
        self._metrics_line = metrics_line
        self._failures = failures
        self._report_error = report_error
        self.metrics = metrics
        self._reported: set[str] = set()
        self._tick = tick

    def _loop(self) -> None:
        while not self._stop_event.wait(self.every_s):
            if self._tick is not None:
                self._tick()
            self.check_errors()
            self.write_metrics()

    def check_errors(self) -> None:
        """Report each failed worker once (failed workers stop and keep their exception)."""
        for message in self._failures():
            if message not in self._reported:
                self._reported.add(message)
                self._report_error(message)

    def write_metrics(self) -> None:
        if self.metrics is not None:
            self.metrics.write(self._metrics_line())

"""After a session or a distillation run: a self-contained ``report.html`` (PNGs embedded).

Learning curves, the distillation gain on the user's labels, the confusion matrix of labelled
windows, predictions against labels over time and stream health, from the folder's own files
(``metrics.jsonl``, ``session.xdf``; ``student.pt`` and ``probe.json`` for a distillation run).
Never imports Qt; matplotlib draws on its Agg canvas.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from comodo_live.report.build import REPORT_NAME, write_report

__all__ = ["REPORT_NAME", "report_at_session_end", "write_report"]

logger = logging.getLogger(__name__)


def report_at_session_end(folder: str | Path, on_error: Callable[[str], None]) -> Path | None:
    """Write ``<folder>/report.html`` when a session stops; never raises (the session folder is
    complete before this runs): a failure goes to ``on_error`` as one line and returns None."""
    try:
        path = write_report(folder)
    except Exception as exc:
        logger.exception("session report failed")
        on_error(f"session report failed (the session is saved): {exc!r}")
        return None
    logger.info("session report: %s", path)
    return path

"""The session's metrics log: one JSON object per line (``metrics.jsonl``), flushed per line."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import threading
from pathlib import Path
from typing import Any, TextIO

logger = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    """JSON-safe copy: NaN/inf → None, numpy scalars → Python numbers, tuples → lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class MetricsLog:
    """Append-only JSON-lines writer, safe to call from several threads.

    Args:
        path: the ``metrics.jsonl`` file (appended to).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._lock = threading.Lock()
        self.lines = 0
        self.error: str | None = None  # why writing stopped (disk full, ...), in words

    def _fail(self, exc: OSError) -> None:
        """Stop writing after a write error (a full disk must not stop the session)."""
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            self.error = (
                f"no space left on {self.path.parent}: metrics log {self.path.name} stopped"
            )
        else:
            reason = exc.strerror or type(exc).__name__
            self.error = f"cannot write {self.path}: {reason}; metrics log stopped"
        logger.error("%s", self.error)
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):  # the buffered tail cannot be written either
                file.close()

    def write(self, record: dict[str, Any]) -> None:
        """Write one record (ignored after :meth:`close` or a write error: see ``error``)."""
        line = json.dumps(_plain(record), separators=(",", ":"))
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.write(line + "\n")
                self._file.flush()
            except OSError as exc:
                self._fail(exc)
                return
            self.lines += 1

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                try:
                    self._file.close()
                except OSError as exc:
                    self._fail(exc)
                self._file = None


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """All records of a metrics log (a torn last line is skipped)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records

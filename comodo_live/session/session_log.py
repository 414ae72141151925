"""``session.log``: the session's Python log at INFO, in its folder, for the session's duration.

Everything logged at INFO or above while the session runs goes to the file (the engine, the
drivers, the recording engine's own output), whatever the console shows: when the root logger
is above INFO (the app's default, WARNING), it is lowered to INFO for the session and the
handlers already there are given a filter that keeps their old threshold, so the console does
not get chattier. Several sessions in one process (tests) share the lowered level; the last to
stop restores it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from pathlib import Path

from comodo_live.session.disk_space import is_no_space, no_space_message
from comodo_live.worker import StartStop

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"

_lock = threading.Lock()
_active = 0
_saved_level = logging.NOTSET
_filters: list[tuple[logging.Handler, logging.Filter]] = []


class _AtLeast(logging.Filter):
    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def _open_root_to_info() -> None:
    global _active, _saved_level
    root = logging.getLogger()
    _active += 1
    if _active > 1 or root.level <= logging.INFO:
        return
    _saved_level = root.level
    for handler in root.handlers:  # keep what they showed before
        threshold = _AtLeast(_saved_level)
        handler.addFilter(threshold)
        _filters.append((handler, threshold))
    root.setLevel(logging.INFO)


def _close_root() -> None:
    global _active, _saved_level
    _active -= 1
    if _active > 0 or _saved_level == logging.NOTSET:
        return
    for handler, threshold in _filters:
        handler.removeFilter(threshold)
    _filters.clear()
    logging.getLogger().setLevel(_saved_level)
    _saved_level = logging.NOTSET


class _SessionFileHandler(logging.FileHandler):
    """A file handler that stops, with one line in words, at the first write error (a full
    disk): never a "--- Logging error ---" traceback per record, never an error at close."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.failed: str | None = None  # why the file stopped, in words

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed is None:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handleError(record)
            return
        if self.failed is not None:
            return
        folder = Path(self.baseFilename).parent
        reason = no_space_message(folder) if is_no_space(exc) else f"cannot write: {exc}"
        self.failed = f"{reason}: {Path(self.baseFilename).name} stopped"
        stream, self.stream = self.stream, None  # type: ignore[assignment]
        if stream is not None:
            with contextlib.suppress(OSError):  # its buffered tail cannot be written either
                stream.close()
        logger.error("%s", self.failed)  # to the console; this handler no longer writes

    def close(self) -> None:
        with contextlib.suppress(OSError):
            super().close()
        self.stream = None  # type: ignore[assignment]


class SessionLog(StartStop):
    """Writes INFO and above of every logger to ``path`` between :meth:`start` and :meth:`stop`.

    The file is created private (0600) and appended to (a resumed or restarted session keeps
    its earlier lines).

    Args:
        path: the log file (its folder must exist).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._handler: _SessionFileHandler | None = None

    @property
    def running(self) -> bool:
        return self._handler is not None

    @property
    def failed(self) -> str | None:
        """Why the file stopped being written (``"no space left on <folder>: ..."``), or None."""
        handler = self._handler
        return None if handler is None else handler.failed

    def start(self) -> SessionLog:
        """Open the file and attach it to the root logger (idempotent)."""
        if self._handler is not None:
            return self
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        handler = _SessionFileHandler(self.path)
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        with _lock:
            _open_root_to_info()  # first: the filters are for the handlers already there
            logging.getLogger().addHandler(handler)
        self._handler = handler
        return self

    def stop(self) -> None:
        """Detach and close the file (idempotent)."""
        handler, self._handler = self._handler, None
        if handler is None:
            return
        with _lock:
            logging.getLogger().removeHandler(handler)
            _close_root()
        handler.close()

"""One owner object per background thread: start/stop/running/context manager/error state."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from types import TracebackType
from typing import TypeVar

logger = logging.getLogger(__name__)

_W = TypeVar("_W", bound="BackgroundWorker")

_live_workers: weakref.WeakSet[BackgroundWorker] = weakref.WeakSet()


def raise_errors() -> bool:
    """Whether worker errors re-raise (env ``COMODO_RAISE=1``, set by the tests)."""
    return os.environ.get("COMODO_RAISE", "") == "1"


class BackgroundWorker:
    """Base class for an object that owns one worker thread.

    Subclasses implement :meth:`_open` (runs in the caller's thread, so setup errors raise at
    ``start()``), :meth:`_loop` (the thread body; return when :attr:`_stop_event` is set) and
    :meth:`_close` (releases everything; runs once after the thread ended, also after an error).

    Args:
        name: thread name, for logs.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._state_lock = threading.Lock()
        self._error: BaseException | None = None
        self._opened = False

    @property
    def running(self) -> bool:
        """True while the worker thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def error(self) -> BaseException | None:
        """The exception that stopped the worker thread, if any."""
        return self._error

    def start(self: _W) -> _W:
        """Open resources and start the thread. Raises RuntimeError if already running."""
        with self._state_lock:
            if self.running:
                raise RuntimeError(f"{self._name} is already running")
            self._stop_event.clear()
            self._error = None
            try:
                self._open()
            except BaseException:
                self._close()  # release whatever was acquired before the failure
                raise
            self._opened = True
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            _live_workers.add(self)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, join it and release resources. Safe to call repeatedly.

        Raises:
            The worker's exception when ``COMODO_RAISE=1`` and the worker failed.
        """
        with self._state_lock:
            self._stop_event.set()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
                if thread.is_alive():
                    logger.error("%s did not stop within %.1f s", self._name, timeout)
            if self._opened:
                self._opened = False
                self._close()
            _live_workers.discard(self)
        if self._error is not None and raise_errors():
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:
            logger.exception("%s failed", self._name)
            self._error = exc
            self._stop_event.set()
            if raise_errors():
                raise

    def __enter__(self: _W) -> _W:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _open(self) -> None:
        """Acquire resources (caller's thread)."""

    def _loop(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Release resources (after the thread ended)."""


@atexit.register
def _stop_all() -> None:
    # Daemon threads must not die holding files: stop whatever is still running at exit.
    for worker in list(_live_workers):
        try:
            worker.stop(timeout=2.0)
        except Exception:
            logger.exception("stopping %r at exit failed", worker)

"""Base for the engine's background workers: one object owns one thread.

``start()`` runs :meth:`Worker._open` in the caller's thread (so setup errors raise there) and
starts the thread; idempotent ``stop()`` sets the stop event, joins, then runs
:meth:`Worker._close`. An exception in the thread is logged, stops the worker and is kept in
:attr:`Worker.error` for the front end; with ``COMODO_RAISE=1`` (the tests) ``stop()`` re-raises it.
"""

from __future__ import annotations

import logging
import os
import threading
from types import TracebackType
from typing import TypeVar

logger = logging.getLogger(__name__)

W = TypeVar("W", bound="Worker")


def raise_errors() -> bool:
    """Whether worker errors re-raise (``COMODO_RAISE=1``, set by tests/conftest.py)."""
    return os.environ.get("COMODO_RAISE", "") == "1"


class Worker:
    """One background activity with ``start()``, ``stop()``, ``running`` and ``with`` support.

    Subclasses implement :meth:`_loop` (return soon after :attr:`_stop_event` is set; wait on
    it instead of sleeping) and optionally :meth:`_open` / :meth:`_close`.

    Args:
        name: thread name, used in logs and error messages.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._lifecycle = threading.Lock()
        self._error: BaseException | None = None
        self._opened = False

    @property
    def running(self) -> bool:
        """True while the worker thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def error(self) -> BaseException | None:
        """The exception that stopped the thread, or None."""
        return self._error

    def start(self: W) -> W:
        """Open resources and start the thread (no-op if already running)."""
        with self._lifecycle:
            if self.running:
                return self
            self._stop_event.clear()
            self._error = None
            self._open()
            self._opened = True
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop and join the thread, then release resources; safe to call repeatedly.

        Raises:
            The worker's exception, when ``COMODO_RAISE=1`` and the thread failed.
        """
        with self._lifecycle:
            self._stop_event.set()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout_s)
                if thread.is_alive():
                    logger.error("%s did not stop within %.1f s", self.name, timeout_s)
            if self._opened:
                self._opened = False
                self._close()
        if self._error is not None and raise_errors():
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:
            logger.exception("%s failed", self.name)
            self._error = exc
            self._stop_event.set()

    def _open(self) -> None:
        """Acquire resources (runs in the caller's thread)."""

    def _loop(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Release resources (after the thread ended)."""

    def __enter__(self: W) -> W:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

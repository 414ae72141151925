"""One owner object per background activity: start/stop/running/context manager/error state.

:class:`Worker` owns one thread. ``start()`` runs :meth:`Worker._open` in the caller's thread
(so setup errors raise there; whatever it acquired is released by :meth:`Worker._close`) and
starts the thread; idempotent ``stop()`` sets the stop event, joins, then runs
:meth:`Worker._close` once. An exception in the thread is logged, stops the worker and is kept
in :attr:`Worker.error` for the front end; with ``COMODO_RAISE=1`` (the tests) it also
propagates out of the thread and ``stop()`` re-raises it. Workers still running at interpreter
exit are stopped, so no daemon thread dies holding a file.

:class:`StartStop` is only the ``with`` support, for owners with another lifecycle (a
subprocess, a device callback, several threads).

Torch-free and Qt-free: the engine and ``drivers/`` both build on it.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from types import TracebackType
from typing import TypeVar

logger = logging.getLogger(__name__)

_S = TypeVar("_S", bound="StartStop")
_W = TypeVar("_W", bound="Worker")

_live_workers: weakref.WeakSet[Worker] = weakref.WeakSet()


def raise_errors() -> bool:
    """Whether worker errors re-raise (env ``COMODO_RAISE=1``, set by tests/conftest.py)."""
    return os.environ.get("COMODO_RAISE", "") == "1"


class StartStop:
    """Mixin: ``with owner:`` calls ``owner.start()`` and, on leaving, ``owner.stop()``."""

    def start(self: _S) -> _S:
        raise NotImplementedError

    def stop(self) -> object:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Worker(StartStop):
    """Base class for an object that owns one worker thread.

    Subclasses implement :meth:`_loop` (the thread body; return soon after :attr:`_stop_event`
    is set, and wait on it instead of sleeping) and optionally :meth:`_open` (caller's thread)
    and :meth:`_close` (runs once after the thread ended, also after an error or a failed
    :meth:`_open`).

    Args:
        name: thread name, used in logs and error messages. Also the initial value of the public
            ``name`` attribute, which a subclass may reuse (drivers: the LSL stream name).
    """

    def __init__(self, name: str) -> None:
        self.name = name
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
        """The exception that stopped the worker thread, or None."""
        return self._error

    def start(self: _W) -> _W:
        """Open resources and start the thread.

        Raises:
            RuntimeError: if the worker is already running.
        """
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

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop and join the thread, then release resources; safe to call repeatedly.

        Args:
            timeout_s: longest wait for the thread to end, seconds.

        Raises:
            The worker's exception, when ``COMODO_RAISE=1`` and the thread failed (once).
        """
        with self._state_lock:
            self._stop_event.set()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout_s)
                if thread.is_alive():
                    logger.error("%s did not stop within %.1f s", self._name, timeout_s)
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

    def _open(self) -> None:
        """Acquire resources (runs in the caller's thread)."""

    def _loop(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Release resources (after the thread ended)."""


@atexit.register
def _stop_all() -> None:
    # Daemon threads must not die holding files: stop whatever is still running at exit.
    for worker in list(_live_workers):
        try:
            worker.stop(timeout_s=2.0)
        except Exception:
            logger.exception("stopping %r at exit failed", worker)

"""One owner object per background activity: start/stop/running/context manager/error state.

:class:`Worker` owns one thread. ``start()`` runs :meth:`Worker._open` in the caller's thread
(so setup errors raise there; whatever it acquired is released by :meth:`Worker._close`) and
starts the thread; idempotent ``stop()`` sets the stop event, joins, then runs
:meth:`Worker._close` once. An exception in the thread is logged, stops the worker and is kept
in :attr:`Worker.error` for the front end; with ``COMODO_RAISE=1`` (the tests) it also
propagates out of the thread and ``stop()`` re-raises it. Workers still running at interpreter
exit are stopped, so no daemon thread dies holding a file.

:class:`CommandQueue` is a worker that runs slow commands (finalising a recording, an export,
switching sources) one at a time from a bounded queue: the one owned executor of a front end's
commands.

:class:`StartStop` is only the ``with`` support, for owners with another lifecycle (a
subprocess, a device callback, several threads).

Torch-free and Qt-free: the engine and ``drivers/`` both build on it.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import weakref
from collections.abc import Callable
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
            if self._opened:  # the thread ended by itself: release before opening again
                self._opened = False
                self._close()
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

    def join(self, timeout_s: float | None = None) -> bool:
        """Wait for the thread to end by itself (it is not asked to stop).

        Args:
            timeout_s: longest wait, seconds (None: no limit).

        Returns:
            True when the thread is not running (any more).
        """
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        return not self.running

    @property
    def in_worker_thread(self) -> bool:
        """True when called from this worker's own thread."""
        return self._thread is not None and self._thread is threading.current_thread()

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


Command = Callable[[], object]


class CommandQueue(Worker):
    """Runs slow commands one at a time, in submission order, in one owned thread.

    :meth:`submit` starts the thread when it is not running; :meth:`stop` lets the commands
    already queued finish, then joins (called from inside a command it returns at once: the
    queue cannot join its own thread). A failing command is logged, reported through ``on_error``
    and kept in :attr:`error` (``COMODO_RAISE=1``: :meth:`stop` re-raises it); the commands
    after it still run.

    Args:
        name: thread name.
        on_error: receives ``"<command name> failed: <exception>"``.
        max_pending: commands that may wait at once, >= 1 (more: :meth:`submit` refuses).
    """

    def __init__(
        self,
        name: str,
        on_error: Callable[[str], None] | None = None,
        max_pending: int = 8,
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        super().__init__(name)
        self._on_error = on_error or (lambda message: None)
        self.max_pending = int(max_pending)
        self._pending: queue.Queue[tuple[str, Command]] = queue.Queue(self.max_pending)
        self._submit_lock = threading.Lock()
        self.current: str | None = None  # name of the command running now

    def submit(self, name: str, command: Command) -> None:
        """Queue ``command`` (run later in the queue's thread, started here when needed).

        Raises:
            RuntimeError: ``max_pending`` commands are already waiting.
        """
        with self._submit_lock:
            try:
                self._pending.put_nowait((name, command))
            except queue.Full:
                raise RuntimeError(
                    f"{name} refused: {self.max_pending} slow commands are already waiting"
                ) from None
            if not self.running:
                self.start()

    def stop(self, timeout_s: float = 60.0) -> None:
        """Run the queued commands, then stop and join (see the class doc); idempotent.

        Args:
            timeout_s: longest wait for the queued commands and the thread, seconds.
        """
        if self.in_worker_thread:
            return
        super().stop(timeout_s)

    @property
    def pending(self) -> int:
        """Commands waiting (not counting the one running)."""
        return self._pending.qsize()

    def _loop(self) -> None:
        while True:
            try:
                name, command = self._pending.get(timeout=0.05)
            except queue.Empty:
                if self._stop_event.is_set():
                    return
                continue
            self.current = name
            try:
                command()
            except Exception as exc:
                logger.exception("%s failed", name)
                self._error = self._error or exc  # the first failure is the one re-raised
                self._on_error(f"{name} failed: {exc!r}")
            finally:
                self.current = None

    def _close(self) -> None:
        # Only commands submitted while the queue was stopping are left: say so, run none.
        while True:
            try:
                name, _ = self._pending.get_nowait()
            except queue.Empty:
                return
            self._on_error(f"{name} dropped: the command queue was stopped")


@atexit.register
def _stop_all() -> None:
    # Daemon threads must not die holding files: stop whatever is still running at exit.
    for worker in list(_live_workers):
        try:
            worker.stop(timeout_s=2.0)
        except Exception:
            logger.exception("stopping %r at exit failed", worker)

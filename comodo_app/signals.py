"""SIGINT, SIGTERM and SIGHUP → one idempotent shutdown request, with a hard deadline.

Ctrl+C in a terminal, ``timeout``, systemd and a closed terminal signal the app, often its whole
process group (the recorder child has a group of its own: only the app stops it). The first
signal requests a clean stop: the headless loop, or the window's timer, sees
:attr:`ShutdownSignals.requested` and stops the controller, which closes the video file,
finalises the XDF and writes the last checkpoint. Later signals never interrupt that stop (no
``KeyboardInterrupt`` half-way through); they are counted and answered with a line.

Nothing runs in the signal handler itself (it would interrupt the main thread anywhere, even
inside a ``print``): the C-level handler writes the signal number to a wake-up socket
(:func:`signal.set_wakeup_fd`), read by a watchdog thread. The watchdog says what happens and
enforces the deadline: ``deadline_s`` after the first signal, however many followed, it runs
``emergency`` (e.g. closing the video file) for at most ``EMERGENCY_S`` and ends the process with
``os._exit``; the recorder child then sees its stdin close and still finalises the XDF. More
signals do not shorten the deadline: a clean stop (~5 s) is what finalises everything.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import TextIO

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
DEADLINE_S = 12.0  # the whole stop, from the first signal (the app must exit within 15 s)
EMERGENCY_S = 2.0  # the most the emergency action may take before the forced exit


def _ignore(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing (the watchdog reads the wake-up socket)."""


class ShutdownSignals:
    """Turns stop signals into :attr:`requested`; the watchdog enforces a hard deadline.

    Use in the main thread, around the session::

        with ShutdownSignals(emergency=close_video) as signals:
            while not signals.wait(0.1):
                ...
            controller.stop()

    Args:
        deadline_s: seconds from the first signal to the forced exit, in (0, 600].
        emergency: called (from the watchdog thread) just before a forced exit; should be quick
            and thread-safe. Its errors are ignored.
        out: where the watchdog writes its lines (default: ``sys.stdout``).
    """

    def __init__(
        self,
        deadline_s: float = DEADLINE_S,
        emergency: Callable[[], object] | None = None,
        out: TextIO | None = None,
    ) -> None:
        if not 0 < deadline_s <= 600:
            raise ValueError(f"deadline_s must be in (0, 600] seconds, got {deadline_s}")
        self.deadline_s = float(deadline_s)
        self.emergency = emergency
        self._out = out
        self.signals: list[tuple[float, int]] = []  # (monotonic time, signal number), in order
        self._requested = threading.Event()
        self._closed = threading.Event()
        self._deadline = float("inf")  # monotonic time of the forced exit
        self._previous: dict[int, object] = {}
        self._previous_fd = -1
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._watchdog: threading.Thread | None = None

    # -- state ---------------------------------------------------------------------------
    @property
    def requested(self) -> bool:
        """True once a stop signal arrived (or :meth:`request` was called)."""
        return self._requested.is_set()

    @property
    def signal_name(self) -> str | None:
        """The first signal's name (``"SIGINT"``), or None."""
        return signal.Signals(self.signals[0][1]).name if self.signals else None

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for a stop request; True once requested."""
        return self._requested.wait(timeout_s)

    def request(self) -> None:
        """Request the stop as a signal would, without a deadline (e.g. the window closed)."""
        self._requested.set()

    # -- lifecycle -----------------------------------------------------------------------
    def install(self) -> ShutdownSignals:
        """Take over the stop signals (main thread only) and start the watchdog."""
        if self._watchdog is not None:
            raise RuntimeError("ShutdownSignals is already installed (one use only)")
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach only the main thread: :meth:`request` still works
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {s: signal.signal(s, _ignore) for s in STOP_SIGNALS}
        # A daemon thread: after a signal it must outlive the main thread, so that a stop that
        # hangs at interpreter exit (a worker thread that never joins) still ends at the
        # deadline. It holds no file.
        self._watchdog = threading.Thread(target=self._watch, name="shutdown-watchdog", daemon=True)
        self._watchdog.start()
        return self

    def close(self) -> None:
        """Give the signals back, unless one arrived: then the handlers and the watchdog stay
        until the process exits, so that a further signal still cannot interrupt the exit and
        the deadline still holds. Idempotent."""
        if self._watchdog is None or self._closed.is_set() or self.signals:
            return
        self._closed.set()
        self._watchdog.join(1.0)
        if self.signals:  # one arrived while closing: keep watching
            self._closed.clear()
            return
        signal.set_wakeup_fd(self._previous_fd)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        for sock in (self._reader, self._writer):
            if sock is not None:
                sock.close()

    def finish(self, exit_code: int) -> int:
        """The end of the session: :meth:`close`, and after a signal end the process at once.

        Once the controller has stopped (video closed, XDF finalised, checkpoint written) the
        interpreter's own teardown still takes seconds (torch's alone 2–6 s on a loaded
        2-core machine): after a signal it is skipped, with the logs and stdio flushed.

        Returns:
            ``exit_code`` when no signal arrived (otherwise it does not return).
        """
        self.close()
        if not self.signals:
            return exit_code
        logging.shutdown()  # flushes and closes every log handler
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(exit_code)

    def __enter__(self) -> ShutdownSignals:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- watchdog ------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        out = self._out or sys.stdout
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or terminal (SIGHUP)
            print(text, file=out, flush=True)

    def _watch(self) -> None:
        reader = self._reader
        assert reader is not None
        while not (self._closed.is_set() and not self.signals):
            timeout = min(0.2, max(0.0, self._deadline - time.monotonic()))
            ready, _, _ = select.select([reader], [], [], timeout)
            if ready:
                with contextlib.suppress(BlockingIOError, InterruptedError):
                    for signum in reader.recv(64):
                        self._on_signal(signum)
            if time.monotonic() >= self._deadline:
                self._force_exit()

    def _on_signal(self, signum: int) -> None:
        now = time.monotonic()
        self.signals.append((now, signum))
        name = signal.Signals(signum).name
        if len(self.signals) == 1:
            self._deadline = now + self.deadline_s
            self._say(f"\nsignal {name}: stopping cleanly ...")
            self._requested.set()
            return
        left = max(0.0, self._deadline - now)
        self._say(f"signal {name} again: already stopping (forced exit in {left:.0f} s at most)")

    def _force_exit(self) -> None:
        first = self.signals[0][1] if self.signals else signal.SIGTERM
        self._say("the stop did not finish in time: forcing the exit (the XDF is still finalised)")
        if self.emergency is not None:
            helper = threading.Thread(target=self._run_emergency, name="shutdown-emergency")
            helper.daemon = True  # bounded below: it must not keep a hung process alive
            helper.start()
            helper.join(EMERGENCY_S)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(128 + int(first))

    def _run_emergency(self) -> None:
        with contextlib.suppress(Exception):
            assert self.emergency is not None
            self.emergency()


def close_video_of(controller: object) -> Callable[[], None]:
    """An ``emergency`` for a session controller: close its video file (the XDF needs none)."""

    def close_video() -> None:
        sources = getattr(controller, "sources", None)  # None once the controller is torn down
        if sources is not None:
            sources.stop_video_file()

    return close_video

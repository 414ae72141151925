"""Desktop entry point: ``run(controller, config)`` shows the window until it is closed.

Called by :mod:`comodo_app.cli` for the non-headless mode (``python app.py --demo``).
"""

from __future__ import annotations

import logging
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from comodo_live.worker import raise_errors
from gui.controller_protocol import Controller
from gui.main_window import MainWindow

log = logging.getLogger(__name__)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_POLL_MS = 200  # how often the event loop looks for a stop request (and lets Python run)

# The process's one QApplication, kept for the process's lifetime. A local one would be destroyed
# when run() returns, before its widgets (the window is kept alive by its timer's slot): a
# QApplication destroyed under live widgets is undefined behaviour in Qt.
_application: list[QApplication] = []


def application() -> QApplication:
    """The process's QApplication (the existing one, e.g. pytest-qt's, or a new one kept)."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    _application[:] = [QApplication(sys.argv[:1])]
    return _application[0]


def run(
    controller: Controller,
    duration_s: float | None = None,
    stop_requested: Callable[[], bool] | None = None,
    warnings: Sequence[str] = (),
) -> int:
    """Open the window on ``controller``, start it, and run the Qt event loop.

    Closing the window (or a stop signal, or ``duration_s`` elapsing) stops the polling, then
    the controller (which finalises the recording): everything stops in reverse order of start.

    Args:
        controller: the engine controller (not yet started, or already running).
        duration_s: close the window after this many seconds (None: run until closed).
        stop_requested: polled every 200 ms; True closes the window (the app passes its
            :class:`comodo_app.signals.ShutdownSignals`, which owns the signals). None: SIGINT,
            SIGTERM and SIGHUP close the window here (any number of them: one close), and
            their handlers are given back on return.
        warnings: start-up warnings of the app (e.g. ``--lsl-lan``: streams visible on the LAN),
            shown in the window's log pane and status bar, not only on stderr.

    Returns:
        The process exit code: 0 on a normal close, 1 if the engine failed to start (the window
        still opens, with the error in its status bar and log, so a replay can be opened).
    """
    if duration_s is not None and duration_s <= 0:
        raise ValueError(f"duration_s must be > 0 s or None, got {duration_s}")
    app = application()
    app.setApplicationName("comodo-live")
    window = MainWindow(controller)
    for warning in warnings:
        window.log_pane.log("warning", warning)
        window.status_bar.showMessage(f"warning: {warning}")

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        # A bug in a slot is reported in the window instead of aborting the process.
        log.error(
            "unhandled exception in the GUI:\n%s",
            "".join(traceback.format_exception(kind, exc, tb)),
        )
        window.report_error(f"internal error: {exc!r}")

    previous_hook = sys.excepthook
    sys.excepthook = excepthook
    signalled: list[int] = []  # the handler only notes; the timer closes (never re-entrant)
    previous: dict[int, Any] = {}
    if stop_requested is None:
        previous = {
            s: signal.signal(s, lambda signum, _: signalled.append(signum)) for s in STOP_SIGNALS
        }
    should_stop = stop_requested if stop_requested is not None else (lambda: bool(signalled))
    closing: list[bool] = []

    def poll_stop() -> None:  # the timer also lets Python run its signal handlers while Qt waits
        if should_stop() and not closing:
            closing.append(True)
            window.close()

    wake = QTimer(window)
    wake.timeout.connect(poll_stop)
    wake.start(STOP_POLL_MS)
    try:
        started = _start(controller, window)
        window.show()
        if duration_s is not None:
            QTimer.singleShot(round(duration_s * 1000), window.close)
        code = app.exec()
    finally:
        wake.stop()
        window.shutdown()  # no-op if already closed; stops polling and the controller otherwise
        window.close()
        controller.stop()  # idempotent
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.excepthook = previous_hook
        # Destroy the window (plots, panels, the wake timer and its slot) now, in the GUI thread,
        # while the QApplication lives. Left to Python it is never freed (the timer's slot refers
        # back to it), or is freed by the cyclic garbage collector in whichever thread runs it.
        # The Python object keeps its plain attributes (e.g. ``log_pane.lines``).
        sip.delete(window)
    return int(code) if started else 1


def _start(controller: Controller, window: MainWindow) -> bool:
    """Start the engine; a failure is shown in the window (which stays usable), not raised."""
    if controller.running:
        return True
    t0 = time.monotonic()
    try:
        controller.start()
    except Exception as exc:
        if raise_errors():
            raise
        log.error("the engine failed to start: %r", exc)
        window.report_error(
            f"the engine failed to start: {exc} — open a recording to replay it, or close the window"
        )
        return False
    log.info("engine started in %.1f s", time.monotonic() - t0)
    return True

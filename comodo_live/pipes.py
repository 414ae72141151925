"""Command-line tools piped into ``head`` & co.: stop quietly when the reader goes away."""

from __future__ import annotations

import os
import sys

SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for a tool stopped by a closed pipe


def quiet_broken_pipe() -> int:
    """Call on ``BrokenPipeError``: points stdout at the null device so the interpreter's final
    flush cannot raise again, and returns the exit status to use (141)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout already closed or not a real file
        pass
    return SIGPIPE_EXIT

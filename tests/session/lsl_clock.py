"""Test publishers' shared push loop: samples on a regular clock, however late the thread wakes."""

from __future__ import annotations

import threading
from collections.abc import Callable

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import numpy as np
import pylsl


def push_on_a_regular_clock(
    stop: threading.Event, rate_hz: float, push: Callable[[np.ndarray], None]
) -> None:
    """Until ``stop``, every 50 ms call ``push((k,) LSL time stamps)`` with the samples now due
    at ``rate_hz`` (stamping each chunk "now" leaves holes on a loaded machine, which a reader
    rightly reports as gaps)."""
    sent, start = 0, pylsl.local_clock()
    while not stop.wait(0.05):
        due = int((pylsl.local_clock() - start) * rate_hz)
        if due > sent:
            push(start + np.arange(sent, due) / rate_hz)
            sent = due

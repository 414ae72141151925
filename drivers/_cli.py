"""Shared bits of the drivers' command lines."""

from __future__ import annotations

import time
from typing import Any, Protocol


class _Driver(Protocol):
    """A start/stop owner with ``with`` support and a ``running`` flag."""

    @property
    def running(self) -> bool: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: Any) -> Any: ...


def run_for(driver: _Driver, duration_s: float) -> None:
    """Start ``driver``, keep it running ``duration_s`` s (0: until Ctrl-C or it ends), stop it.

    Args:
        driver: a start/stop owner with a ``running`` property.
        duration_s: how long to run, seconds; ``<= 0`` means until Ctrl-C.
    """
    deadline = time.monotonic() + duration_s if duration_s > 0 else float("inf")
    with driver:
        try:
            while driver.running and time.monotonic() < deadline:
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass

"""Small typed helpers over PyQt6 accessors that its stubs declare as ``X | None``."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None, what: str) -> T:
    """``value``, which Qt returns as possibly None (``statusBar()``, ``table.item(r, c)``, ...).

    Raises:
        RuntimeError: Qt returned None for ``what`` (the widget was not built as expected).
    """
    if value is None:
        raise RuntimeError(f"Qt returned no {what}")
    return value

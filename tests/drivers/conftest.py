"""LSL helpers for driver tests: inlets resolved by unique source_id, pulled until a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
import pylsl
import pytest

import comodo_live  # noqa: F401  (LSLAPICFG before pylsl)
from tests.drivers.pulse import pulse_null_sink  # noqa: F401  (fixture)

InletFactory = Callable[..., pylsl.StreamInlet]


@pytest.fixture
def open_inlet() -> Iterator[InletFactory]:
    """``open_inlet(source_id, stream_type=None)`` → an opened inlet; closed after the test."""
    inlets: list[pylsl.StreamInlet] = []

    def factory(
        source_id: str, stream_type: str | None = None, timeout: float = 5.0
    ) -> pylsl.StreamInlet:
        predicate = f"source_id='{source_id}'" + (
            f" and type='{stream_type}'" if stream_type else ""
        )
        found = pylsl.resolve_bypred(predicate, 1, timeout)
        assert found, f"no LSL stream matching {predicate} within {timeout} s"
        inlet = pylsl.StreamInlet(found[0], max_buflen=60)
        inlet.open_stream(timeout)
        inlets.append(inlet)
        return inlet

    yield factory
    for inlet in inlets:
        inlet.close_stream()


def pull_for(
    inlet: pylsl.StreamInlet, seconds: float, min_samples: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Pull everything for ``seconds`` (or until ``min_samples`` arrived). Returns (values, stamps)."""
    values: list = []
    stamps: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (not min_samples or len(stamps) < min_samples):
        chunk, ts = inlet.pull_chunk(timeout=0.05, max_samples=100000)
        values.extend(chunk)
        stamps.extend(ts)
    return np.asarray(values), np.asarray(stamps)


def no_stream(predicate: str, timeout: float = 1.0) -> bool:
    """True if no LSL stream matches ``predicate`` within ``timeout`` s."""
    return not pylsl.resolve_bypred(predicate, 0, timeout)

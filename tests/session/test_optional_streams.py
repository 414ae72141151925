"""LateStreams: optional streams found when they appear; ambiguous ones reported, not followed."""

from __future__ import annotations

import threading
from typing import Any

import pylsl
import pytest

from comodo_live.session.optional_streams import LateStreams, OptionalStream, find_now
from comodo_live.streams.resolve import AmbiguousStreamError
from comodo_live.streams.spec import StreamSpec

from .conftest import wait_for

pytestmark = pytest.mark.lsl


def _markers(name: str, source_id: str) -> pylsl.StreamOutlet:
    return pylsl.StreamOutlet(pylsl.StreamInfo(name, "Markers", 1, 0, "string", source_id))


def test_find_now__absent_is_none_ambiguous_raises(source_id: str) -> None:
    wanted = OptionalStream(
        "markers1", StreamSpec(name=f"M-{source_id}"), "session.marker_source_ids"
    )
    assert find_now(wanted, timeout_s=0.2) is None
    outlets = [_markers(f"M-{source_id}", f"{source_id}-{i}") for i in range(2)]
    with pytest.raises(AmbiguousStreamError, match=f"source_id='{source_id}-1'"):
        find_now(wanted, timeout_s=2.0)
    del outlets


def test_late_streams__joins_late_reports_ambiguous(source_id: str) -> None:
    late = OptionalStream("markers1", StreamSpec(source_id=source_id), "session.marker_source_ids")
    twins = OptionalStream(
        "markers2", StreamSpec(name=f"T-{source_id}"), "session.marker_source_ids"
    )
    found: list[tuple[str, str]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def on_found(stream: OptionalStream, info: Any) -> None:
        with lock:
            found.append((stream.key, info.source_id()))

    outlets = [_markers(f"T-{source_id}", f"{source_id}-t{i}") for i in range(2)]
    with LateStreams([late, twins], on_found, errors.append) as worker:
        assert wait_for(lambda: len(errors) == 1, timeout_s=10.0)
        assert "2 LSL streams match" in errors[0] and "not following it" in errors[0]
        assert found == [] and worker.missing == [late]
        outlet = _markers("Late", source_id)
        assert wait_for(lambda: found == [("markers1", source_id)], timeout_s=10.0)
        assert wait_for(lambda: not worker.running, timeout_s=5.0)  # nothing left to look for
    del outlets, outlet

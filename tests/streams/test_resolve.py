from __future__ import annotations

import time

import pylsl
import pytest

from comodo_live.streams.resolve import (
    StreamDiscovery,
    StreamNotFoundError,
    discover_streams,
    resolve_source_ids,
    resolve_stream,
)
from tests.streams.lsl_helpers import wait_for


@pytest.fixture
def outlet(source_id: str) -> pylsl.StreamOutlet:
    info = pylsl.StreamInfo(f"Probe-{source_id}", "IMU", 6, 100.0, "float32", source_id)
    return pylsl.StreamOutlet(info)


def test_resolve_stream__by_source_id(outlet: pylsl.StreamOutlet, source_id: str) -> None:
    info = resolve_stream(source_id=source_id, timeout_s=5.0)
    assert info.source_id() == source_id
    assert info.channel_count() == 6


def test_resolve_stream__by_several_properties(outlet: pylsl.StreamOutlet, source_id: str) -> None:
    info = resolve_stream(type="IMU", name=f"Probe-{source_id}", timeout_s=5.0)
    assert info.source_id() == source_id


def test_resolve_stream__error_lists_visible_streams(
    outlet: pylsl.StreamOutlet, source_id: str
) -> None:
    with pytest.raises(StreamNotFoundError) as excinfo:
        resolve_stream(source_id=f"{source_id}-absent", timeout_s=0.3, discover_s=0.5)
    message = str(excinfo.value)
    assert f"source_id='{source_id}-absent'" in message
    assert f"'Probe-{source_id}' (type='IMU', source_id='{source_id}')" in message


def test_resolve_stream__rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one"):
        resolve_stream()
    with pytest.raises(ValueError, match="timeout_s"):
        resolve_stream(source_id="x", timeout_s=0)
    with pytest.raises(ValueError, match="single quote"):
        resolve_stream(type="IMU", name="it's")


def test_discover_streams__lists_a_new_outlet(outlet: pylsl.StreamOutlet, source_id: str) -> None:
    found = {d.source_id: d for d in discover_streams(wait_s=0.5)}
    assert source_id in found
    description = found[source_id]
    assert (description.type, description.channel_count) == ("IMU", 6)
    assert (description.nominal_srate, description.channel_format) == (100.0, "float32")


def test_stream_discovery__sees_a_stream_without_blocking(
    outlet: pylsl.StreamOutlet, source_id: str
) -> None:
    with StreamDiscovery() as discovery:
        assert wait_for(lambda: source_id in {d.source_id for d in discovery.streams()})
        start = time.perf_counter()
        discovery.streams()
        assert time.perf_counter() - start < 0.1
    assert discovery.streams() == []


def test_resolve_source_ids__in_order_and_lists_missing(source_id: str) -> None:
    outlets = [
        pylsl.StreamOutlet(pylsl.StreamInfo(f"S{i}", "IMU", 1, 10.0, "float32", f"{source_id}-{i}"))
        for i in range(3)
    ]
    wanted = [f"{source_id}-2", f"{source_id}-0", f"{source_id}-1"]
    assert [i.source_id() for i in resolve_source_ids(wanted, timeout_s=5.0)] == wanted
    with pytest.raises(StreamNotFoundError, match=f"'{source_id}-9'"):
        resolve_source_ids([f"{source_id}-0", f"{source_id}-9"], timeout_s=0.3)
    del outlets

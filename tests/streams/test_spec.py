"""Stream specs as users write them: a source_id, or name / type / hostname."""

from __future__ import annotations

import pylsl
import pytest

from comodo_live.streams.resolve import AmbiguousStreamError, StreamNotFoundError, resolve_spec
from comodo_live.streams.spec import StreamSpec, parse_stream_spec


def test_parse_stream_spec__plain_text_is_a_source_id() -> None:
    assert parse_stream_spec(" my-imu ") == StreamSpec(source_id="my-imu")


def test_parse_stream_spec__key_value_pairs() -> None:
    spec = parse_stream_spec("type=IMU, name=My IMU,hostname=lab-pc")
    assert spec == StreamSpec(name="My IMU", type="IMU", hostname="lab-pc")
    assert spec.predicate == "name='My IMU' and type='IMU' and hostname='lab-pc'"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "give a source_id"),
        ("colour=red", "keys"),
        ("type=", "keys"),
        ("type=IMU,type=EEG", "twice"),
        ("name=it's", "quotes"),
    ],
)
def test_parse_stream_spec__refuses_bad_text(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as excinfo:
        parse_stream_spec(text, "imu.source")
    assert "imu.source" in str(excinfo.value)


def _outlet(name: str, type_: str, source_id: str) -> pylsl.StreamOutlet:
    return pylsl.StreamOutlet(pylsl.StreamInfo(name, type_, 1, 10.0, "float32", source_id))


@pytest.mark.lsl
def test_resolve_spec__by_name_and_type(source_id: str) -> None:
    outlet = _outlet(f"Imu-{source_id}", "IMU", source_id)
    info = resolve_spec(f"type=IMU,name=Imu-{source_id}", timeout_s=5.0, unique_wait_s=0.3)
    assert info.source_id() == source_id
    assert resolve_spec(source_id, timeout_s=5.0).source_id() == source_id  # the old form
    del outlet


@pytest.mark.lsl
def test_resolve_spec__refuses_an_ambiguous_match_listing_the_candidates(source_id: str) -> None:
    outlets = [_outlet(f"Twin-{source_id}", "IMU", f"{source_id}-{i}") for i in range(2)]
    with pytest.raises(AmbiguousStreamError) as excinfo:
        resolve_spec(f"name=Twin-{source_id}", timeout_s=5.0, unique_wait_s=2.0, what="imu.source")
    message = str(excinfo.value)
    assert "imu.source: 2 LSL streams match" in message
    for i in range(2):
        assert f"source_id='{source_id}-{i}'" in message
    assert "on host" in message and "source_id=..." in message
    del outlets


@pytest.mark.lsl
def test_resolve_spec__names_what_is_missing(source_id: str) -> None:
    with pytest.raises(StreamNotFoundError, match=f"name=absent-{source_id}"):
        resolve_spec(f"name=absent-{source_id},type=IMU", timeout_s=0.3)

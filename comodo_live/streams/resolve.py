"""Find LSL streams by type / name / source_id, with errors that list what was found.

Other programs on the same machine may publish streams too: resolve by a unique ``source_id``
wherever possible, never "the first IMU stream".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pylsl

from comodo_live.streams.spec import StreamSpec, parse_stream_spec


class StreamNotFoundError(LookupError):
    """No (or no unique) LSL stream matched; the message lists the streams that were visible."""


class AmbiguousStreamError(StreamNotFoundError):
    """Several LSL streams matched; the message lists each candidate's name, type, source_id
    and hostname."""


@dataclass(frozen=True)
class StreamDescription:
    """What the GUI's stream picker shows about one visible stream.

    Attributes:
        name: stream name.
        type: LSL content type (e.g. ``"IMU"``).
        source_id: the publisher's source id (may be empty for foreign tools).
        channel_count: channels per sample.
        nominal_srate: nominal rate in Hz (0 for irregular streams).
        channel_format: ``"float32"``, ``"string"``, ...
        hostname: machine that publishes the stream.
        uid: unique id of this outlet instance.
    """

    name: str
    type: str
    source_id: str
    channel_count: int
    nominal_srate: float
    channel_format: str
    hostname: str
    uid: str

    @classmethod
    def from_info(cls, info: pylsl.StreamInfo) -> StreamDescription:
        fmt = info.channel_format()
        return cls(
            name=info.name(),
            type=info.type(),
            source_id=info.source_id(),
            channel_count=info.channel_count(),
            nominal_srate=info.nominal_srate(),
            channel_format=CHANNEL_FORMAT_NAMES.get(fmt, str(fmt)),
            hostname=info.hostname(),
            uid=info.uid(),
        )

    def __str__(self) -> str:
        return f"{self.name!r} (type={self.type!r}, source_id={self.source_id!r})"


CHANNEL_FORMAT_NAMES: dict[int, str] = {
    pylsl.cf_float32: "float32",
    pylsl.cf_double64: "double64",
    pylsl.cf_string: "string",
    pylsl.cf_int32: "int32",
    pylsl.cf_int16: "int16",
    pylsl.cf_int8: "int8",
    pylsl.cf_int64: "int64",
}
CHANNEL_FORMATS: dict[str, int] = {v: k for k, v in CHANNEL_FORMAT_NAMES.items()}
CHANNEL_FORMATS["double"] = pylsl.cf_double64  # the spelling some XDF writers use


def discover_streams(wait_s: float = 1.0) -> list[StreamDescription]:
    """Every LSL stream visible within ``wait_s`` seconds (always waits the full time).

    Returns:
        Descriptions sorted by type, name and source_id.
    """
    if not (wait_s > 0 and math.isfinite(wait_s)):
        raise ValueError(f"wait_s must be finite and > 0, got {wait_s}")
    found = [StreamDescription.from_info(i) for i in pylsl.resolve_streams(wait_time=wait_s)]
    return sorted(found, key=lambda d: (d.type, d.name, d.source_id))


def _quote(value: str) -> str:
    if "'" in value:
        raise ValueError(f"stream properties must not contain a single quote, got {value!r}")
    return f"'{value}'"


def resolve_stream(
    type: str | None = None,
    name: str | None = None,
    source_id: str | None = None,
    timeout_s: float = 5.0,
    discover_s: float = 0.5,
) -> pylsl.StreamInfo:
    """The one stream matching all given properties.

    Args:
        type: LSL content type, e.g. ``"IMU"``.
        name: stream name.
        source_id: unique source id (preferred).
        timeout_s: how long to wait for a match, seconds (> 0).
        discover_s: on failure, how long to look for other streams to list in the error.

    Raises:
        ValueError: no property given, or a bad timeout.
        StreamNotFoundError: no match within ``timeout_s``, or several matches; the message
            lists every visible stream's name, type and source_id.
    """
    if not (timeout_s > 0 and math.isfinite(timeout_s)):
        raise ValueError(f"timeout_s must be finite and > 0, got {timeout_s}")
    props = {k: v for k, v in (("type", type), ("name", name), ("source_id", source_id)) if v}
    if not props:
        raise ValueError("give at least one of type, name, source_id")
    if len(props) == 1:
        ((key, value),) = props.items()
        infos = pylsl.resolve_byprop(key, value, minimum=1, timeout=timeout_s)
    else:
        predicate = " and ".join(f"{k}={_quote(v)}" for k, v in props.items())
        infos = pylsl.resolve_bypred(predicate, minimum=1, timeout=timeout_s)
    wanted = ", ".join(f"{k}={v!r}" for k, v in props.items())
    if len(infos) == 1:
        return infos[0]
    if len(infos) > 1:
        # resolve returns once the minimum is met; others may still be arriving, but 2 is enough.
        listed = "; ".join(str(StreamDescription.from_info(i)) for i in infos)
        raise StreamNotFoundError(
            f"several LSL streams match {wanted}: {listed}; select one by source_id"
        )
    visible = discover_streams(discover_s)
    listed = "; ".join(str(d) for d in visible) if visible else "none"
    raise StreamNotFoundError(
        f"no LSL stream with {wanted} found within {timeout_s} s; visible streams: {listed}"
    )


def _candidates(infos: list[pylsl.StreamInfo]) -> str:
    descriptions = sorted(
        (StreamDescription.from_info(i) for i in infos),
        key=lambda d: (d.hostname, d.source_id, d.uid),
    )
    return "; ".join(f"{d} on host {d.hostname!r}" for d in descriptions)


def ambiguous(spec: StreamSpec, matches: list[pylsl.StreamInfo], what: str) -> AmbiguousStreamError:
    """The error for several ``matches`` of ``spec``, listing each candidate."""
    return AmbiguousStreamError(
        f"{what}: {len(matches)} LSL streams match {spec}: {_candidates(matches)}; "
        "name one by adding source_id=... (or hostname=...)"
    )


def matching_streams(
    spec: StreamSpec, timeout_s: float = 5.0, unique_wait_s: float = 1.5
) -> list[pylsl.StreamInfo]:
    """Every stream matching ``spec`` (one per outlet); empty when none appeared in time.

    A source_id alone is trusted to be unique: one query, returning at the first match. Other
    specs are looked up twice: until a first match, then ``unique_wait_s`` more for a second
    one (resolving returns as soon as its minimum is met; others may still be arriving).
    """
    if list(spec.properties) == ["source_id"]:
        return list(pylsl.resolve_byprop("source_id", spec.source_id, minimum=1, timeout=timeout_s))
    infos = pylsl.resolve_bypred(spec.predicate, minimum=1, timeout=timeout_s)
    if not infos:
        return []
    more = pylsl.resolve_bypred(spec.predicate, minimum=2, timeout=unique_wait_s)
    return list({i.uid(): i for i in [*infos, *more]}.values())


def resolve_spec(
    spec: StreamSpec | str,
    timeout_s: float = 5.0,
    unique_wait_s: float = 1.5,
    what: str = "stream",
) -> pylsl.StreamInfo:
    """The one stream a user named by source_id, or by name / type / hostname.

    Two IMUs both called "IMU" are refused rather than one picked at random
    (:func:`matching_streams` looks ``unique_wait_s`` longer for a second match).

    Args:
        spec: a :class:`StreamSpec`, or its text (``"SOURCE_ID"`` / ``"type=IMU,name=X"``).
        timeout_s: how long to wait for a first match, seconds (> 0).
        unique_wait_s: how long to look for a second match, seconds (> 0).
        what: the setting the spec came from, for messages (e.g. ``"imu.source"``).

    Raises:
        ValueError: a malformed spec or timeout.
        AmbiguousStreamError: several streams match (each listed with its hostname).
        StreamNotFoundError: nothing matched within ``timeout_s`` (visible streams listed).
    """
    if isinstance(spec, str):
        spec = parse_stream_spec(spec, what)
    for arg, value in (("timeout_s", timeout_s), ("unique_wait_s", unique_wait_s)):
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{arg} must be finite and > 0 seconds, got {value}")
    matches = matching_streams(spec, timeout_s, unique_wait_s)
    if len(matches) > 1:
        raise ambiguous(spec, matches, what)
    if not matches:
        visible = "; ".join(str(d) for d in discover_streams(0.5)) or "none"
        raise StreamNotFoundError(
            f"{what}: no LSL stream with {spec} found within {timeout_s} s; "
            f"visible streams: {visible}"
        )
    return matches[0]


def resolve_source_ids(source_ids: list[str], timeout_s: float = 5.0) -> list[pylsl.StreamInfo]:
    """One stream per source_id, in the given order, resolved in a single LSL query.

    Raises:
        StreamNotFoundError: some source_id was not found (the message lists what was visible).
    """
    if not source_ids:
        return []
    if len(set(source_ids)) != len(source_ids):
        raise ValueError(f"source_ids must be distinct, got {source_ids}")
    if len(source_ids) == 1:
        return [resolve_stream(source_id=source_ids[0], timeout_s=timeout_s)]
    predicate = " or ".join(f"source_id={_quote(s)}" for s in source_ids)
    infos = pylsl.resolve_bypred(predicate, minimum=len(source_ids), timeout=timeout_s)
    found = {i.source_id(): i for i in infos}
    missing = [s for s in source_ids if s not in found]
    if missing:
        visible = "; ".join(str(d) for d in discover_streams(0.5)) or "none"
        raise StreamNotFoundError(
            f"no LSL stream with source_id {missing} within {timeout_s} s; visible streams: {visible}"
        )
    return [found[s] for s in source_ids]


class StreamDiscovery:
    """Keeps a live list of visible streams for the GUI's picker; :meth:`streams` never blocks.

    A background liblsl resolver (no Python thread) keeps listening; a stream that disappears is
    dropped after ``forget_after_s``. Use as a context manager or call :meth:`close`.

    Args:
        forget_after_s: seconds after which a silent stream leaves the list.
    """

    def __init__(self, forget_after_s: float = 5.0) -> None:
        if not (forget_after_s > 0 and math.isfinite(forget_after_s)):
            raise ValueError(f"forget_after_s must be finite and > 0, got {forget_after_s}")
        self._resolver: pylsl.ContinuousResolver | None = pylsl.ContinuousResolver(
            forget_after=forget_after_s
        )

    def streams(self) -> list[StreamDescription]:
        """Streams seen so far (sorted by type, name, source_id); empty after :meth:`close`."""
        if self._resolver is None:
            return []
        found = [StreamDescription.from_info(i) for i in self._resolver.results()]
        return sorted(found, key=lambda d: (d.type, d.name, d.source_id))

    def close(self) -> None:
        self._resolver = None

    def __enter__(self) -> StreamDiscovery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

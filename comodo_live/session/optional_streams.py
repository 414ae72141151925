"""Required and optional streams of a session, named as LabRecorder users name them.

The IMU (and the session's own camera and marker streams) are required: the session does not
start without them. Other lab software's marker streams and the microphone are optional: one
that is not there at start is looked for again in the background (:class:`LateStreams`) and
joins the running session when it appears, as LabRecorder adds late streams.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pylsl

from comodo_live.streams.resolve import ambiguous, matching_streams, resolve_spec
from comodo_live.streams.spec import StreamSpec, parse_stream_spec
from comodo_live.worker import Worker

logger = logging.getLogger(__name__)

LOOK_EVERY_S = 0.25  # how often the watched streams' resolvers are read
CONFIRM_S = 1.5  # a stream found by name/type must be seen this long alone: twins are refused


def resolve_imu_ids(text: str, timeout_s: float, what: str = "imu.source") -> str:
    """The IMU's ``"ID"`` / ``"ACC_ID+GYRO_ID"`` with every part given as a spec resolved.

    A part written as a source_id is returned as is (the IMU door resolves it); a part such as
    ``type=IMU,name=MyIMU`` is resolved here, and refused when ambiguous.

    Raises:
        ValueError: a malformed spec; LookupError: not found, ambiguous, or found without a
            source_id (it could not be followed reliably).
    """
    ids = []
    for part in text.split("+"):
        spec = parse_stream_spec(part, what)
        if list(spec.properties) == ["source_id"]:
            ids.append(spec.source_id)
            continue
        info = resolve_spec(spec, timeout_s, what=what)
        if not info.source_id():
            raise LookupError(
                f"{what}: the stream matching {spec} ({info.name()!r} on {info.hostname()!r}) "
                "has no source_id; give its publisher one, or select it by another stream"
            )
        ids.append(info.source_id())
    return "+".join(ids)


@dataclass(frozen=True)
class OptionalStream:
    """An optional stream the session follows when it is there.

    Attributes:
        key: the reader's role in the session (``"markers1"``, ``"audio"``).
        spec: which stream (source_id, or name / type / hostname).
        what: the setting it came from (``"session.marker_source_ids"``), for messages.
    """

    key: str
    spec: StreamSpec
    what: str


def find_now(stream: OptionalStream, timeout_s: float) -> pylsl.StreamInfo | None:
    """The stream if it is there within ``timeout_s`` (None: not yet).

    Raises:
        AmbiguousStreamError: several streams match (the candidates are listed).
    """
    matches = matching_streams(stream.spec, timeout_s, unique_wait_s=CONFIRM_S)
    if len(matches) > 1:
        raise ambiguous(stream.spec, matches, stream.what)
    return matches[0] if matches else None


class _Watch:
    """One missing stream: a liblsl continuous resolver (no Python thread) on its predicate."""

    def __init__(self, stream: OptionalStream) -> None:
        self.stream = stream
        self.resolver = pylsl.ContinuousResolver(pred=stream.spec.predicate, forget_after=5.0)
        self.first_seen: float | None = None

    def decide(self, now: float) -> list[pylsl.StreamInfo] | None:
        """The matches once settled (a source_id at once; other specs after seen for
        :data:`CONFIRM_S`, so that a twin is noticed), else None."""
        matches = list({i.uid(): i for i in self.resolver.results()}.values())
        if not matches:
            self.first_seen = None
            return None
        if list(self.stream.spec.properties) == ["source_id"]:
            return matches
        if self.first_seen is None:
            self.first_seen = now
        return matches if now - self.first_seen >= CONFIRM_S else None


class LateStreams(Worker):
    """Watches for missing optional streams; hands each one that appears to ``on_found`` (in this
    worker's thread) and forgets it. Ends when none is missing.

    Args:
        missing: the optional streams not found at start.
        on_found: ``(stream, info)`` for each that appeared; it opens the reader.
        on_error: text of a problem that ends the search for one stream (ambiguous match, a
            reader that failed to open).
    """

    def __init__(
        self,
        missing: list[OptionalStream],
        on_found: Callable[[OptionalStream, pylsl.StreamInfo], None],
        on_error: Callable[[str], None],
    ) -> None:
        super().__init__("late-streams")
        self._missing = list(missing)
        self._lock = threading.Lock()
        self._on_found = on_found
        self._on_error = on_error

    @property
    def missing(self) -> list[OptionalStream]:
        """The optional streams still looked for (a copy)."""
        with self._lock:
            return list(self._missing)

    def _forget(self, stream: OptionalStream) -> None:
        with self._lock:
            self._missing.remove(stream)

    def _loop(self) -> None:
        watches = [_Watch(s) for s in self.missing]
        while watches and not self._stop_event.wait(LOOK_EVERY_S):
            for watch in list(watches):
                matches = watch.decide(time.monotonic())
                if matches is None:
                    continue
                watches.remove(watch)
                stream = watch.stream
                try:
                    if len(matches) > 1:
                        self._on_error(
                            f"{ambiguous(stream.spec, matches, stream.what)}; not following it"
                        )
                    else:
                        self._on_found(stream, matches[0])
                except Exception as exc:  # a reader that fails to open: say so, keep going
                    self._on_error(f"{stream.what} = {stream.spec}: could not join: {exc!r}")
                finally:
                    self._forget(stream)

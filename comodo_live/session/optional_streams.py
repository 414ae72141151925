"""Required and optional streams of a session, named as LabRecorder users name them.

The IMU (and the session's own camera and marker streams) are required: the session does not
start without them. Other lab software's marker streams and the microphone are optional: one
that is not there at start is looked for again in the background (:class:`LateStreams`) and
joins the running session when it appears, as LabRecorder adds late streams.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pylsl

from comodo_live.streams.resolve import AmbiguousStreamError, matching_streams, resolve_spec
from comodo_live.streams.spec import StreamSpec, parse_stream_spec
from comodo_live.worker import Worker

logger = logging.getLogger(__name__)

LOOK_EVERY_S = 1.0  # how often a missing optional stream is looked for again


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
    matches = matching_streams(stream.spec, timeout_s, unique_wait_s=min(timeout_s, 1.0))
    if len(matches) > 1:
        return resolve_spec(stream.spec, timeout_s, what=stream.what)  # raises, listing them
    return matches[0] if matches else None


class LateStreams(Worker):
    """Looks for missing optional streams every :data:`LOOK_EVERY_S`; hands each one found to
    ``on_found`` (in this worker's thread) and forgets it. Ends when none is missing.

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
        while not self._stop_event.is_set() and self.missing:
            for stream in self.missing:
                if self._stop_event.is_set():
                    return
                try:
                    info = find_now(stream, timeout_s=0.5)
                except AmbiguousStreamError as exc:
                    self._forget(stream)
                    self._on_error(f"{exc}; not following it")
                    continue
                if info is None:
                    continue
                try:
                    self._on_found(stream, info)
                except Exception as exc:  # a reader that fails to open: say so, keep going
                    self._on_error(f"{stream.what} = {stream.spec}: could not join: {exc!r}")
                finally:
                    self._forget(stream)
            self._stop_event.wait(LOOK_EVERY_S)

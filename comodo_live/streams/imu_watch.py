"""Notice an IMU stream that came back on LSL with other channels, instead of a silent stall.

liblsl's inlet reconnects to a lost stream that comes back under the same source_id, but one
that comes back with another channel count is never picked up: the reader just stops getting
data. :class:`ImuChannelWatch` looks, while an IMU reader has had no data for ``stale_s``, at
what LSL offers under its source_id (a background :class:`pylsl.ContinuousResolver`, so a check
never blocks) and names a stream whose channel count differs from the one the session reads
(:func:`comodo_live.units.stream_count_message`). The session keeps running; the stream's data
is not used (no windows, so nothing is learned) until a session is started on it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pylsl

from comodo_live.records import IMU_CHANNELS
from comodo_live.streams.reader import StreamReader
from comodo_live.units import stream_count_message, stream_label

STALE_S = 2.0  # an IMU reader without data this long: look at what LSL offers under its id
ROLE_CHANNELS = {
    "imu": IMU_CHANNELS,
    "imu-accel": IMU_CHANNELS[:3],
    "imu-gyro": IMU_CHANNELS[3:],
}


def _resolver(source_id: str) -> Any:
    return pylsl.ContinuousResolver(prop="source_id", value=source_id, forget_after=5.0)


class ImuChannelWatch:
    """Names IMU streams that came back with a channel count the session cannot read.

    Args:
        readers: the started IMU readers by role (``"imu"``, or ``"imu-accel"`` and
            ``"imu-gyro"``: :attr:`comodo_live.streams.imu_door.ImuDoor.readers`).
        stale_s: seconds without data before a reader's source_id is looked up, > 0.
        resolver: ``source_id → object with results()`` (a ``pylsl.ContinuousResolver``).
    """

    def __init__(
        self,
        readers: Mapping[str, StreamReader],
        stale_s: float = STALE_S,
        resolver: Any = _resolver,
    ) -> None:
        if not stale_s > 0:
            raise ValueError(f"stale_s must be > 0 seconds, got {stale_s}")
        unknown = set(readers) - set(ROLE_CHANNELS)
        if unknown:
            raise ValueError(
                f"readers roles must be in {sorted(ROLE_CHANNELS)}, got {sorted(unknown)}"
            )
        self._readers = dict(readers)
        self.stale_s = float(stale_s)
        self._make_resolver = resolver
        self._resolvers: dict[str, Any] = {}  # role → resolver, only while that reader is stale
        self._lock = threading.Lock()

    def check(self) -> list[str]:
        """Warnings for stale IMU readers whose source_id now offers other channels (cheap)."""
        warnings = []
        with self._lock:
            for role, reader in self._readers.items():
                stale = reader.health().seconds_since_data > self.stale_s
                if not stale:
                    self._resolvers.pop(role, None)
                    continue
                source_id = reader.description.source_id
                if role not in self._resolvers:
                    self._resolvers[role] = self._make_resolver(source_id)
                for info in self._resolvers[role].results():
                    found = int(info.channel_count())
                    if found != reader.channel_count:
                        message = stream_count_message(
                            stream_label(info), found, ROLE_CHANNELS[role]
                        )
                        warnings.append(
                            f"IMU lost: {message} (it came back with other channels; restart "
                            "the session to read it)"
                        )
                        break
        return warnings

    def close(self) -> None:
        """Drop the background resolvers (idempotent)."""
        with self._lock:
            self._resolvers.clear()

"""The engine's IMU at the door: one reader in contract channel order and SI units.

:func:`open_imu` is the one place the engine opens its IMU stream(s):

- ``"ID"``: one 6-channel stream. Its units and channel order are read from its metadata
  (``desc/channels/channel/unit``, :func:`~comodo_live.units.stream_channel_map`) and
  applied by the windower; a stream without known units is refused, naming it.
- ``"ACC_ID+GYRO_ID"``: separate accelerometer and gyroscope streams of 3 channels each (as
  head-worn devices publish them, e.g. muselsl's ``ACC`` in g and ``GYRO`` in deg/s). Each is
  converted by its own metadata and both are joined on the common LSL clock into one 6-channel
  reader (:class:`JoinedImuReader`): the slower stream is interpolated onto the faster one's
  sample times, only where both have data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from comodo_live.records import IMU_CHANNELS
from comodo_live.streams.dejitter import Dejitter, Gap
from comodo_live.streams.reader import ChunkHook, StreamReader
from comodo_live.streams.resolve import resolve_stream
from comodo_live.units import ChannelMap, stream_channel_map

ACCEL_CHANNELS = IMU_CHANNELS[:3]
GYRO_CHANNELS = IMU_CHANNELS[3:]


class _JoinedSpan:
    """``time_span()`` of two ring buffers: where both hold data."""

    def __init__(self, first: StreamReader, second: StreamReader) -> None:
        self._readers = (first, second)

    def time_span(self) -> tuple[float, float] | None:
        spans = [r.buffer.time_span() if r.buffer is not None else None for r in self._readers]
        if spans[0] is None or spans[1] is None:
            return None
        oldest, newest = max(spans[0][0], spans[1][0]), min(spans[0][1], spans[1][1])
        return (oldest, newest) if newest > oldest else None


class JoinedImuReader:
    """One 6-channel IMU from an accelerometer and a gyroscope stream (both started readers).

    Reads like a :class:`StreamReader` for the windower and the plots: samples in
    :data:`IMU_CHANNELS` order, m/s² and rad/s, at the faster stream's sample times.

    Args:
        accel: reader of the 3-channel accelerometer stream.
        gyro: reader of the 3-channel gyroscope stream.
        accel_map: its :class:`ChannelMap` (order and units → m/s²).
        gyro_map: its :class:`ChannelMap` (order and units → rad/s).
    """

    def __init__(
        self, accel: StreamReader, gyro: StreamReader, accel_map: ChannelMap, gyro_map: ChannelMap
    ) -> None:
        self.accel, self.gyro = accel, gyro
        self.accel_map, self.gyro_map = accel_map, gyro_map
        accel_faster = accel.nominal_srate >= gyro.nominal_srate
        self.fast, self.slow = (accel, gyro) if accel_faster else (gyro, accel)
        self._fast_map, self._slow_map = (
            (accel_map, gyro_map) if accel_faster else (gyro_map, accel_map)
        )
        self.nominal_srate = float(self.fast.nominal_srate)
        self.dejitter: Dejitter | None = self.fast.dejitter
        self.buffer = _JoinedSpan(accel, gyro)
        self.description = f"{accel.description} + {gyro.description}"
        slow_rate = self.slow.nominal_srate
        self._pad_s = 2.0 / slow_rate if slow_rate > 0 else 1.0

    def between(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Joined samples with ``t0 <= timestamp <= t1``: ``(times (k,), (k, 6), received (k,))``."""
        ts, fast_raw, received = self.fast.between(t0, t1)
        slow_t, slow_raw, _ = self.slow.between(t0 - self._pad_s, t1 + self._pad_s)
        if len(slow_t) < 2 or not len(ts):
            return np.zeros(0), np.zeros((0, 6)), np.zeros(0)
        keep = (ts >= slow_t[0]) & (ts <= slow_t[-1])
        ts, fast_raw, received = ts[keep], fast_raw[keep], received[keep]
        fast_si = self._fast_map.apply(fast_raw)  # (k, 3)
        slow_si = self._slow_map.apply(slow_raw)  # (m, 3)
        slow_on_fast = np.stack([np.interp(ts, slow_t, c) for c in slow_si.T], axis=1)  # (k, 3)
        parts = (fast_si, slow_on_fast) if self.fast is self.accel else (slow_on_fast, fast_si)
        return ts, np.concatenate(parts, axis=1), received  # (k, 6): accel then gyro

    def newest(self, n: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Newest joined samples (up to ``n``), as :meth:`between`."""
        stamps, _, _ = self.fast.newest(n)
        if not len(stamps):
            return np.zeros(0), np.zeros((0, 6)), np.zeros(0)
        return self.between(float(stamps[0]), float(stamps[-1]))

    def gaps(self, since: float = -math.inf) -> list[Gap]:
        """Gaps of either stream that end after ``since``, oldest first."""
        return sorted(self.accel.gaps(since) + self.gyro.gaps(since), key=lambda g: g.t1)


@dataclass
class ImuDoor:
    """The opened IMU.

    Attributes:
        reader: what the windower reads (a :class:`StreamReader` or :class:`JoinedImuReader`).
        channel_map: order and units the windower applies (None: ``reader`` delivers SI).
        readers: the started LSL readers by role (``"imu"``, or ``"imu-accel"`` and
            ``"imu-gyro"``): stream status, recording, stop.
    """

    reader: StreamReader | JoinedImuReader
    channel_map: ChannelMap | None
    readers: dict[str, StreamReader] = field(default_factory=dict)

    @property
    def units(self) -> tuple[str, ...]:
        """The source unit of each contract channel, as written."""
        if self.channel_map is not None:
            return self.channel_map.units
        assert isinstance(self.reader, JoinedImuReader)
        return self.reader.accel_map.units + self.reader.gyro_map.units


def _start(
    source_id: str, timeout_s: float, buffer_s: float, on_chunk: ChunkHook | None
) -> StreamReader:
    info = resolve_stream(source_id=source_id, timeout_s=timeout_s)
    return StreamReader(info, buffer_s=buffer_s, on_chunk=on_chunk).start()


def open_imu(
    source_id: str,
    timeout_s: float = 5.0,
    buffer_s: float = 30.0,
    on_chunk: Callable[..., None] | None = None,
) -> ImuDoor:
    """Resolve, start and check the IMU stream(s) named by ``source_id`` (see the module doc).

    Raises:
        ValueError: more than two ids in ``source_id``.
        LookupError: a stream that cannot be resolved.
        ChannelError / UnitError: wrong channel count or unknown units (names the stream); the
            readers already started are stopped.
    """
    ids = [part.strip() for part in source_id.split("+")]
    if len(ids) > 2 or not all(ids):
        raise ValueError(f"imu source_id must be 'ID' or 'ACC_ID+GYRO_ID', got {source_id!r}")
    started: list[StreamReader] = []
    try:
        if len(ids) == 1:
            reader = _start(ids[0], timeout_s, buffer_s, on_chunk)
            started.append(reader)
            assert reader.info is not None  # the full info (with desc) once started
            return ImuDoor(reader, stream_channel_map(reader.info), {"imu": reader})
        accel = _start(ids[0], timeout_s, buffer_s, on_chunk)
        started.append(accel)
        gyro = _start(ids[1], timeout_s, buffer_s, on_chunk)
        started.append(gyro)
        assert accel.info is not None and gyro.info is not None
        joined = JoinedImuReader(
            accel,
            gyro,
            stream_channel_map(accel.info, ACCEL_CHANNELS),
            stream_channel_map(gyro.info, GYRO_CHANNELS),
        )
        return ImuDoor(joined, None, {"imu-accel": accel, "imu-gyro": gyro})
    except BaseException:
        for reader in reversed(started):
            reader.stop()
        raise

"""IMU sources for :class:`drivers.imu.ImuDriver`: serial line devices, UDP lines, CSV replay.

Every source delivers 6 channels in :data:`comodo_live.records.IMU_CHANNELS` order, converted to
m/s² and rad/s (:class:`ImuUnits` says what the source sends), stamped on the LSL clock.

Accepted text lines (serial and UDP; separators: comma, semicolon, tab or spaces):

- ``ax,ay,az,gx,gy,gz`` — six numbers (Arduino-style ``Serial.println`` output);
- ``t,ax,ay,az,gx,gy,gz`` — seven numbers, a leading device time that is ignored;
- ``t,3,ax,ay,az,4,gx,gy,gz[,5,mx,my,mz...]`` — sensor-id-tagged triples, as the Android app
  "Sensorstream IMU+GPS" sends (3 accelerometer, 4 gyroscope; other triples ignored);
- JSON objects ``{"accel": [ax, ay, az], "gyro": [gx, gy, gz]}`` or with keys
  ``ax ay az gx gy gz``.

Anything else (banners, headers, comments, NaN) is skipped and counted in ``lines_skipped``.
Live sources stamp each line with its arrival time (``local_clock()``); lines that arrive
together are spread backwards by the nominal period so timestamps stay increasing.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import json
import re
import socket
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pylsl

from comodo_live.imu_csv import parse_units, read_imu_csv
from comodo_live.units import canonical_unit, split_label, unit_factor

from ._lsl import CHUNK_S, Pacer, Schedule

_SPLIT = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class ImuUnits:
    """Units a source sends, any spelling of :mod:`comodo_live.units` (kept in its standard
    one): ``accel`` "m/s^2", "g" or "mg"; ``gyro`` "rad/s", "deg/s" or "mrad/s".

    Raises:
        comodo_live.units.UnitError: (a ValueError) an unknown or wrong-kind unit, naming the
            accepted spellings.
    """

    accel: str = "m/s^2"
    gyro: str = "rad/s"

    def __post_init__(self) -> None:
        object.__setattr__(self, "accel", canonical_unit("accel", self.accel))
        object.__setattr__(self, "gyro", canonical_unit("gyro", self.gyro))

    @classmethod
    def parse(cls, text: str) -> ImuUnits:
        """From ``"<accel>,<gyro>"``, e.g. ``"g,deg/s"``."""
        return cls(*parse_units(text))

    def to_si(self, values: np.ndarray) -> np.ndarray:
        """(N, 6) in these units → (N, 6) float32 in m/s² and rad/s."""
        scale = np.array(
            [unit_factor("accel_x", self.accel)] * 3 + [unit_factor("gyro_x", self.gyro)] * 3
        )
        return (np.asarray(values, dtype=np.float64).reshape(-1, 6) * scale).astype(np.float32)


class ImuChunk(NamedTuple):
    """``data``: (N, 6) float32 m/s², rad/s; ``timestamps``: (N,) float64 LSL seconds."""

    data: np.ndarray
    timestamps: np.ndarray


EMPTY_CHUNK = ImuChunk(np.zeros((0, 6), np.float32), np.zeros(0))


class ImuSource(ABC):
    """Where an :class:`~drivers.imu.ImuDriver` gets samples. ``rate_hz``: nominal rate (0 = irregular)."""

    rate_hz: float = 0.0
    description: str = "imu"

    def open(self) -> None:  # noqa: B027  (optional hook)
        """Acquire the device/file (caller's thread, so errors raise at ``start()``)."""

    @abstractmethod
    def read(self, timeout: float, stop: threading.Event | None = None) -> ImuChunk | None:
        """Samples available within ``timeout`` s (maybe empty); None when the source ended."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Release the device/file. Idempotent."""


def parse_imu_line(line: str) -> np.ndarray | None:
    """(6,) raw values (source units) from one text line, or None if it is not an IMU line."""
    line = line.strip()
    if not line or line[0] in "#/":
        return None
    if line[0] == "{":
        return _parse_json(line)
    try:
        numbers = [float(tok) for tok in _SPLIT.split(line) if tok]
    except ValueError:
        return None
    values: list[float] | None = None
    if len(numbers) == 6:
        values = numbers
    elif len(numbers) == 7:
        values = numbers[1:]
    elif len(numbers) >= 9 and (len(numbers) - 1) % 4 == 0:
        triples = {int(numbers[i]): numbers[i + 1 : i + 4] for i in range(1, len(numbers), 4)}
        if 3 in triples and 4 in triples:
            values = triples[3] + triples[4]
    if values is None:
        return None
    out = np.asarray(values, dtype=np.float64)
    return out if np.all(np.isfinite(out)) else None


def _parse_json(line: str) -> np.ndarray | None:
    try:
        obj = json.loads(line)
        if "accel" in obj and "gyro" in obj:
            values = [*obj["accel"], *obj["gyro"]]
        else:
            values = [obj[k] for k in ("ax", "ay", "az", "gx", "gy", "gz")]
        out = np.asarray(values, dtype=np.float64)
    except (ValueError, KeyError, TypeError):
        return None
    return out if out.shape == (6,) and np.all(np.isfinite(out)) else None


def _burst_stamps(n: int, arrival: float, rate_hz: float) -> np.ndarray:
    period = 1.0 / rate_hz if rate_hz > 0 else 0.0
    return arrival - period * np.arange(n - 1, -1, -1, dtype=np.float64)


class _LineSource(ImuSource):
    """Shared parsing/stamping for sources that receive text lines."""

    def __init__(self, units: ImuUnits, rate_hz: float) -> None:
        if not rate_hz >= 0:
            raise ValueError(f"rate_hz must be >= 0 (0 = irregular), got {rate_hz}")
        self.units = units
        self.rate_hz = float(rate_hz)
        self.lines_parsed = 0
        self.lines_skipped = 0

    def _parse(self, lines: list[bytes], arrival: float) -> ImuChunk:
        rows = []
        for raw in lines:
            values = parse_imu_line(raw.decode("utf-8", "replace"))
            if values is None:
                self.lines_skipped += bool(raw.strip())
            else:
                rows.append(values)
        self.lines_parsed += len(rows)
        if not rows:
            return EMPTY_CHUNK
        return ImuChunk(
            self.units.to_si(np.stack(rows)), _burst_stamps(len(rows), arrival, self.rate_hz)
        )


class SerialImuSource(_LineSource):
    """Lines from a serial device (Arduino-style IMUs). Uses pyserial.

    Args:
        port: device path, e.g. ``/dev/ttyACM0`` (or a pty's slave path).
        baud: baud rate.
        units: units the device sends.
        rate_hz: the device's nominal rate in Hz (0 = irregular).
    """

    _MAX_PARTIAL = 4096

    def __init__(
        self, port: str, baud: int = 115200, units: ImuUnits | None = None, rate_hz: float = 100.0
    ) -> None:
        super().__init__(units or ImuUnits(), rate_hz)
        if baud <= 0:
            raise ValueError(f"baud must be > 0, got {baud}")
        self.port = port
        self.baud = baud
        self.description = f"serial:{port}@{baud}"
        self._serial = None
        self._partial = b""

    def open(self) -> None:
        import serial  # pyserial

        self._serial = serial.Serial(self.port, self.baud, timeout=0.05)
        self._partial = b""

    def read(self, timeout: float, stop: threading.Event | None = None) -> ImuChunk | None:
        if self._serial is None:
            raise RuntimeError("SerialImuSource.read() before open()")
        self._serial.timeout = max(0.001, min(timeout, 0.1))
        data = self._serial.read(max(1, self._serial.in_waiting))
        if not data:
            return EMPTY_CHUNK
        arrival = pylsl.local_clock()
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()[-self._MAX_PARTIAL :]
        return self._parse(lines, arrival)

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None


class UdpImuSource(_LineSource):
    """Text lines in UDP datagrams (phone sensor apps). One datagram may hold several lines.

    Args:
        host: address to bind; the default accepts only this machine. ``0.0.0.0`` accepts a phone
            on the LAN (anyone on the network can then send samples).
        port: UDP port (0 picks a free one; see :attr:`port` after ``open()``).
        units: units the app sends (Sensorstream IMU+GPS: m/s², rad/s).
        rate_hz: the app's nominal rate in Hz (0 = irregular).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5555,
        units: ImuUnits | None = None,
        rate_hz: float = 100.0,
    ) -> None:
        super().__init__(units or ImuUnits(), rate_hz)
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be in [0, 65535], got {port}")
        self.host = host
        self.port = port
        self.description = f"udp:{host}:{port}"
        self._sock: socket.socket | None = None

    def open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.description = f"udp:{self.host}:{self.port}"
        self._sock = sock

    def read(self, timeout: float, stop: threading.Event | None = None) -> ImuChunk | None:
        if self._sock is None:
            raise RuntimeError("UdpImuSource.read() before open()")
        chunks: list[ImuChunk] = []
        self._sock.settimeout(max(0.001, timeout))
        while True:
            try:
                datagram = self._sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                break
            chunks.append(self._parse(datagram.split(b"\n"), pylsl.local_clock()))
            self._sock.settimeout(0.0)  # drain what is already queued, then return
        if not chunks:
            return EMPTY_CHUNK
        return ImuChunk(
            np.concatenate([c.data for c in chunks]), np.concatenate([c.timestamps for c in chunks])
        )

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class CsvImuSource(ImuSource):
    """A CSV file replayed at its own timing (relative sample times kept, jitter included).

    Read by the app's one IMU CSV reader (:func:`comodo_live.imu_csv.read_imu_csv`): units come
    from the column names (``accel_x_g``, ``gyro_x_deg_s`` …); a column without one needs
    ``units`` (which never overrides a unit a column states).

    Args:
        path: CSV file with a header row.
        time_column: column of sample times.
        columns: the 6 data columns (accel x/y/z, gyro x/y/z); default: recognised by name, or
            the 6 after ``time_column`` when no column name is recognised.
        units: units of the columns whose names carry none.
        time_scale: seconds per time unit (0.001 for milliseconds; default: from the name).
        loop: replay forever (each pass shifted by the file's duration + one median interval).
        t0: LSL time of the first sample (default: when opened).

    Raises:
        ValueError: a bad column, time or value (names it); UnitError for a missing or unknown
            unit (names the column and the accepted spellings).
    """

    def __init__(
        self,
        path: str | Path,
        time_column: str = "time_s",
        columns: list[str] | None = None,
        units: ImuUnits | None = None,
        time_scale: float | None = None,
        loop: bool = True,
        t0: float | None = None,
    ) -> None:
        self.path = Path(path)
        if time_scale is not None and not time_scale > 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale}")
        with open(self.path, encoding="utf-8") as handle:
            header = [cell.strip() for cell in handle.readline().split(",")]
        if columns is None and time_column in header and not any(split_label(h)[0] for h in header):
            start = header.index(time_column) + 1
            columns = header[start : start + 6]  # unnamed columns: the 6 after the time
        table = read_imu_csv(
            self.path,
            units=None if units is None else (units.accel, units.gyro),
            time_column=time_column,
            time_scale=time_scale,
            columns=columns,
        )
        if not np.all(np.isfinite(table.samples)):
            bad = int(np.argwhere(~np.isfinite(table.samples))[0, 0]) + 2
            raise ValueError(f"{self.path.name}: non-finite value on line {bad}")
        self.units = _uniform_units(table.units) or units
        self.times_s = table.times - table.times[0]
        self.data = table.samples.astype(np.float32)  # (M, 6) m/s², rad/s
        self.schedule = Schedule(offsets_s=self.times_s, loop=loop)
        self.rate_hz = float(round(table.rate_hz, 3))
        self.description = f"csv:{self.path.name}"
        self.t0 = t0
        self.pacer: Pacer | None = None

    def open(self) -> None:
        self.pacer = Pacer(self.schedule, self.t0, min_items=max(1, round(self.rate_hz * CHUNK_S)))

    def read(self, timeout: float, stop: threading.Event | None = None) -> ImuChunk | None:
        if self.pacer is None:
            raise RuntimeError("CsvImuSource.read() before open()")
        k0, k1 = self.pacer.wait_due(timeout, stop)
        if k0 == k1:
            return None if self.pacer.exhausted else EMPTY_CHUNK
        rows = np.arange(k0, k1) % len(self.data)
        return ImuChunk(self.data[rows], self.pacer.lsl_times(k0, k1))


def _uniform_units(units: tuple[str, ...]) -> ImuUnits | None:
    """One :class:`ImuUnits` when all accel columns share a unit and all gyro ones do."""
    accel = {canonical_unit("accel", u) for u in units[:3]}
    gyro = {canonical_unit("gyro", u) for u in units[3:]}
    return ImuUnits(accel.pop(), gyro.pop()) if len(accel) == len(gyro) == 1 else None

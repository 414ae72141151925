"""The one IMU unit table: accelerometer → m/s², gyroscope → rad/s (numpy only).

Every way IMU data comes in — CSV files (:mod:`comodo_live.imu_csv`), LSL streams (their
``desc/channels/channel/unit`` metadata, :func:`stream_channel_map`), device drivers — reads
units through this module. A unit that is missing, unknown, or of the wrong kind (``g`` on a
gyroscope column) is an error that names the column or stream and lists the accepted spellings;
nothing is ever assumed to be SI because it says nothing.

Accepted spellings (case-insensitive; spaces, ``^``, ``**``, ``*`` and ``.`` are ignored,
``_`` reads as ``/``, ``²`` as ``2``, ``°`` / ``degree(s)`` as ``deg``, ``sec(s)`` as ``s``):

- acceleration: ``m/s^2`` (``m/s2``, ``m_s2``, ``ms2``, ``mps2``, ``m s^-2``, ``m/s/s``), ``g``
  (``g0``, ``gn``; standard gravity, 9.80665 m/s²), ``mg`` (``milli-g``; 1e-3 g);
- rotation rate: ``rad/s`` (``rad_s``, ``rads``, ``radps``, ``rad s^-1``), ``deg/s``
  (``deg_s``, ``degs``, ``dps``, ``degps``, ``°/s``), ``mrad/s``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from comodo_live.records import DEG_TO_RAD, G_TO_MS2, IMU_CHANNELS

ACCEL_FACTORS: dict[str, float] = {
    **dict.fromkeys(("m/s2", "ms2", "ms-2", "mps2", "m/s/s"), 1.0),
    **dict.fromkeys(("g", "g0", "gn"), G_TO_MS2),
    **dict.fromkeys(("mg", "milli-g", "millig"), 1e-3 * G_TO_MS2),
}
GYRO_FACTORS: dict[str, float] = {
    **dict.fromkeys(("rad/s", "rads", "rads-1", "radps"), 1.0),
    **dict.fromkeys(("deg/s", "degs", "degs-1", "dps", "degps"), DEG_TO_RAD),
    "mrad/s": 1e-3,
}
ACCEPTED = {
    "accel": "m/s^2 (also m/s2, m_s2, ms2, mps2, m s^-2), g (g0, gn), mg (milli-g)",
    "gyro": "rad/s (also rad_s, rads, radps, rad s^-1), deg/s (deg_s, degs, dps, °/s), mrad/s",
}
_REPLACE = (
    ("²", "2"),
    ("**", ""),
    ("^", ""),
    ("*", ""),
    (".", ""),
    ("_", "/"),
    ("°", "deg"),
    ("degrees", "deg"),
    ("degree", "deg"),
    ("seconds", "s"),
    ("second", "s"),
    ("secs", "s"),
    ("sec", "s"),
)


class ChannelError(ValueError):
    """IMU data whose channels do not match the contract (count, names or units)."""


class UnitError(ChannelError):
    """A missing, unknown or wrong-kind IMU unit; the message names the column or stream."""


def normalise_unit(unit: str) -> str:
    """The table key of a unit spelling (see the module doc); '' for an empty unit."""
    text = re.sub(r"\s+", "", unit.strip().strip("[]()").lower())
    for old, new in _REPLACE:
        text = text.replace(old, new)
    return text


def kind_of(channel: str) -> str:
    """``"accel"`` or ``"gyro"`` for a contract channel name (``accel_x`` … ``gyro_z``)."""
    if channel.startswith("accel"):
        return "accel"
    if channel.startswith("gyro"):
        return "gyro"
    raise ChannelError(f"channel must be one of {list(IMU_CHANNELS)}, got {channel!r}")


def unit_factor(channel: str, unit: str, where: str = "") -> float:
    """Factor taking ``unit`` to the contract unit of ``channel`` (accel → m/s², gyro → rad/s).

    Args:
        channel: contract channel name (``accel_x`` … ``gyro_z``).
        unit: the unit as written (any accepted spelling).
        where: what the unit belongs to, for the message (e.g. ``"column 'gx' of walk.csv"``).

    Raises:
        UnitError: empty, unknown, or of the other kind; names ``where`` and the accepted units.
    """
    kind = kind_of(channel)
    table = ACCEL_FACTORS if kind == "accel" else GYRO_FACTORS
    what = where or f"channel {channel!r}"
    key = normalise_unit(unit)
    if key in table:
        return table[key]
    noun = "acceleration" if kind == "accel" else "rotation-rate"
    if not key:
        problem = f"{what} ({channel}) has no unit"
    elif key in (GYRO_FACTORS if kind == "accel" else ACCEL_FACTORS):
        article = "an" if kind == "accel" else "a"
        problem = f"unit {unit!r} of {what} is not {article} {noun} unit ({channel})"
    else:
        problem = f"unit {unit!r} of {what} ({channel}) is unknown"
    raise UnitError(f"{problem}; accepted {noun} units: {ACCEPTED[kind]}")


_CANONICAL = {
    "accel": {1.0: "m/s^2", G_TO_MS2: "g", 1e-3 * G_TO_MS2: "mg"},
    "gyro": {1.0: "rad/s", DEG_TO_RAD: "deg/s", 1e-3: "mrad/s"},
}


def canonical_unit(kind: str, unit: str) -> str:
    """The standard spelling (``m/s^2``, ``g``, ``mg``, ``rad/s``, ``deg/s``, ``mrad/s``) of an
    accepted ``unit`` of ``kind`` (``"accel"`` / ``"gyro"``); raises :class:`UnitError`."""
    if kind not in _CANONICAL:
        raise ValueError(f"kind must be 'accel' or 'gyro', got {kind!r}")
    sensor = "the accelerometer" if kind == "accel" else "the gyroscope"
    return _CANONICAL[kind][unit_factor(f"{kind}_x", unit, sensor)]


def canonical_channel(label: str) -> str | None:
    """Contract name of a channel label (``accel_x``, ``AccX``, ``gyro_z_deg_s``, ``gz``), or None."""
    text = re.sub(r"[^a-z]", "", label.lower().split("_m_s2")[0])
    match = re.fullmatch(r"(acc|accel|accelerometer|a|gyr|gyro|gyroscope|g)([xyz])[a-z]*", text)
    if match is None:
        return None
    kind = "accel" if match.group(1).startswith("a") else "gyro"
    return f"{kind}_{match.group(2)}"


_LABEL = re.compile(r"^\s*([A-Za-z]+?)[_\s-]?([xyzXYZ])(?![a-zA-Z])(.*)$")


def split_label(label: str) -> tuple[str | None, str]:
    """A CSV header cell → (contract channel or None, unit text or '').

    ``accel_x_m_s2`` → (accel_x, m_s2); ``gyro_z [deg/s]`` → (gyro_z, deg/s); ``AccX`` →
    (accel_x, '').
    """
    match = _LABEL.match(label)
    if match is None:
        return None, ""
    channel = canonical_channel(match.group(1) + match.group(2))
    return channel, match.group(3).strip(" _[]()")


def check_channel_count(found: int, expected: Sequence[str], source: str) -> None:
    """Refuse data with the wrong number of IMU channels, naming expected and found."""
    if found != len(expected):
        raise ChannelError(
            f"{source} has {found} IMU channels, expected {len(expected)} ({', '.join(expected)})"
        )


@dataclass(frozen=True)
class ChannelMap:
    """Source columns → contract rows: ``out[:, i] = samples[:, order[i]] * factors[i]``.

    Attributes:
        order: (C,) source column of each contract channel.
        factors: (C,) unit factor of each contract channel.
        units: the source's unit of each contract channel, as written.
    """

    order: tuple[int, ...]
    factors: tuple[float, ...]
    units: tuple[str, ...]

    @property
    def is_identity(self) -> bool:
        return self.order == tuple(range(len(self.order))) and all(f == 1.0 for f in self.factors)

    def apply(self, samples: np.ndarray) -> np.ndarray:
        """(M, C) source samples → (M, C) float64 in contract order and units."""
        values = np.asarray(samples, dtype=np.float64)
        if self.is_identity:
            return values
        return values[:, list(self.order)] * np.asarray(self.factors)


def channel_map(
    described: Sequence[tuple[str, str]],
    source: str,
    channels: Sequence[str] = IMU_CHANNELS,
) -> ChannelMap:
    """Order and unit factors from per-channel ``(label, unit)`` metadata.

    Labels that name every contract channel (``AccX``, ``gyro_z`` …) reorder the columns;
    otherwise the columns are taken in contract order. Every channel must state its unit.

    Args:
        described: (label, unit) of each source column.
        source: the source's name for messages (e.g. ``"LSL stream 'IMU' (source_id='x')"``).
        channels: the contract channel order.

    Raises:
        ChannelError: wrong number of channels.
        UnitError: a missing, unknown or wrong-kind unit (names the stream and the channel).
    """
    check_channel_count(len(described), channels, source)
    names = [canonical_channel(label) for label, _ in described]
    if sorted(n for n in names if n) == sorted(channels):
        order = [names.index(c) for c in channels]
    else:
        order = list(range(len(channels)))
    factors, units = [], []
    for position, column in enumerate(order):
        label, unit = described[column]
        channel = channels[position]
        where = f"channel {label or column!r}"
        if not unit.strip():
            raise UnitError(
                f"{source}: {where} ({channel}) declares no unit (desc/channels/channel/unit); "
                f"accepted: {ACCEPTED[kind_of(channel)]}"
            )
        try:
            factors.append(unit_factor(channel, unit, where))
        except UnitError as exc:
            raise UnitError(f"{source}: {exc}") from exc
        units.append(unit)
    return ChannelMap(tuple(order), tuple(factors), tuple(units))


def channel_desc(info: Any) -> list[tuple[str, str]]:
    """(label, unit) per channel from an LSL ``StreamInfo``'s ``desc/channels`` (may be empty).

    ``info`` must be a full info (from ``inlet.info()``): resolved infos carry no ``desc``.
    """
    found: list[tuple[str, str]] = []
    channel = info.desc().child("channels").child("channel")
    while not channel.empty():
        found.append((channel.child_value("label"), channel.child_value("unit")))
        channel = channel.next_sibling("channel")
    return found


def stream_label(info: Any) -> str:
    """``LSL stream 'NAME' (source_id='ID')`` for messages."""
    return f"LSL stream {info.name()!r} (source_id={info.source_id()!r})"


def stream_channel_map(info: Any, channels: Sequence[str] = IMU_CHANNELS) -> ChannelMap:
    """The :class:`ChannelMap` of an LSL IMU stream from its channel metadata.

    Raises:
        ChannelError / UnitError: as :func:`channel_map`, naming the stream; a stream without
            channel metadata is refused (its units are unknown).
    """
    source = stream_label(info)
    found = int(info.channel_count())
    if found != len(channels):
        raise ChannelError(stream_count_message(source, found, channels))
    return _described_map(channel_desc(info), source, channels)


def stream_count_message(source: str, found: int, channels: Sequence[str] = IMU_CHANNELS) -> str:
    """Why an LSL stream with ``found`` channels cannot be the IMU (or one half of it).

    ``"LSL stream 'X' (source_id='x') has 9 IMU channels, expected 6 (accel xyz + gyro xyz) or
    a split accelerometer + gyroscope pair (imu.source = 'lsl:ACC_ID+GYRO_ID')"``.
    """
    if tuple(channels) == IMU_CHANNELS:
        expected = (
            "6 (accel xyz + gyro xyz) or a split accelerometer + gyroscope pair "
            "(imu.source = 'lsl:ACC_ID+GYRO_ID')"
        )
    else:
        part = "accelerometer" if kind_of(channels[0]) == "accel" else "gyroscope"
        expected = (
            f"{len(channels)} ({', '.join(channels)}) as the {part} of an ACC_ID+GYRO_ID pair"
        )
    return f"{source} has {found} IMU channels, expected {expected}"


def _described_map(
    described: list[tuple[str, str]], source: str, channels: Sequence[str]
) -> ChannelMap:
    """:func:`channel_map` of a stream's metadata, refusing a stream that describes no units."""
    if not described:
        raise UnitError(
            f"{source} has no channel metadata (desc/channels/channel with label and unit), so "
            f"its units are unknown; publish units for each channel (accel: {ACCEPTED['accel']}; "
            f"gyro: {ACCEPTED['gyro']})"
        )
    if len(described) != len(channels):
        raise UnitError(
            f"{source}'s metadata describes {len(described)} channels, the stream has "
            f"{len(channels)}: its units are unknown"
        )
    return channel_map(described, source, channels)


def xdf_channel_desc(stream: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, unit) per channel from a pyxdf stream dict's ``info/desc/channels`` (may be [])."""

    def first(node: Any, key: str) -> Any:
        values = node.get(key) if isinstance(node, dict) else None
        return values[0] if values else None

    channels = first(first(stream.get("info", {}), "desc"), "channels")
    entries = channels.get("channel", []) if isinstance(channels, dict) else []
    return [(str(first(c, "label") or ""), str(first(c, "unit") or "")) for c in entries]


def xdf_channel_map(stream: dict[str, Any], channels: Sequence[str] = IMU_CHANNELS) -> ChannelMap:
    """The :class:`ChannelMap` of an IMU stream loaded by pyxdf (a recording replayed from file).

    Raises:
        ChannelError / UnitError: as :func:`stream_channel_map`, naming the stream.
    """
    info = stream.get("info", {})
    name = (info.get("name") or ["?"])[0]
    source_id = (info.get("source_id") or [""])[0]
    source = f"XDF stream {name!r} (source_id={source_id!r})"
    check_channel_count(int((info.get("channel_count") or [0])[0]), channels, source)
    return _described_map(xdf_channel_desc(stream), source, channels)

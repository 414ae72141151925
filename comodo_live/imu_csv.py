"""The one IMU CSV reader (numpy only): for the converter, the CSV IMU driver and the runtime.

Layout (comma separated, one sample per row):

- a header naming the columns: a time column (``time_s``, ``t``, ``time``, ``timestamp`` in
  seconds; ``time_ms`` / ``timestamp_ms`` in milliseconds; ``time_us``, ``time_ns``) and six IMU
  columns ``accel_x, accel_y, accel_z, gyro_x, gyro_y, gyro_z`` in any order (also ``ax``,
  ``AccX``, ``gyro_z`` …), each with its unit after the name: ``accel_x_m_s2``, ``accel_x_g``,
  ``accel_x [mg]``, ``gyro_x_rad_s``, ``gyro_x_deg_s``, ``gyro_x (dps)`` (every spelling of
  :mod:`comodo_live.units`). Other columns are ignored.
- or no header: a time column and the six IMU columns in contract order, or just the six.

A column without a unit is an error unless the caller states the units (``units="g,deg/s"``,
used only for columns whose names carry none); a headerless file always needs them. Nothing is assumed to be m/s² or rad/s because it says
nothing. Times must be finite and strictly increasing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from comodo_live.records import IMU_CHANNELS
from comodo_live.units import (
    ACCEPTED,
    ChannelError,
    UnitError,
    kind_of,
    split_label,
    unit_factor,
)

TIME_COLUMNS: dict[str, float] = {
    "time_s": 1.0,
    "t": 1.0,
    "time": 1.0,
    "timestamp": 1.0,
    "timestamp_s": 1.0,
    "time_ms": 1e-3,
    "timestamp_ms": 1e-3,
    "time_us": 1e-6,
    "time_ns": 1e-9,
}


@dataclass(frozen=True)
class ImuTable:
    """An IMU CSV in contract order and units.

    Attributes:
        times: (M,) float64 seconds as in the file's time column (or ``n / rate_hz``).
        samples: (M, 6) float64; accel in m/s², gyro in rad/s, :data:`IMU_CHANNELS` order.
        columns: the file's column (header name, or position) of each contract channel.
        units: the unit each column was read in, as written.
        timed: whether the file had a time column.
    """

    times: np.ndarray
    samples: np.ndarray
    columns: tuple[str, ...]
    units: tuple[str, ...]
    timed: bool

    @property
    def rate_hz(self) -> float:
        """Median sampling rate, Hz."""
        return float(1.0 / np.median(np.diff(self.times)))


def parse_units(text: str) -> tuple[str, str]:
    """``"<accel>,<gyro>"`` (e.g. ``"g,deg/s"``) → validated ``(accel, gyro)``.

    Raises:
        UnitError: not two units, or a unit of the wrong kind (names it and the accepted ones).
    """
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2 or not all(parts):
        raise UnitError(f"units must be '<accel>,<gyro>' (e.g. 'g,deg/s'), got {text!r}")
    unit_factor("accel_x", parts[0], f"accel unit in units={text!r}")
    unit_factor("gyro_x", parts[1], f"gyro unit in units={text!r}")
    return parts[0], parts[1]


def _has_header(first_line: str) -> bool:
    try:
        [float(cell) for cell in first_line.split(",")]
    except ValueError:
        return True
    return False


def _column_unit(
    channel: str, column: str, written: str, given: tuple[str, str] | None, name: str
) -> str:
    """The unit of one column: its own (it wins), else the one the caller stated."""
    kind = kind_of(channel)
    stated = None if given is None else given[0 if kind == "accel" else 1]
    where = f"column {column!r} of {name}"
    if written:
        unit_factor(channel, written, where)
        return written
    if stated is None:
        examples = ("m_s2", "g") if kind == "accel" else ("rad_s", "deg_s")
        raise UnitError(
            f"{where} ({channel}) has no unit: add it to the name (e.g. {channel}_{examples[0]}, "
            f"{channel}_{examples[1]}) or state the units (e.g. 'g,deg/s'); accepted: "
            f"{ACCEPTED[kind]}"
        )
    return stated


def _header_columns(
    cells: list[str], columns: list[str] | None, name: str
) -> list[tuple[int, str, str]]:
    """(index, channel, unit text) of each contract channel from the header."""
    if columns is not None:
        missing = [c for c in columns if c not in cells]
        if len(columns) != len(IMU_CHANNELS) or missing:
            raise ChannelError(
                f"columns must name {len(IMU_CHANNELS)} columns of {name}'s header {cells} "
                f"(accel x/y/z, gyro x/y/z), got {columns} (missing {missing})"
            )
        return [
            (cells.index(c), ch, split_label(c)[1] if split_label(c)[0] == ch else "")
            for c, ch in zip(columns, IMU_CHANNELS, strict=True)
        ]
    found: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(cells):
        channel, unit = split_label(cell)
        if channel is None:
            continue
        if channel in found:
            other = cells[found[channel][0]]
            raise ChannelError(f"{name} has two columns for {channel}: {other!r} and {cell!r}")
        found[channel] = (index, unit)
    if len(found) != len(IMU_CHANNELS):
        raise ChannelError(
            f"CSV {name} has {len(found)} IMU channels ({', '.join(found) or 'none recognised'}), "
            f"expected {len(IMU_CHANNELS)} ({', '.join(IMU_CHANNELS)})"
        )
    return [(found[c][0], c, found[c][1]) for c in IMU_CHANNELS]


def read_imu_csv(
    path: str | Path,
    *,
    rate_hz: float | None = None,
    units: str | tuple[str, str] | None = None,
    time_column: str | None = None,
    time_scale: float | None = None,
    columns: list[str] | None = None,
) -> ImuTable:
    """Load an IMU CSV into contract order and units.

    Args:
        path: the CSV file.
        rate_hz: sampling rate for files without a time column, Hz (> 0).
        units: ``"<accel>,<gyro>"`` for columns whose names carry no unit (and headerless files);
            a unit in a column's name wins.
        time_column: the time column's name (default: the first of :data:`TIME_COLUMNS`).
        time_scale: seconds per time unit (default: from the time column's name, else 1).
        columns: the six IMU columns in accel x/y/z, gyro x/y/z order (default: recognised by
            name).

    Raises:
        ChannelError: wrong or duplicate IMU columns (names expected and found).
        UnitError: a missing, unknown or wrong-kind unit (names the column).
        ValueError: no time column and no ``rate_hz``, fewer than 2 rows, non-finite or
            non-increasing times (names the line), or an unreadable file.
    """
    path = Path(path)
    name = path.name
    given = parse_units(units) if isinstance(units, str) else units
    if given is not None:
        parse_units(",".join(given))
    with open(path, encoding="utf-8") as handle:
        first = handle.readline().strip()
    header = _has_header(first)
    table = np.loadtxt(path, delimiter=",", skiprows=int(header), ndmin=2, dtype=np.float64)
    times: np.ndarray | None = None
    if header:
        cells = [c.strip() for c in first.split(",")]
        lowered = [c.lower() for c in cells]
        if time_column is not None:
            if time_column not in cells:
                raise ValueError(f"time_column {time_column!r} is not in {name}'s header {cells}")
            time_index: int | None = cells.index(time_column)
        else:
            time_index = next((i for i, c in enumerate(lowered) if c in TIME_COLUMNS), None)
        if time_index is not None:
            scale = time_scale or TIME_COLUMNS.get(lowered[time_index], 1.0)
            times = table[:, time_index] * scale
        picked = _header_columns(cells, columns, name)
        labels = [cells[i] for i, _, _ in picked]
    else:
        width = table.shape[1]
        if width not in (len(IMU_CHANNELS), len(IMU_CHANNELS) + 1):
            raise ChannelError(
                f"CSV {name} has {width} columns, expected {len(IMU_CHANNELS)} IMU channels "
                f"({', '.join(IMU_CHANNELS)}), optionally after a time column"
            )
        if given is None:
            raise UnitError(
                f"CSV {name} has no header, so its units are unknown: state them "
                f"(e.g. 'g,deg/s'); accel: {ACCEPTED['accel']}; gyro: {ACCEPTED['gyro']}"
            )
        first_imu = width - len(IMU_CHANNELS)
        if first_imu:
            times = table[:, 0] * (time_scale or 1.0)
        picked = [(first_imu + i, c, "") for i, c in enumerate(IMU_CHANNELS)]
        labels = [f"#{i + 1}" for i, _, _ in picked]
    unit_text = [
        _column_unit(ch, label, written, given, name)
        for (_, ch, written), label in zip(picked, labels, strict=True)
    ]
    factors = np.array(
        [unit_factor(ch, u) for (_, ch, _), u in zip(picked, unit_text, strict=True)]
    )
    samples = table[:, [i for i, _, _ in picked]] * factors  # (M, 6)
    if len(table) < 2:
        raise ValueError(f"CSV {name} needs >= 2 rows of samples, found {len(table)}")
    timed = times is not None
    if times is None:
        if rate_hz is None or not rate_hz > 0:
            raise ValueError(
                f"CSV {name} has no time column ({', '.join(TIME_COLUMNS)}): give rate_hz > 0"
            )
        times = np.arange(len(samples)) / float(rate_hz)
    _check_times(times, name, first_line=1 + int(header))
    return ImuTable(times, samples, tuple(labels), tuple(unit_text), timed)


def _check_times(times: np.ndarray, name: str, first_line: int) -> None:
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        raise ValueError(f"CSV {name}: non-finite time on line {first_line + int(bad[0])}")
    steps = np.flatnonzero(np.diff(times) <= 0)
    if steps.size:
        line = first_line + int(steps[0]) + 1
        raise ValueError(
            f"CSV {name}: times must be strictly increasing; line {line} has "
            f"{float(times[steps[0] + 1])!r} after {float(times[steps[0]])!r}"
        )

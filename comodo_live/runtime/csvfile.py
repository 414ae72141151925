"""Read a recorded IMU CSV into contract units and channel order.

Accepted layout (comma separated, one sample per row):

- a header naming the columns: a time column ``time_s`` (also ``t``, ``time``, ``timestamp``, all
  in seconds, or ``time_ms`` in milliseconds) and six IMU columns ``accel_x, accel_y, accel_z,
  gyro_x, gyro_y, gyro_z`` in any order; a unit may follow the name: ``accel_x_m_s2``,
  ``accel_x_g``, ``gyro_x_rad_s``, ``gyro_x_deg_s`` (or ``dps``), also ``accel_x [g]``. Without a
  unit the contract units (m/s², rad/s) are assumed. Other columns are ignored.
- or no header: ``time_s`` + six IMU columns in contract order and units, or just the six IMU
  columns with ``rate_hz`` given.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from comodo_live.runtime.signal import ChannelError, canonical_channel, unit_factor

_TIME_COLUMNS = {"time_s": 1.0, "t": 1.0, "time": 1.0, "timestamp": 1.0, "time_ms": 1e-3}
_LABEL = re.compile(r"^\s*([A-Za-z]+)[_\s]?([xyzXYZ])(.*)$")


def _parse_label(label: str) -> tuple[str | None, str]:
    """Header label → (contract channel or None, unit text or '')."""
    match = _LABEL.match(label)
    if match is None:
        return None, ""
    channel = canonical_channel(match.group(1) + match.group(2))
    return channel, match.group(3).strip(" _[]()")


def read_imu_csv(
    path: str | Path, channels: tuple[str, ...], rate_hz: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load an IMU CSV.

    Args:
        path: the CSV file.
        channels: the contract channel order (e.g. ``IMU_CHANNELS``).
        rate_hz: sampling rate for files without a time column, Hz.

    Returns:
        times (M,) seconds and samples (M, C) float64 in contract units and order.

    Raises:
        ChannelError: wrong number of IMU channels (message names expected and found) or an
            unknown unit.
        ValueError: no time column and no ``rate_hz``, or an unreadable file.
    """
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        first = handle.readline().strip()
    cells = [c.strip() for c in first.split(",")]
    try:
        [float(c) for c in cells]
        has_header = False
    except ValueError:
        has_header = True
    table = np.loadtxt(path, delimiter=",", skiprows=int(has_header), ndmin=2, dtype=np.float64)
    times: np.ndarray | None = None
    if has_header:
        columns: dict[str, tuple[int, float]] = {}
        for index, label in enumerate(cells):
            if label.lower() in _TIME_COLUMNS:
                times = table[:, index] * _TIME_COLUMNS[label.lower()]
                continue
            channel, unit = _parse_label(label)
            if channel is not None and channel in channels:
                factor = unit_factor(channel, unit) if unit else 1.0
                columns[channel] = (index, factor)
        if len(columns) != len(channels):
            raise ChannelError(
                f"CSV {path.name} has {len(columns)} IMU channels "
                f"({', '.join(columns) or 'none recognised'}), expected {len(channels)} "
                f"({', '.join(channels)})"
            )
        samples = np.stack([table[:, i] * f for i, f in (columns[c] for c in channels)], axis=1)
    else:
        width = table.shape[1]
        if width == len(channels) + 1:
            times, samples = table[:, 0], table[:, 1:]
        elif width == len(channels):
            samples = table
        else:
            raise ChannelError(
                f"CSV {path.name} has {width} columns, expected {len(channels)} IMU channels "
                f"({', '.join(channels)}), optionally after a time column"
            )
    if times is None:
        if rate_hz is None or not rate_hz > 0:
            raise ValueError(f"CSV {path.name} has no time column (time_s): give rate_hz > 0")
        times = np.arange(len(samples)) / float(rate_hz)
    return times.astype(np.float64), samples.astype(np.float64)

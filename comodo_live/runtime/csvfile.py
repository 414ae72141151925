"""Read a recorded IMU CSV into contract units and channel order (the app's own reader).

The layout and unit spellings are those of :mod:`comodo_live.imu_csv` (shared with the app's
converter and IMU driver): a header with a time column (``time_s``, ``time_ms`` …) and six IMU
columns ``accel_x … gyro_z`` in any order, each with its unit after the name (``accel_x_m_s2``,
``accel_x_g``, ``gyro_x_rad_s``, ``gyro_x_deg_s``, ``gyro_x [dps]`` …). A column without a unit,
or a headerless file, needs the units stated (``units="g,deg/s"``, CLI ``--units``): nothing is
taken for m/s² or rad/s because it says nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comodo_live.imu_csv import read_imu_csv as read_table
from comodo_live.records import IMU_CHANNELS
from comodo_live.units import ChannelError


def read_imu_csv(
    path: str | Path,
    channels: tuple[str, ...],
    rate_hz: float | None = None,
    units: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load an IMU CSV.

    Args:
        path: the CSV file.
        channels: the contract channel order (must be ``IMU_CHANNELS``).
        rate_hz: sampling rate for files without a time column, Hz.
        units: ``"<accel>,<gyro>"`` for columns without a unit in their name.

    Returns:
        times (M,) seconds and samples (M, C) float64 in contract units and order.

    Raises:
        ChannelError: wrong number of IMU channels (message names expected and found), or a
            missing or unknown unit (:class:`~comodo_live.units.UnitError`, names the column).
        ValueError: no time column and no ``rate_hz``, bad times, or an unreadable file.
    """
    if tuple(channels) != IMU_CHANNELS:
        raise ChannelError(f"channels must be {list(IMU_CHANNELS)}, got {list(channels)}")
    table = read_table(path, rate_hz=rate_hz, units=units)
    return table.times, table.samples

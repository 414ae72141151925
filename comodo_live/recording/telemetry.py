"""Import a video file with an embedded IMU (GoPro GPMF and other action cameras) in one step.

The IMU is read with ``telemetry-parser`` (the ``[import]`` extra; the library of the
Gyroflow project: GoPro, Sony, Insta360, DJI and more). Its normalised IMU is the camera's
accelerometer in m/s² and gyroscope in deg/s, in the camera's reference frame, stamped in
milliseconds from the video's first frame; both go through the app's unit table
(:mod:`comodo_live.units`) to m/s² and rad/s.

The two sensors do not always share sample times: on some GoPro files the accelerometer comes
back with ~0.5 s holes every second while the gyroscope is complete. Each sensor's own times
are therefore kept, and both are resampled with the shared resampler
(:func:`comodo_live.signal.resample`) onto one uniform clock at the gyroscope's rate; clock
points that fall in a hole of either sensor (longer than :data:`MAX_HOLE_PERIODS` of its
periods) are dropped, never filled, so the windower sees the gap as a gap.

The session is then written by the converter (:func:`~comodo_live.recording.convert.import_video`:
counts read back, optional labels).

CLI: ``comodo-live import --video clip.mp4 --out recordings/NAME [--labels L.csv]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from comodo_live.signal import median_rate, resample
from comodo_live.units import unit_factor

ACCEL_UNIT = "m/s^2"  # telemetry-parser's normalised accelerometer unit
GYRO_UNIT = "deg/s"  # telemetry-parser's normalised gyroscope unit
MAX_HOLE_PERIODS = 3.0  # a sensor's interval longer than this many periods is a hole
INSTALL_HINT = "pip install 'comodo-live[import]' (telemetry-parser)"


class TelemetryUnavailable(OSError):
    """telemetry-parser is not installed (the message says how to install it)."""


@dataclass(frozen=True)
class CameraImu:
    """A camera's embedded IMU, each sensor on its own times (seconds from the first frame).

    Attributes:
        accel_t: (A,) s; accel: (A, 3) m/s². gyro_t: (G,) s; gyro: (G, 3) rad/s.
        camera: maker and model as the library names them (e.g. ``"GoPro GoPro Max"``).
    """

    accel_t: np.ndarray
    accel: np.ndarray
    gyro_t: np.ndarray
    gyro: np.ndarray
    camera: str


def _parser(video: Path) -> Any:
    try:
        import telemetry_parser
    except ImportError:
        raise TelemetryUnavailable(
            f"reading the IMU embedded in {video.name} needs telemetry-parser: {INSTALL_HINT}; "
            "or pass the IMU as a CSV with --imu-csv"
        ) from None
    if not video.is_file():
        raise FileNotFoundError(f"video {video} not found")
    try:
        return telemetry_parser.Parser(str(video))
    except Exception as exc:  # the library raises its own (Rust) errors
        raise ValueError(
            f"{video}: no camera telemetry could be read ({exc}); telemetry-parser reads GoPro, "
            "Sony, Insta360, DJI and other action-camera files — for other sources pass --imu-csv"
        ) from None


def _sensor(
    records: list[dict[str, Any]], key: str, factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """(times (K,) s, values (K, 3) × factor) of one sensor; duplicate times keep the first."""
    rows = [(r["timestamp_ms"], r[key]) for r in records if r.get(key) is not None]
    if not rows:
        return np.zeros(0), np.zeros((0, 3))
    t = np.asarray([row[0] for row in rows], np.float64) / 1000.0
    values = np.asarray([row[1] for row in rows], np.float64).reshape(-1, 3) * factor
    order = np.argsort(t, kind="stable")
    t, values = t[order], values[order]
    keep = np.concatenate([[True], np.diff(t) > 0])
    return t[keep], values[keep]


def read_camera_imu(video: str | Path) -> CameraImu:
    """The IMU embedded in ``video``, in m/s² and rad/s, each sensor on its own times.

    Raises:
        TelemetryUnavailable: telemetry-parser is not installed.
        ValueError: the file holds no telemetry, or no accelerometer or gyroscope samples.
    """
    video = Path(video)
    parser = _parser(video)
    records = parser.normalized_imu() or []
    accel_t, accel = _sensor(records, "accl", unit_factor("accel_x", ACCEL_UNIT))
    gyro_t, gyro = _sensor(records, "gyro", unit_factor("gyro_x", GYRO_UNIT))
    camera = f"{parser.camera or '?'} {parser.model or ''}".strip()
    for name, times in (("accelerometer", accel_t), ("gyroscope", gyro_t)):
        if len(times) < 2:
            raise ValueError(
                f"{video}: the {camera} telemetry holds {len(times)} {name} samples (needs >= 2)"
            )
    return CameraImu(accel_t, accel, gyro_t, gyro, camera)


def _inside_samples(times: np.ndarray, grid: np.ndarray, max_interval_s: float) -> np.ndarray:
    """(G,) bool: grid points between two samples of ``times`` at most ``max_interval_s`` apart."""
    right = np.searchsorted(times, grid, side="left")  # first sample at or after each point
    exact = (right < len(times)) & (times[np.minimum(right, len(times) - 1)] == grid)
    inside = (right > 0) & (right < len(times))
    lo = times[np.clip(right - 1, 0, len(times) - 1)]
    hi = times[np.clip(right, 0, len(times) - 1)]
    return exact | (inside & (hi - lo <= max_interval_s))


def common_clock(imu: CameraImu, rate_hz: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Both sensors on one uniform clock: ``(times (N,) s, samples (N, 6) float32)``.

    Args:
        imu: the camera's sensors on their own times.
        rate_hz: the clock's rate (default: the gyroscope's median rate).

    Points in a hole of either sensor (an interval > :data:`MAX_HOLE_PERIODS` of its median
    period) are dropped.

    Raises:
        ValueError: the sensors do not overlap in time, or no clock point is left.
    """
    rate = float(rate_hz) if rate_hz else median_rate(imu.gyro_t)
    if not rate > 0:
        raise ValueError(f"rate_hz must be > 0, got {rate_hz!r} (gyroscope rate {rate})")
    start = max(imu.accel_t[0], imu.gyro_t[0])
    stop = min(imu.accel_t[-1], imu.gyro_t[-1])
    if stop <= start:
        raise ValueError(
            f"accelerometer ({imu.accel_t[0]:.3f}..{imu.accel_t[-1]:.3f} s) and gyroscope "
            f"({imu.gyro_t[0]:.3f}..{imu.gyro_t[-1]:.3f} s) do not overlap"
        )
    grid = start + np.arange(int(np.floor((stop - start) * rate + 1e-9)) + 1) / rate  # (N,)
    keep = np.ones(len(grid), bool)
    columns = []
    for times, values in ((imu.accel_t, imu.accel), (imu.gyro_t, imu.gyro)):
        period = 1.0 / median_rate(times)
        keep &= _inside_samples(times, grid, MAX_HOLE_PERIODS * period)
        columns.append(resample(times, values, grid, rate))  # (3, N)
    samples = np.concatenate(columns).T[keep].astype(np.float32)  # (N', 6)
    if not len(samples):
        raise ValueError("no time where both the accelerometer and the gyroscope have samples")
    return grid[keep], samples

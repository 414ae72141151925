"""Is the IMU data usable? Named problems for the status line, metrics and the learning loop.

A stream can be connected and on time yet carry garbage: NaN or Inf samples, a stuck sensor
(every channel constant), absurd values (1e30), or timestamps from another clock (an hour
ahead: windows never complete). :func:`window_problem` says why one window must not be learned
from; :func:`sample_problems` looks at the newest raw samples; :class:`ImuQuality` keeps each
problem visible for ``hold_s`` seconds after it was last seen, as a warning in words.
"""

from __future__ import annotations

import threading

import numpy as np

ACCEL_LIMIT = 1000.0  # m/s² (~100 g): beyond any body-worn accelerometer's range
GYRO_LIMIT = 100.0  # rad/s (~5700 deg/s): beyond any body-worn gyroscope's range
FLAT_STD = 1e-6  # a channel whose std is below this is constant
MIN_FLAT_SAMPLES = 10  # samples needed before "constant" is said
FUTURE_S = 1.0  # newest timestamp this far ahead of the LSL clock: another clock

NON_FINITE = "non-finite"
OUT_OF_RANGE = "out-of-range"
CONSTANT = "constant"
FUTURE = "future-timestamps"
WARNINGS = {
    NON_FINITE: "IMU: NaN/Inf samples (windows skipped)",
    OUT_OF_RANGE: (
        f"IMU: values out of range (|accel| > {ACCEL_LIMIT:g} m/s² or |gyro| > {GYRO_LIMIT:g} "
        "rad/s; wrong units?) (windows skipped)"
    ),
    CONSTANT: "IMU: constant signal on every channel (sensor stuck?) (windows skipped)",
    FUTURE: "IMU: timestamps ahead of this machine's clock (another clock?): no video pairs",
}


def window_problem(data: np.ndarray) -> str | None:
    """Why a (6, N) window (accel m/s², gyro rad/s) must not be learned from, or None.

    Returns:
        ``NON_FINITE``, ``OUT_OF_RANGE`` or ``CONSTANT`` (checked in that order), or None.
    """
    if data.ndim != 2 or data.shape[1] == 0:
        return NON_FINITE
    if not np.isfinite(data).all():
        return NON_FINITE
    accel, gyro = data[:3], data[3:6]
    if np.abs(accel).max(initial=0.0) > ACCEL_LIMIT or np.abs(gyro).max(initial=0.0) > GYRO_LIMIT:
        return OUT_OF_RANGE
    if data.shape[1] >= MIN_FLAT_SAMPLES and float(data.std(axis=1).max()) < FLAT_STD:
        return CONSTANT
    return None


def sample_problems(t: np.ndarray, data: np.ndarray, now: float) -> list[str]:
    """Problems in the newest raw samples: ``t`` (N,) LSL seconds, ``data`` (6, N).

    Args:
        t: sample timestamps, LSL seconds.
        data: samples in m/s² and rad/s.
        now: the LSL clock now, seconds.
    """
    if t.size == 0:
        return []
    problems = []
    if float(np.max(t)) > now + FUTURE_S:
        problems.append(FUTURE)
    finite = np.isfinite(data).all(axis=0)  # (N,)
    if not finite.all():
        problems.append(NON_FINITE)
    good = data[:, finite]  # (6, M)
    if good.size:
        problem = window_problem(good)
        if problem is not None and problem not in problems:
            problems.append(problem)
    return problems


class ImuQuality:
    """Each named problem stays a warning for ``hold_s`` seconds after it was last seen.

    Args:
        hold_s: how long a problem stays visible after its last sighting, seconds.
    """

    def __init__(self, hold_s: float = 5.0) -> None:
        if not hold_s > 0:
            raise ValueError(f"hold_s must be > 0 seconds, got {hold_s}")
        self.hold_s = float(hold_s)
        self._last_seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def observe(self, problems: list[str], now: float) -> None:
        """Record the problems seen at ``now`` (monotonic seconds).

        Args:
            problems: names from :data:`WARNINGS`, or warnings already in words (e.g. an IMU
                stream that came back with other channels, :mod:`comodo_live.streams.imu_watch`).
            now: monotonic seconds.
        """
        with self._lock:
            for problem in problems:
                self._last_seen[problem] = now
            for problem in [p for p, t in self._last_seen.items() if now - t > self.hold_s]:
                if problem not in WARNINGS:  # worded ones are forgotten once they expire
                    del self._last_seen[problem]

    def warnings(self, now: float) -> tuple[str, ...]:
        """The problems seen within ``hold_s`` of ``now``, in words (a stable order)."""
        with self._lock:
            active = {p for p, t in self._last_seen.items() if now - t <= self.hold_s}
        named = tuple(WARNINGS[name] for name in WARNINGS if name in active)
        return named + tuple(sorted(active - set(WARNINGS)))

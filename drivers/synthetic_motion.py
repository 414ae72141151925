"""Scripted head motion for the synthetic demo session: one model drives IMU samples and frames.

The sensor frame is a head-worn camera's: x right, y down, z forward. Each activity has a base
frequency (step, cadence, wave...), a mean head pitch/roll (so gravity's direction differs), and
periodic rotation/translation components at harmonics of a phase Φ(t). Every repetition of a
segment draws its own frequency, amplitudes, phases, tilt, frequency/amplitude modulation and
noise from ``default_rng([seed, segment])``: deterministic given the seed, never identical twice.

IMU: accel = linear acceleration − gravity in the sensor frame (m/s²), gyro = rate of
(pitch, yaw, roll) (rad/s), plus white noise. Frames use the same pitch/yaw/roll and forward
distance (:meth:`SyntheticMotion.pose`), so optical flow matches the head movement.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pylsl

from ._lsl import CHUNK_S, Pacer, Schedule
from .imu_sources import EMPTY_CHUNK, ImuChunk, ImuSource

GRAVITY = 9.80665

# (kind, axis, harmonic, amplitude): kind "rot" amplitude in degrees on axis 0 pitch, 1 yaw,
# 2 roll; kind "lin" amplitude in m/s² on axis 0 x (right), 1 y (down), 2 z (forward).
Component = tuple[str, int, float, float]


@dataclass(frozen=True)
class ActivityProfile:
    """Motion of one activity. Frequencies in Hz, angles in degrees, speeds in m/s, noise in SI."""

    name: str
    freq_hz: float
    pitch_deg: float
    roll_deg: float
    components: tuple[Component, ...]
    speed_m_s: float
    accel_noise: float
    gyro_noise: float
    heading_drift_deg: float = 0.0


PROFILES: dict[str, ActivityProfile] = {
    p.name: p
    for p in (
        ActivityProfile(
            "walking",
            1.9,
            10.0,
            0.0,
            (
                ("lin", 1, 1, 1.8),
                ("lin", 1, 2, 0.4),
                ("lin", 2, 1, 0.8),
                ("lin", 0, 0.5, 0.6),
                ("rot", 0, 1, 1.5),
                ("rot", 1, 0.5, 3.0),
                ("rot", 2, 0.5, 2.5),
            ),
            1.3,
            0.15,
            0.02,
            5.0,
        ),
        ActivityProfile(
            "running",
            2.8,
            6.0,
            0.0,
            (
                ("lin", 1, 1, 6.0),
                ("lin", 1, 2, 1.5),
                ("lin", 2, 1, 2.0),
                ("lin", 0, 0.5, 1.5),
                ("rot", 0, 1, 3.0),
                ("rot", 1, 0.5, 4.0),
                ("rot", 2, 0.5, 4.0),
            ),
            3.2,
            0.4,
            0.05,
            5.0,
        ),
        ActivityProfile(
            "sitting",
            0.25,
            35.0,
            0.0,
            (("lin", 1, 1, 0.03), ("rot", 0, 1, 0.4), ("rot", 1, 0.4, 5.0), ("rot", 2, 1, 0.3)),
            0.0,
            0.02,
            0.004,
        ),
        ActivityProfile(
            "waving",
            1.4,
            -8.0,
            3.0,
            (
                ("lin", 0, 1, 1.0),
                ("lin", 0, 2, 0.3),
                ("lin", 1, 2, 0.3),
                ("rot", 2, 1, 2.5),
                ("rot", 1, 1, 2.0),
                ("rot", 0, 2, 0.8),
            ),
            0.0,
            0.08,
            0.015,
        ),
        ActivityProfile(
            "cycling",
            1.3,
            18.0,
            0.0,
            (
                ("lin", 0, 1, 0.7),
                ("lin", 1, 2, 0.6),
                ("lin", 2, 2, 0.3),
                ("rot", 2, 1, 2.0),
                ("rot", 1, 1, 1.0),
                ("rot", 0, 2, 0.7),
            ),
            5.5,
            0.6,
            0.04,
            4.0,
        ),
    )
}

DEFAULT_SCRIPT: tuple[tuple[str, float], ...] = (
    ("walking", 14.0),
    ("sitting", 12.0),
    ("running", 10.0),
    ("waving", 10.0),
    ("cycling", 14.0),
)


class SegmentParams(NamedTuple):
    """One repetition of one activity (drawn from the seed). Times in seconds."""

    segment: int
    profile: ActivityProfile
    start_s: float
    duration_s: float
    freq_hz: float
    phase0: float
    components: tuple[tuple[str, int, float, float, float], ...]  # + phase
    fm: np.ndarray  # (3, 3) amplitude, frequency Hz, phase of frequency modulation
    am: np.ndarray  # (3, 3) same for amplitude modulation
    drift: np.ndarray  # (2, 3) heading drift sinusoids (amplitude deg, Hz, phase)
    pitch_deg: float
    roll_deg: float
    speed_m_s: float
    gain: float  # frame brightness gain
    bias: float  # frame brightness offset, 8-bit levels


class Pose(NamedTuple):
    """Head pose at one instant: angles in radians, ``forward_m`` travelled in the segment."""

    activity: str
    segment: int
    local_s: float
    pitch: float
    yaw: float
    roll: float
    phase: float
    forward_m: float
    gain: float
    bias: float


def validate_script(script: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """Check a script of ``(activity, duration_s)`` segments."""
    out = tuple((str(a), float(d)) for a, d in script)
    if not out:
        raise ValueError("script must have at least one segment")
    for activity, duration in out:
        if activity not in PROFILES:
            raise ValueError(f"unknown activity {activity!r} in script; known: {sorted(PROFILES)}")
        if not 0.5 <= duration <= 3600:
            raise ValueError(
                f"segment duration must be in [0.5, 3600] s, got {duration} ({activity})"
            )
    return out


class SyntheticMotion:
    """The scripted session's motion; the script repeats forever.

    Args:
        script: ``(activity, duration_s)`` segments (activities in :data:`PROFILES`).
        seed: randomness of every repetition.
        t0: LSL time at which the script starts (set by the session at start).
    """

    def __init__(
        self,
        script: Sequence[tuple[str, float]] = DEFAULT_SCRIPT,
        seed: int = 0,
        t0: float | None = None,
    ) -> None:
        self.script = validate_script(script)
        self.seed = int(seed)
        self.t0 = t0
        durations = np.array([d for _, d in self.script])
        self._starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
        self.cycle_s = float(durations.sum())
        self._params: OrderedDict[int, SegmentParams] = OrderedDict()
        self._noise: OrderedDict[tuple[int, float], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def activities(self) -> list[str]:
        """Distinct activities in script order."""
        return list(dict.fromkeys(a for a, _ in self.script))

    def segment_at(self, t_s: float) -> int:
        """Index of the segment at ``t_s`` seconds after the start (counts across cycles)."""
        cycle = math.floor(t_s / self.cycle_s)
        within = t_s - cycle * self.cycle_s
        j = int(np.searchsorted(self._starts, within, "right")) - 1
        return cycle * len(self.script) + max(j, 0)

    def segment_start(self, segment: int) -> float:
        cycle, j = divmod(segment, len(self.script))
        return cycle * self.cycle_s + float(self._starts[j])

    def activity_at(self, t_lsl: float) -> str | None:
        """Ground-truth activity at LSL time ``t_lsl`` (None before the start)."""
        if self.t0 is None or t_lsl < self.t0:
            return None
        return self.params(self.segment_at(t_lsl - self.t0)).profile.name

    def params(self, segment: int) -> SegmentParams:
        with self._lock:
            cached = self._params.get(segment)
            if cached is None:
                cached = self._params[segment] = self._draw(segment)
                if len(self._params) > 8:
                    self._params.popitem(last=False)
            return cached

    def _draw(self, segment: int) -> SegmentParams:
        rng = np.random.default_rng([self.seed, segment])
        activity, duration = self.script[segment % len(self.script)]
        prof = PROFILES[activity]
        comps = tuple(
            (kind, axis, harm, amp * rng.uniform(0.75, 1.25), rng.uniform(0, 2 * np.pi))
            for kind, axis, harm, amp in prof.components
        )

        def sinusoids(n: int, amp: tuple[float, float], hz: tuple[float, float]) -> np.ndarray:
            return np.stack(
                [rng.uniform(*amp, n), rng.uniform(*hz, n), rng.uniform(0, 2 * np.pi, n)]
            )

        return SegmentParams(
            segment=segment,
            profile=prof,
            start_s=self.segment_start(segment),
            duration_s=duration,
            freq_hz=prof.freq_hz * rng.uniform(0.85, 1.15),
            phase0=rng.uniform(0, 2 * np.pi),
            components=comps,
            fm=sinusoids(3, (0.0, 0.03), (0.05, 0.3)),
            am=sinusoids(3, (0.0, 0.08), (0.05, 0.4)),
            drift=sinusoids(2, (0.0, prof.heading_drift_deg), (0.02, 0.1)),
            pitch_deg=prof.pitch_deg + rng.uniform(-5, 5),
            roll_deg=prof.roll_deg + rng.uniform(-4, 4),
            speed_m_s=prof.speed_m_s * rng.uniform(0.85, 1.15),
            gain=rng.uniform(0.85, 1.15),
            bias=rng.uniform(-12, 12),
        )

    @staticmethod
    def _phase(p: SegmentParams, t: np.ndarray) -> np.ndarray:
        a, f, ph = p.fm[:, :, None]
        w = 2 * np.pi * f
        modulation = (-(a / w) * (np.cos(w * t + ph) - np.cos(ph))).sum(0)
        return p.phase0 + 2 * np.pi * p.freq_hz * (t + modulation)

    def _kinematics(self, p: SegmentParams, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(3, N) angles (pitch, yaw, roll) in rad and (3, N) linear acceleration in m/s²."""
        phase = self._phase(p, t)
        a, f, ph = p.am[:, :, None]
        envelope = 1.0 + (a * np.sin(2 * np.pi * f * t + ph)).sum(0)
        angles = np.zeros((3, t.size))
        linear = np.zeros((3, t.size))
        for kind, axis, harm, amp, comp_phase in p.components:
            wave = amp * envelope * np.sin(harm * phase + comp_phase)
            if kind == "rot":
                angles[axis] += np.deg2rad(wave)
            else:
                linear[axis] += wave
        da, df, dph = p.drift[:, :, None]
        angles[1] += np.deg2rad((da * np.sin(2 * np.pi * df * t + dph)).sum(0))
        angles[0] += np.deg2rad(p.pitch_deg)
        angles[2] += np.deg2rad(p.roll_deg)
        return angles, linear

    def _imu_segment(self, p: SegmentParams, t_local: np.ndarray) -> np.ndarray:
        dt, n = 1e-3, t_local.size
        angles, linear = self._kinematics(p, np.concatenate([t_local, t_local + dt, t_local - dt]))
        gyro = (angles[:, n : 2 * n] - angles[:, 2 * n :]) / (2 * dt)  # central difference
        angles, linear = angles[:, :n], linear[:, :n]
        pitch, roll = angles[0], angles[2]
        gravity = GRAVITY * np.stack(
            [np.sin(roll) * np.cos(pitch), np.cos(roll) * np.cos(pitch), np.sin(pitch)]
        )
        return np.concatenate([linear - gravity, gyro]).T  # (N, 6)

    def _noise_block(self, p: SegmentParams, rate_hz: float) -> np.ndarray:
        key = (p.segment, rate_hz)
        with self._lock:
            block = self._noise.get(key)
            if block is None:
                rng = np.random.default_rng([self.seed, p.segment, int(rate_hz * 1000)])
                n = math.ceil(p.duration_s * rate_hz) + 2
                sigma = np.array([p.profile.accel_noise] * 3 + [p.profile.gyro_noise] * 3)
                block = self._noise[key] = rng.standard_normal((n, 6)) * sigma
                if len(self._noise) > 4:
                    self._noise.popitem(last=False)
            return block

    def imu(self, k0: int, k1: int, rate_hz: float) -> np.ndarray:
        """(k1 - k0, 6) float32 samples k0..k1-1 of a ``rate_hz`` stream (sample k at k / rate)."""
        k = np.arange(k0, k1)
        t = k / rate_hz
        segments = np.array([self.segment_at(x) for x in t]) if k.size < 64 else self._segments(t)
        out = np.empty((k.size, 6))
        for seg in np.unique(segments):
            p = self.params(int(seg))
            sel = segments == seg
            out[sel] = self._imu_segment(p, t[sel] - p.start_s)
            first = math.ceil(p.start_s * rate_hz - 1e-9)
            noise = self._noise_block(p, rate_hz)
            out[sel] += noise[np.clip(k[sel] - first, 0, len(noise) - 1)]
        return out.astype(np.float32)

    def _segments(self, t: np.ndarray) -> np.ndarray:
        cycle = np.floor(t / self.cycle_s)
        j = np.searchsorted(self._starts, t - cycle * self.cycle_s, "right") - 1
        return (cycle * len(self.script) + np.maximum(j, 0)).astype(np.int64)

    def pose(self, t_s: float) -> Pose:
        """Head pose ``t_s`` seconds after the start."""
        p = self.params(self.segment_at(t_s))
        local = t_s - p.start_s
        angles, _ = self._kinematics(p, np.array([local]))
        return Pose(
            p.profile.name,
            p.segment,
            local,
            float(angles[0, 0]),
            float(angles[1, 0]),
            float(angles[2, 0]),
            float(self._phase(p, np.array([local]))[0]),
            p.speed_m_s * local,
            p.gain,
            p.bias,
        )


class SyntheticImuSource(ImuSource):
    """IMU samples of a :class:`SyntheticMotion` at ``rate_hz``, paced on ``local_clock()``.

    Sample k is stamped ``motion.t0 + k / rate_hz`` (``t0`` defaults to the time of ``open()``).

    Args:
        motion: the shared motion model (default: a new one with ``seed`` and the default script).
        rate_hz: sampling rate in Hz (e.g. 50 or 200).
        seed: seed of the default motion model.
    """

    def __init__(
        self, motion: SyntheticMotion | None = None, rate_hz: float = 50.0, seed: int = 0
    ) -> None:
        if not 1.0 <= rate_hz <= 2000.0:
            raise ValueError(f"rate_hz must be in [1, 2000], got {rate_hz}")
        self.motion = motion or SyntheticMotion(seed=seed)
        self.rate_hz = float(rate_hz)
        self.description = f"synthetic:seed={self.motion.seed}"
        self.pacer: Pacer | None = None

    def open(self) -> None:
        if self.motion.t0 is None:
            self.motion.t0 = pylsl.local_clock()
        chunk = max(1, round(self.rate_hz * CHUNK_S))
        self.pacer = Pacer(Schedule(rate_hz=self.rate_hz), t0=self.motion.t0, min_items=chunk)
        self.pacer.next_index = max(
            0, self.pacer.schedule.count_due(pylsl.local_clock() - self.motion.t0) - 1
        )

    def read(self, timeout: float, stop: threading.Event | None = None) -> ImuChunk | None:
        if self.pacer is None:
            raise RuntimeError("SyntheticImuSource.read() before open()")
        k0, k1 = self.pacer.wait_due(timeout, stop)
        if k0 == k1:
            return EMPTY_CHUNK
        return ImuChunk(self.motion.imu(k0, k1, self.rate_hz), self.pacer.lsl_times(k0, k1))

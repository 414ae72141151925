"""Typed records handed between threads. Units and shapes are part of each field's doc."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IMU_CHANNELS: tuple[str, ...] = ("accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z")
IMU_UNITS: tuple[str, ...] = ("m/s^2", "m/s^2", "m/s^2", "rad/s", "rad/s", "rad/s")
G_TO_MS2 = 9.80665
DEG_TO_RAD = float(np.pi / 180.0)


@dataclass(frozen=True)
class ImuWindow:
    """One IMU window on the common LSL clock.

    Attributes:
        data: (C, N) float32; rows in :data:`IMU_CHANNELS` order, accel in m/s², gyro in rad/s,
            resampled to ``rate_hz``.
        t_start: LSL time of the first sample, seconds.
        t_end: LSL time of the last sample, seconds.
        rate_hz: sampling rate of ``data``, Hz.
        camera_on: whether the camera was on for the whole window.
        t_last_push: local_clock() when the window's last sample was received (latency accounting).
    """

    data: np.ndarray
    t_start: float
    t_end: float
    rate_hz: float
    camera_on: bool
    t_last_push: float = 0.0


@dataclass(frozen=True)
class VideoClip:
    """Frames captured during one IMU window.

    Attributes:
        frames: (T, H, W, 3) uint8 RGB, downscaled for the teacher.
        timestamps: (T,) float64 LSL capture times, seconds.
        frame_indices: (T,) int64 indices into the session's video file.
    """

    frames: np.ndarray
    timestamps: np.ndarray
    frame_indices: np.ndarray


@dataclass(frozen=True)
class PairedWindow:
    """An IMU window with the clip captured in the same interval (``clip`` None when camera off).

    ``label`` is the activity label active over the window (from markers/API), if any;
    ``held_out``: a labelled window kept out of distillation (the student guard's test data).
    """

    imu: ImuWindow
    clip: VideoClip | None
    label: str | None = None
    held_out: bool = False


@dataclass(frozen=True)
class Prediction:
    """One activity prediction.

    Attributes:
        t: LSL time of the window's last sample, seconds.
        label: predicted activity, or ``"unknown"`` below the confidence threshold.
        confidence: smoothed probability of ``label`` in [0, 1].
        probabilities: activity name → smoothed probability.
        source: ``"student"`` (IMU only) or ``"teacher"`` (video).
        latency_ms: from the window's last sample arriving to this prediction, milliseconds.
    """

    t: float
    label: str
    confidence: float
    probabilities: dict[str, float] = field(default_factory=dict)
    source: str = "student"
    latency_ms: float = 0.0


@dataclass(frozen=True)
class TrainStats:
    """Trainer diagnostics at one step.

    Attributes:
        step: optimiser steps so far.
        loss: COMODO loss of the last step (nats).
        steps_per_s: recent optimiser steps per second.
        queue_fill: fraction of the teacher queue filled, [0, 1].
        target_entropy: teacher target entropy as a fraction of its maximum log(K), [0, 1].
        mean_cosine: mean pairwise cosine between queue entries, [-1, 1].
        lr: current learning rate.
        skipped_steps: steps skipped for NaN/inf loss or exploding norms.
    """

    step: int
    loss: float
    steps_per_s: float
    queue_fill: float
    target_entropy: float
    mean_cosine: float
    lr: float
    skipped_steps: int = 0

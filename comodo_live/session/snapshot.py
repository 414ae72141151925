"""What the GUI (or any front end) sees of the engine: plain data, polled from a QTimer.

The GUI never imports torch; it calls ``Controller.snapshot()`` and the controller's commands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from comodo_live.records import Prediction, TrainStats

# stream health thresholds (decided in comodo_live.session.streams.health_of; the GUI's tooltip
# quotes them, so they live in this torch-free module): newest data older than this is
LAGGY_AFTER_S = 1.5  # "laggy", seconds
MISSING_AFTER_S = 7.0  # "missing", seconds


@dataclass(frozen=True)
class StreamStatus:
    """One stream the session reads, copied at one instant.

    Attributes:
        name, type, source_id: the LSL stream's identity.
        nominal_rate_hz: the stream's declared rate, Hz (0: irregular).
        measured_rate_hz: rate over the last ~2 s of data, Hz (0 when unknown).
        seconds_since_data: LSL-clock seconds since the last chunk arrived (inf before any).
        health: ``"ok"`` | ``"laggy"`` | ``"missing"`` | ``"waiting"`` (an optional stream not
            on LSL yet; it joins the session when it appears).
        selected: the session reads it (always, today).
        samples: samples received so far.
        gaps: gaps detected so far.
        nan_samples: samples holding at least one NaN (kept, never dropped).
        time_offset_s: clock correction added to the stream's timestamps, seconds.
        error: the exception that stopped its reader, as text, or None.
    """

    name: str
    type: str
    source_id: str
    nominal_rate_hz: float
    measured_rate_hz: float
    seconds_since_data: float
    health: str
    selected: bool = True
    samples: int = 0
    gaps: int = 0
    nan_samples: int = 0
    time_offset_s: float = 0.0
    error: str | None = None


def stream_health_record(status: StreamStatus) -> dict[str, object]:
    """One stream's health as a ``metrics.jsonl`` entry (rates Hz, age s; inf age → null)."""
    return {
        "name": status.name,
        "type": status.type,
        "source_id": status.source_id,
        "health": status.health,
        "rate_hz": round(status.measured_rate_hz, 3),
        "nominal_rate_hz": status.nominal_rate_hz,
        "age_s": round(status.seconds_since_data, 3),
        "samples": status.samples,
        "gaps": status.gaps,
        "nan_samples": status.nan_samples,
    }


def streams_summary(streams: tuple[StreamStatus, ...]) -> str:
    """The streams' health in one short text for a status line, e.g.
    ``IMU ok 50/50 Hz; Camera laggy 6/10 Hz 2.1 s old, 3 NaN, 1 gap; OtherMarkers waiting``.

    Regular streams show measured / nominal rate; the age of the newest data only when it is not
    "ok"; NaN samples and gaps only when there are any.
    """
    parts = []
    for s in streams:
        text = f"{s.name or s.source_id or s.type} {s.health}"
        if s.health != "waiting":
            if s.nominal_rate_hz > 0:
                text += f" {s.measured_rate_hz:.0f}/{s.nominal_rate_hz:.0f} Hz"
            if s.health != "ok" and math.isfinite(s.seconds_since_data):
                text += f" {s.seconds_since_data:.1f} s old"
            if s.nan_samples:
                text += f", {s.nan_samples} NaN"
            if s.gaps:
                text += f", {s.gaps} gap{'s' if s.gaps > 1 else ''}"
        parts.append(text)
    return "; ".join(parts)


@dataclass(frozen=True)
class StreamsStatus:
    """The session's LSL side, copied at one instant (:meth:`EngineStreams.status`).

    Attributes:
        streams: one record per stream read, in start order.
        recording: an XDF recording is being written.
        failures: ``"<worker> stopped: <exception>"`` for every failed reader or windowing worker.
    """

    streams: tuple[StreamStatus, ...] = ()
    recording: bool = False
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class EngineSnapshot:
    """Everything a front end shows, copied at one instant.

    Attributes:
        camera_on: camera streaming (False = privacy mode).
        recording: an XDF recording is being written.
        session_dir: the session folder, as a string path.
        recording_bytes: current size of the session's XDF + video files, bytes.
        streams: discovered streams with health.
        train: latest trainer stats, None before the first step.
        loss_history: (K, 2) float64 [step, loss] recent points.
        agreement_history: (K, 2) float64 [lsl time s, student–teacher agreement in [0, 1]].
        teacher_clips_per_s: teacher throughput, clips/s.
        teacher_skipped: stale clips skipped so far.
        teacher_duty: fraction of wall time the teacher spent encoding, [0, 1].
        prediction: latest student (IMU-only) prediction.
        teacher_prediction: latest teacher prediction (camera on only).
        recent_predictions: recent (student, teacher-or-None) pairs, oldest first.
        activities: activity names in display order.
        labelled_windows: activity → number of labelled windows.
        labelling: activity being labelled now, or None.
        errors: recent worker errors, newest last.
        export_progress: None (idle) or fraction [0, 1]; export_result: last export dir or error.
        personalise_progress: None (idle) or fraction [0, 1] of the running fine-tune of the
            student on the labelled windows; personalise_result: summary of the last one.
        distillation_gain: the student guard's figure ("distillation gain on your labels:
            +x points (n windows)" or "... no labels yet"), "" while the engine is stopped.
        waiting: why learning has not started, in words ("" once it trains or when stopped).
        imu_warnings: bad IMU data seen in the last few seconds, in words
            (:mod:`comodo_live.imu_quality`: NaN/Inf, out of range, constant, future timestamps).
        disk_warning: ``"no space left on <folder> (...)"`` while the session's volume is below
            its free-space reserve (the recording is then stopped), else "".
    """

    camera_on: bool
    recording: bool
    session_dir: str
    recording_bytes: int
    streams: tuple[StreamStatus, ...]
    train: TrainStats | None
    loss_history: np.ndarray
    agreement_history: np.ndarray
    teacher_clips_per_s: float
    teacher_skipped: int
    teacher_duty: float
    prediction: Prediction | None
    teacher_prediction: Prediction | None
    recent_predictions: tuple[tuple[Prediction, Prediction | None], ...]
    activities: tuple[str, ...]
    labelled_windows: dict[str, int] = field(default_factory=dict)
    labelling: str | None = None
    errors: tuple[str, ...] = ()
    export_progress: float | None = None
    export_result: str | None = None
    personalise_progress: float | None = None
    personalise_result: str | None = None
    distillation_gain: str = ""
    waiting: str = ""
    imu_warnings: tuple[str, ...] = ()
    disk_warning: str = ""

"""The front end's :class:`~comodo_live.session.snapshot.EngineSnapshot` and the session's
``metrics.jsonl`` line, both built from the same frozen records.

Inputs are records copied once (:class:`SessionStatus` from the controller,
:class:`~comodo_live.learning.stats.PipelineStats` from ``Pipeline.stats()``,
:class:`~comodo_live.session.snapshot.StreamsStatus` from ``EngineStreams.status()``) and the
controller's two small shared stores (labels, predictions), which copy under their own locks:
nothing here holds a lock longer than a copy or waits on the trainer, and nothing knows the
controller.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from comodo_live.learning.labels import LabelStore
from comodo_live.learning.predictions import PredictionBoard
from comodo_live.learning.stats import PipelineStats
from comodo_live.session.snapshot import EngineSnapshot, StreamsStatus, stream_health_record


@dataclass(frozen=True)
class SessionStatus:
    """The controller's own figures, copied at one instant.

    Attributes:
        camera_on: camera streaming (False = privacy mode).
        session_dir: the session folder as a string path ("" before the first start).
        recording_bytes: size of the session's XDF + video files, bytes.
        errors: recent errors, newest last.
        export_progress: None (idle) or fraction [0, 1]; export_result: last export dir or error.
        personalise_progress: None (idle) or fraction [0, 1]; personalise_result: last summary.
    """

    camera_on: bool
    session_dir: str = ""
    recording_bytes: int = 0
    errors: tuple[str, ...] = ()
    export_progress: float | None = None
    export_result: str | None = None
    personalise_progress: float | None = None
    personalise_result: str | None = None


def build_snapshot(
    session: SessionStatus,
    pipeline: PipelineStats | None,
    streams: StreamsStatus | None,
    board: PredictionBoard,
    labels: LabelStore,
) -> EngineSnapshot:
    """What the front end shows (``pipeline``/``streams``: None while the engine is stopped)."""
    teacher = pipeline.teacher if pipeline is not None else None
    return EngineSnapshot(
        camera_on=session.camera_on,
        recording=streams is not None and streams.recording,
        session_dir=session.session_dir,
        recording_bytes=session.recording_bytes,
        streams=streams.streams if streams is not None else (),
        train=pipeline.train if pipeline is not None else None,
        loss_history=pipeline.loss_history if pipeline is not None else np.zeros((0, 2)),
        agreement_history=board.agreement_history(),
        teacher_clips_per_s=teacher.clips_per_s if teacher is not None else 0.0,
        teacher_skipped=teacher.skipped if teacher is not None else 0,
        teacher_duty=teacher.duty if teacher is not None else 0.0,
        prediction=board.student,
        teacher_prediction=board.teacher if session.camera_on else None,
        recent_predictions=board.recent(),
        activities=labels.activities,
        labelled_windows=labels.counts(),
        labelling=labels.labelling,
        errors=session.errors,
        export_progress=session.export_progress,
        export_result=session.export_result,
        personalise_progress=session.personalise_progress,
        personalise_result=session.personalise_result,
        distillation_gain=pipeline.distillation_gain if pipeline is not None else "",
        waiting=pipeline.waiting if pipeline is not None else "",
    )


def metrics_line(
    camera_on: bool,
    pipeline: PipelineStats | None,
    board: PredictionBoard,
    labels: LabelStore,
    streams: StreamsStatus | None = None,
) -> dict[str, Any]:
    """One ``{"type": "metrics", ...}`` line of ``metrics.jsonl`` (units as in PipelineStats).

    The learning figures are present only while the pipeline exists; ``prediction`` and
    ``teacher_prediction`` (``[label, confidence]`` or None) always are; ``streams`` (one
    :func:`~comodo_live.session.snapshot.stream_health_record` per stream) while the engine's
    streams exist.
    """
    record: dict[str, Any] = {"type": "metrics", "wall_time": time.time(), "camera_on": camera_on}
    if pipeline is not None:
        train = pipeline.train
        teacher = pipeline.teacher
        record.update(
            step=pipeline.step,
            loss=pipeline.loss,
            steps_per_s=pipeline.steps_per_s,
            queue_fill=pipeline.queue_fill,
            target_entropy=train.target_entropy if train is not None else math.nan,
            mean_cosine=train.mean_cosine if train is not None else math.nan,
            lr=train.lr if train is not None else math.nan,
            skipped_steps=pipeline.skipped_steps,
            rollbacks=pipeline.rollbacks,
            replay_pairs=pipeline.pairs,
            teacher_clips_per_s=teacher.clips_per_s,
            teacher_duty=teacher.duty,
            teacher_skipped=teacher.skipped,
            teacher_encoded=teacher.encoded,
            agreement=board.agreement,
            windows=pipeline.windows,
            predictions=pipeline.predictions,
            predictor_skipped=pipeline.predictor_skipped,
            latency_p95_ms=pipeline.latency_p95_ms,
            labelled=labels.counts(),
            classifier_fits=pipeline.classifier_fits,
            distillation_gain_points=pipeline.distillation_gain_points,
            distillation_gain_windows=pipeline.distillation_gain_windows,
            serving=pipeline.serving,
            waiting=pipeline.waiting,
        )
    if streams is not None:
        record["streams"] = [stream_health_record(s) for s in streams.streams]
    student, teacher_prediction = board.student, board.teacher
    record["prediction"] = None if student is None else [student.label, student.confidence]
    record["teacher_prediction"] = (
        None
        if teacher_prediction is None
        else [teacher_prediction.label, teacher_prediction.confidence]
    )
    return record

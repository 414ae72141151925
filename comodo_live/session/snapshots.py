"""Builds :class:`~comodo_live.session.snapshot.EngineSnapshot` from a running controller.

Only copies of small values and bounded histories: no lock is held longer than a copy, and
nothing waits on the trainer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from comodo_live.session.snapshot import EngineSnapshot

if TYPE_CHECKING:
    from comodo_live.session.controller import Controller


def build_snapshot(ctl: Controller) -> EngineSnapshot:
    """A consistent-enough copy of what the front end shows."""
    pipeline, streams = ctl.pipeline, ctl.streams
    train = None
    loss_history = np.zeros((0, 2))
    clips_per_s = duty = 0.0
    skipped = 0
    if pipeline is not None:
        train = pipeline.trainer.stats
        loss_history = pipeline.trainer.loss_history()
        teacher = pipeline.teacher.stats()
        clips_per_s, duty, skipped = teacher.clips_per_s, teacher.duty, teacher.skipped
    export_progress, export_result = ctl.export_state
    personalise_progress, personalise_result = ctl.personalise_state
    session_dir = ctl.session_dir
    return EngineSnapshot(
        camera_on=ctl.camera_on,
        recording=streams is not None and streams.recording,
        session_dir=str(session_dir) if session_dir is not None else "",
        recording_bytes=ctl.recording_bytes(),
        streams=streams.stream_statuses(ctl.camera_on) if streams is not None else (),
        train=train,
        loss_history=loss_history,
        agreement_history=ctl.board.agreement_history(),
        teacher_clips_per_s=clips_per_s,
        teacher_skipped=skipped,
        teacher_duty=duty,
        prediction=ctl.board.student,
        teacher_prediction=ctl.board.teacher if ctl.camera_on else None,
        recent_predictions=ctl.board.recent(),
        activities=ctl.labels.activities,
        labelled_windows=ctl.labels.counts(),
        labelling=ctl.labels.labelling,
        errors=ctl.errors,
        export_progress=export_progress,
        export_result=export_result,
        personalise_progress=personalise_progress,
        personalise_result=personalise_result,
    )

"""Housekeeping: the metrics log line every ``metrics_every_s`` and worker error collection."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from comodo_live.worker import Worker

if TYPE_CHECKING:
    from comodo_live.session.controller import Controller


class Housekeeper(Worker):
    """Writes ``{"type": "metrics", ...}`` lines and surfaces worker errors in the snapshot.

    Args:
        controller: the running controller.
        every_s: seconds between metrics lines.
    """

    def __init__(self, controller: Controller, every_s: float) -> None:
        super().__init__("comodo-housekeeping")
        self.controller = controller
        self.every_s = float(every_s)
        self._reported: set[int] = set()

    def _loop(self) -> None:
        while not self._stop_event.wait(self.every_s):
            self.check_errors()
            self.write_metrics()

    def check_errors(self) -> None:
        """Report each failed worker / reader once (they stop and keep their exception)."""
        ctl = self.controller
        parts: list[Any] = []
        if ctl.pipeline is not None:
            parts.extend(ctl.pipeline.workers)
        if ctl.streams is not None:
            parts.extend(ctl.streams.readers.values())
            if ctl.streams.windowing is not None:
                parts.append(ctl.streams.windowing)
        for part in parts:
            error = getattr(part, "error", None)
            if error is not None and id(error) not in self._reported:
                self._reported.add(id(error))
                name = getattr(part, "name", None) or getattr(part, "description", part)
                ctl.report_error(f"{name} stopped: {error!r}")

    def metrics_record(self) -> dict[str, Any]:
        ctl = self.controller
        record: dict[str, Any] = {
            "type": "metrics",
            "wall_time": time.time(),
            "camera_on": ctl.camera_on,
        }
        pipeline = ctl.pipeline
        if pipeline is not None:
            stats = pipeline.trainer.stats
            teacher = pipeline.teacher.stats()
            record.update(
                step=pipeline.trainer.step,
                loss=stats.loss if stats else math.nan,
                steps_per_s=pipeline.trainer.steps_per_s(),
                queue_fill=pipeline.trainer.queue.fill,
                target_entropy=stats.target_entropy if stats else math.nan,
                mean_cosine=stats.mean_cosine if stats else math.nan,
                lr=stats.lr if stats else math.nan,
                skipped_steps=pipeline.trainer.skipped_steps,
                rollbacks=pipeline.trainer.rollbacks,
                replay_pairs=len(pipeline.replay),
                teacher_clips_per_s=teacher.clips_per_s,
                teacher_duty=teacher.duty,
                teacher_skipped=teacher.skipped,
                teacher_encoded=teacher.encoded,
                agreement=ctl.board.agreement,
                windows=pipeline.windows_seen,
                predictions=pipeline.predictor.predicted,
                predictor_skipped=pipeline.predictor.skipped,
                latency_p95_ms=pipeline.predictor.latency_p95_ms(),
                labelled=ctl.labels.counts(),
                classifier_fits=pipeline.classifier.fits,
            )
        student = ctl.board.student
        teacher_pred = ctl.board.teacher
        record["prediction"] = None if student is None else [student.label, student.confidence]
        record["teacher_prediction"] = (
            None if teacher_pred is None else [teacher_pred.label, teacher_pred.confidence]
        )
        return record

    def write_metrics(self) -> None:
        metrics = self.controller.metrics
        if metrics is not None:
            metrics.write(self.metrics_record())

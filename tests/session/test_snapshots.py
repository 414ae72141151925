"""Snapshot and metrics line from frozen records; housekeeping without the controller."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np

from comodo_live.learning.labels import LabelStore
from comodo_live.learning.predictions import PredictionBoard
from comodo_live.learning.stats import PipelineStats
from comodo_live.learning.teacher import TeacherStats
from comodo_live.metrics import MetricsLog, read_metrics
from comodo_live.records import Prediction, TrainStats
from comodo_live.session.housekeeping import Housekeeper
from comodo_live.session.snapshot import StreamsStatus, StreamStatus
from comodo_live.session.snapshots import SessionStatus, build_snapshot, metrics_line

# What benchmarks/ and tests/ read from a metrics line: these names must stay (more may come).
METRICS_KEYS = {
    "type", "wall_time", "camera_on", "step", "loss", "steps_per_s", "queue_fill",
    "target_entropy", "mean_cosine", "lr", "skipped_steps", "rollbacks", "replay_pairs",
    "teacher_clips_per_s", "teacher_duty", "teacher_skipped", "teacher_encoded", "agreement",
    "windows", "predictions", "predictor_skipped", "latency_p95_ms", "labelled",
    "classifier_fits", "prediction", "teacher_prediction",
}  # fmt: skip


def _stats(train: TrainStats | None) -> PipelineStats:
    return PipelineStats(
        step=12,
        train=train,
        steps_per_s=4.5,
        loss_history=np.array([[11.0, 2.5], [12.0, 2.0]]),
        queue_fill=0.25,
        skipped_steps=1,
        rollbacks=1,
        pairs=40,
        teacher=TeacherStats(clips_per_s=3.0, duty=0.2, skipped=5, encoded=60),
        windows=100,
        predictions=90,
        predictor_skipped=2,
        latency_p95_ms=7.5,
        classifier_fits=3,
        failures=("comodo-teacher stopped: OSError('gone')",),
    )


def _stores() -> tuple[PredictionBoard, LabelStore]:
    board, labels = PredictionBoard(), LabelStore()
    labels.add_activity("walking")
    labels.add_window("walking", np.zeros((6, 50), np.float32))
    board.add_student(Prediction(1.0, "walking", 0.8, source="student"))
    board.add_teacher(Prediction(1.0, "walking", 0.9, source="teacher"))
    return board, labels


def test_metrics_line__keys_and_figures_come_from_the_records() -> None:
    board, labels = _stores()
    train = TrainStats(12, 2.0, 4.5, 0.25, 0.7, 0.1, 1e-3, 1)
    line = metrics_line(True, _stats(train), board, labels)
    assert not METRICS_KEYS - set(line)  # none missing
    assert (line["step"], line["loss"], line["replay_pairs"], line["lr"]) == (12, 2.0, 40, 1e-3)
    assert (line["teacher_encoded"], line["latency_p95_ms"]) == (60, 7.5)
    assert line["labelled"] == {"walking": 1}
    assert line["prediction"] == ["walking", 0.8] and line["teacher_prediction"] == ["walking", 0.9]
    before_first_step = metrics_line(True, _stats(None), board, labels)
    assert math.isnan(before_first_step["loss"]) and math.isnan(before_first_step["lr"])
    stopped = metrics_line(False, None, board, labels)
    assert set(stopped) == {"type", "wall_time", "camera_on", "prediction", "teacher_prediction"}
    assert stopped["camera_on"] is False and stopped["prediction"] == ["walking", 0.8]


def test_build_snapshot__from_records_hides_the_teacher_in_privacy_mode() -> None:
    board, labels = _stores()
    imu = StreamStatus("imu", "IMU", "imu-1", 50.0, 49.0, 0.1, "ok", samples=500)
    streams = StreamsStatus((imu,), recording=True)
    session = SessionStatus(camera_on=False, session_dir="/s", errors=("boom",))
    snap = build_snapshot(session, _stats(None), streams, board, labels)
    assert snap.streams == (imu,) and snap.recording and snap.session_dir == "/s"
    assert snap.teacher_prediction is None and snap.prediction is not None
    assert (snap.teacher_clips_per_s, snap.teacher_skipped, snap.teacher_duty) == (3.0, 5, 0.2)
    assert snap.loss_history.shape == (2, 2) and snap.errors == ("boom",)
    assert snap.labelled_windows == {"walking": 1}
    idle = build_snapshot(SessionStatus(camera_on=True), None, None, board, labels)
    assert idle.streams == () and not idle.recording and idle.train is None
    assert idle.loss_history.shape == (0, 2) and idle.teacher_prediction is not None


def test_housekeeper__reports_each_failure_once_and_writes_lines(tmp_path: Path) -> None:
    reports: list[str] = []
    failures = ["comodo-teacher stopped: OSError('gone')"]
    log = MetricsLog(tmp_path / "metrics.jsonl")
    written = threading.Event()

    def line() -> dict[str, object]:
        written.set()
        return {"type": "metrics", "n": len(reports)}

    with Housekeeper(0.05, line, lambda: list(failures), reports.append, log) as keeper:
        assert written.wait(5.0)
        keeper.check_errors()
        failures.append("lsl-reader stopped: RuntimeError('x')")
        keeper.check_errors()
    log.close()
    assert reports == failures  # each once, in order
    assert all(r["type"] == "metrics" for r in read_metrics(tmp_path / "metrics.jsonl"))
    assert log.lines >= 1

"""The controller end to end on the synthetic demo over real LSL (loopback, unique source_ids)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pylsl
import pytest
import pyxdf
import torch

from comodo_live.learning.state import load_state
from comodo_live.session.controller import Controller
from drivers.sources import DemoSources, make_sources

from .conftest import fast_config, wait_for

pytestmark = pytest.mark.lsl


def _video_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def test_controller__privacy_mode_stops_every_frame_downstream(tmp_path: Path) -> None:
    ctl = Controller(fast_config(tmp_path), sources_factory=make_sources)
    ctl.start()
    try:
        assert ctl.streams is not None and ctl.pipeline is not None and ctl.sources is not None
        sources, teacher = ctl.sources, ctl.pipeline.teacher
        assert wait_for(
            lambda: teacher.frames_encoded > 0 and ctl.streams is not None and ctl.streams.recording
        )
        assert wait_for(lambda: ctl.latest_preview() is not None)
        time.sleep(2.0)  # let the recorder receive some frame indices
        t_off = pylsl.local_clock()
        ctl.set_camera(False)
        published_at_off = sources.frames_published
        camera = sources.session.camera  # type: ignore[attr-defined]
        read_at_off, written_at_off = camera.frames_read, camera.frames_written
        assert ctl.latest_preview() is None
        time.sleep(0.3)  # a clip already inside the teacher may finish
        encoded_at_off = teacher.frames_encoded
        time.sleep(3.0)
        snap = ctl.snapshot()
        assert not snap.camera_on and snap.teacher_prediction is None
        # camera source: nothing read or published while off
        assert sources.frames_published == published_at_off
        assert camera.frames_read == read_at_off and not camera.source.is_open
        # teacher input: nothing new, and nothing captured after the switch ever reached it
        assert teacher.frames_encoded == encoded_at_off
        assert teacher.last_frame_time <= t_off
        # frame-index stream, as read by the engine
        times, _, _ = ctl.streams.readers["camera"].between(t_off, np.inf)
        assert times.size == 0
        assert ctl.pipeline.predictor.predicted > 0  # IMU-only prediction goes on
        predicted = ctl.pipeline.predictor.predicted
        assert wait_for(
            lambda: ctl.pipeline is not None and ctl.pipeline.predictor.predicted > predicted + 2
        )
        session = ctl.session_dir
    finally:
        ctl.stop()
    assert session is not None
    streams, _ = pyxdf.load_xdf(str(session / "session.xdf"))
    by_type = {s["info"]["type"][0]: s for s in streams if s["info"]["type"][0] != "Markers"}
    index = by_type["VideoFrameIndex"]
    assert len(index["time_stamps"]) > 0
    assert index["time_stamps"].max() <= t_off + 1e-3  # recorded frame index: none after the switch
    assert len(by_type["IMU"]["time_stamps"]) > 0
    markers = [m[0] for s in streams if s["info"]["type"][0] == "Markers" for m in s["time_series"]]
    assert "camera:off" in markers
    # recorded video file: exactly the frames written before the switch
    assert _video_frames(session / "video.avi") == written_at_off
    assert int(index["time_series"].max()) == written_at_off - 1


def _nan_demo(config: Any, markers: Any) -> DemoSources:
    """The demo, with a NaN injected into every 200th IMU chunk (~every 4 s) before it goes on LSL."""
    sources = DemoSources(config)
    source = sources.session.imu.source
    original = source.read
    calls = {"n": 0}

    def read(timeout: float, stop: Any = None) -> Any:
        chunk = original(timeout, stop)
        calls["n"] += 1
        if chunk is not None and len(chunk.data) and calls["n"] % 200 == 0:
            chunk.data[len(chunk.data) // 2, calls["n"] % 6] = np.nan
        return chunk

    source.read = read
    return sources


def test_controller__nan_in_imu_stream_neither_crashes_nor_poisons(tmp_path: Path) -> None:
    ctl = Controller(fast_config(tmp_path, session__record=False), sources_factory=_nan_demo)
    ctl.start()
    try:
        assert ctl.pipeline is not None and ctl.streams is not None
        ctl.start_label("walking")
        time.sleep(2.0)
        ctl.stop_label()
        reader, windower = ctl.streams.readers["imu"], ctl.streams.windower
        assert windower is not None
        assert wait_for(lambda: reader.health().nan_samples >= 2 and windower.stats.skipped_nan > 0)
        assert wait_for(lambda: ctl.pipeline is not None and ctl.pipeline.trainer.step >= 10)
        pipeline = ctl.pipeline
        assert all(w.running and w.error is None for w in pipeline.workers)
        assert pipeline.predictor.predicted > 0
        snap = ctl.snapshot()
        assert snap.errors == () and snap.train is not None and np.isfinite(snap.train.loss)
    finally:
        ctl.stop()
    for model in (pipeline.trainer.student, pipeline.trainer.ema):
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.is_floating_point():
                assert torch.isfinite(tensor).all()


def test_controller__restart_resumes_from_the_checkpoint(tmp_path: Path) -> None:
    config = fast_config(tmp_path, session__record=False)
    first = Controller(config, sources_factory=make_sources)
    first.start()
    try:
        first.add_activity("sitting")
        first.start_label("walking")
        assert wait_for(lambda: first.labels.counts().get("walking", 0) >= 2)
        first.stop_label()
        assert wait_for(lambda: first.pipeline is not None and first.pipeline.trainer.step >= 10)
        first.rename_activity("sitting", "resting")
    finally:
        first.stop()
    assert first.session_dir is not None
    saved = load_state(first.session_dir / "checkpoints" / "latest.pt")
    second = Controller(config.replace({"session.resume": "latest"}), sources_factory=make_sources)
    second.start()
    try:
        pipeline = second.pipeline
        assert (
            pipeline is not None
            and pipeline.resumed_from == first.session_dir / "checkpoints" / "latest.pt"
        )
        assert pipeline.trainer.step >= saved["step"]
        assert second.labels.activities == ("resting", "walking")
        assert second.labels.counts()["walking"] >= saved["labelled_counts"]["walking"] > 0
        assert len(pipeline.trainer.queue) >= saved["queue"]["count"] > 0
        assert wait_for(
            lambda: (
                second.snapshot().prediction is not None
                and bool(second.snapshot().prediction.probabilities)
            )
        )
    finally:
        second.stop()
    assert second.session_dir != first.session_dir
    again = load_state(second.session_dir / "checkpoints" / "latest.pt")  # type: ignore[operator]
    assert again["step"] > saved["step"]


def test_controller__activity_commands_and_snapshot(tmp_path: Path) -> None:
    ctl = Controller(fast_config(tmp_path, session__record=False), sources_factory=make_sources)
    assert ctl.snapshot().activities == ()  # valid before start
    ctl.start()
    try:
        ctl.add_activity("walking")
        ctl.add_activity("waving")
        ctl.rename_activity("waving", "greeting")
        ctl.start_label("greeting")
        assert ctl.snapshot().labelling == "greeting"
        assert wait_for(lambda: ctl.snapshot().labelled_windows.get("greeting", 0) >= 2)
        ctl.stop_label()
        ctl.delete_activity("walking")
        with pytest.raises(KeyError):
            ctl.delete_activity("walking")
        snap = ctl.snapshot()
        assert snap.activities == ("greeting",) and snap.labelling is None
        assert any(s.type == "IMU" and s.health == "ok" for s in snap.streams)
        t, data = ctl.imu_plot_data(2.0)
        assert data.shape == (6, t.size) and t.size > 50 and t[-1] - t[0] <= 2.0
        assert any("no activity 'walking'" in e for e in snap.errors)  # shown to the user
        assert wait_for(lambda: ctl.snapshot().prediction is not None)
    finally:
        ctl.stop()
    ctl.stop()  # idempotent
    metrics = (ctl.session_dir / "metrics.jsonl").read_text().splitlines()  # type: ignore[operator]
    assert any('"type":"metrics"' in line for line in metrics)


def test_controller__export_runs_in_the_background(tmp_path: Path) -> None:
    ctl = Controller(fast_config(tmp_path, session__record=False), sources_factory=make_sources)
    ctl.start()
    try:
        for name in ("walking", "sitting"):
            ctl.start_label(name)
            assert wait_for(lambda n=name: ctl.labels.counts().get(n, 0) >= 3)  # type: ignore[misc]
            ctl.stop_label()
        t0 = time.monotonic()
        ctl.start_export(str(tmp_path / "package"))
        assert time.monotonic() - t0 < 0.5  # the caller (the GUI thread) is not blocked
        assert wait_for(lambda: ctl.snapshot().export_result is not None, timeout_s=120)
        snap = ctl.snapshot()
        assert snap.export_progress is None and snap.export_result == str(tmp_path / "package"), (
            snap.errors
        )
    finally:
        ctl.stop()
    assert (tmp_path / "package" / "model.onnx").is_file()

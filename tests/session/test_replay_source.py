"""A recorded session replayed through the engine: windows, frames to the teacher, label markers,
privacy switch during the replay."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from comodo_live.session.controller import Controller
from drivers.sources import make_sources

from .conftest import fast_config

pytestmark = pytest.mark.lsl


def _wait(condition: Any, timeout_s: float = 20.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_replay_source__recorded_demo_replays_through_the_engine(tmp_path: Path) -> None:
    recorder = Controller(fast_config(tmp_path / "first"), sources_factory=make_sources)
    recorder.start()
    try:
        recorder.start_label("walking")
        assert _wait(lambda: recorder.labels.counts().get("walking", 0) >= 4)
        recorder.stop_label()
        time.sleep(1.0)
    finally:
        recorder.stop()
    assert recorder.session_dir is not None
    xdf = recorder.session_dir / "session.xdf"
    config = fast_config(
        tmp_path / "second",
        source__mode="replay",
        source__replay_path=str(xdf),
        session__record=False,
    )
    ctl = Controller(config)
    ctl.start()
    try:
        pipeline = ctl.pipeline
        assert pipeline is not None and ctl.sources is not None
        assert _wait(
            lambda: pipeline.teacher.frames_encoded > 0 and pipeline.predictor.predicted > 0
        )
        assert _wait(
            lambda: ctl.labels.counts().get("walking", 0) > 0
        )  # from the replayed label markers
        ctl.set_camera(False)
        published = ctl.sources.frames_published
        time.sleep(0.3)
        encoded = pipeline.teacher.frames_encoded
        time.sleep(1.5)
        assert (
            ctl.sources.frames_published == published and pipeline.teacher.frames_encoded == encoded
        )
        assert ctl.latest_preview() is None
    finally:
        ctl.stop()

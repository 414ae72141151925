"""A recorded session loads right with pyxdf's defaults: the frame-index stream names its video
file and codec and declares dropped frames, so dejittering does not move frame times."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from comodo_live.session import folder as session_files
from comodo_live.session.controller import Controller
from comodo_live.streams.names import FRAME_INDEX_TYPE
from drivers.sources import make_sources

from .conftest import fast_config, wait_for

pytestmark = pytest.mark.lsl


def _frame_stream(path: Path, **kwargs: object) -> dict:
    streams, _ = pyxdf.load_xdf(path, **kwargs)
    (frames,) = [s for s in streams if s["info"]["type"][0] == FRAME_INDEX_TYPE]
    return frames


@pytest.mark.slow
def test_recording_defaults__pyxdf_defaults_keep_frame_times(tmp_path: Path) -> None:
    ctl = Controller(fast_config(tmp_path, session__record=True), sources_factory=make_sources)
    ctl.start()
    try:
        assert ctl.sources is not None
        assert wait_for(lambda: ctl.sources.frames_published > 20)
        ctl.set_camera(False)  # dropped frames: a 0.7 s hole in a 10 Hz stream
        time.sleep(0.7)
        ctl.set_camera(True)
        published = ctl.sources.frames_published
        assert wait_for(lambda: ctl.sources.frames_published > published + 20)
    finally:
        ctl.stop()
    assert ctl.session_dir is not None
    path = ctl.session_dir / session_files.XDF_NAME
    loaded = _frame_stream(path)  # pyxdf's defaults: clock sync + dejitter
    captured = _frame_stream(path, dejitter_timestamps=False)  # the capture times as stamped
    fps = float(loaded["info"]["nominal_srate"][0])
    times, stamps = loaded["time_stamps"], captured["time_stamps"]
    assert len(times) == len(stamps) > 25
    assert np.max(np.diff(stamps)) > 0.5  # the hole is in the file
    assert np.max(np.abs(times - stamps)) < 1.0 / fps  # within one frame interval
    desc = loaded["info"]["desc"][0]
    assert desc["video_file"] == [session_files.VIDEO_NAME]
    assert desc["codec"] == ["MJPG"]
    assert desc["synchronization"][0]["can_drop_samples"] == ["true"]

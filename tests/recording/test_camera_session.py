"""Interop with the drivers' camera: live session → XDF + video → replay serves the same frames."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from comodo_live.recording.player import XdfPlayer
from comodo_live.recording.recorder import SessionRecorder
from drivers.camera import CameraDriver
from tests.streams.lsl_helpers import wait_for


def _grey_video(path: Path, n: int = 45) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (64, 48))
    for i in range(n):
        writer.write(np.full((48, 64, 3), 5 * i, dtype=np.uint8))
    writer.release()
    return path


@pytest.mark.slow
def test_camera_session__replay_serves_the_recorded_frames(tmp_path: Path, source_id: str) -> None:
    source = _grey_video(tmp_path / "source.avi")
    session = tmp_path / "session"
    session.mkdir()
    camera = CameraDriver(
        source, teacher_size=(32, 24), source_id=source_id, video_out=session / "camera.avi"
    )
    live: dict[int, float] = {}
    with camera:
        recorder = SessionRecorder(session / "session.xdf", [source_id]).start()
        start = time.monotonic()
        while time.monotonic() - start < 1.5:
            frame = camera.bus.latest()
            if frame is not None:
                live[frame.index] = float(frame.rgb.mean())
            time.sleep(0.005)
        recorder.stop()
    assert len(live) > 20

    player = XdfPlayer(session, speed=2.0, source_id_suffix="-replayed").open()
    assert player.frame_server is not None
    assert player.frame_server.video == session / "camera.avi"
    assert player.frame_server.frame_size == (32, 24)  # the recorded teacher size
    bus = player.frame_server.bus
    replayed: dict[int, float] = {}
    with player:
        assert player.wait(10.0)
        assert wait_for(lambda: player.frame_server is not None and bus.published > 0)
        for frame in bus.between(-np.inf, np.inf):
            replayed[frame.index] = float(frame.rgb.mean())
    common = sorted(set(live) & set(replayed))
    assert len(common) > 15
    for index in common:  # the replayed frame index i shows what the camera captured as frame i
        assert abs(live[index] - replayed[index]) < 4.0, index

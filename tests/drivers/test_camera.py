"""drivers.camera.CameraDriver: video files, frame indices on LSL, the local frame bus, the video
file, camera on/off (privacy), and no frames on LSL unless asked."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pylsl
import pytest

import comodo_live  # noqa: F401
from comodo_live.streams.names import FRAME_INDEX_TYPE, VIDEO_TYPE
from drivers.camera import CameraDriver
from drivers.markers import MarkerOutlet
from tests.conftest import requires_shared
from tests.drivers.conftest import no_stream, pull_for

N_FRAMES = 30
FPS = 30.0


@pytest.fixture
def small_video(tmp_path: Path) -> Path:
    """30 frames of 64x48 at 30 fps; frame i is uniform grey level 8 * i (MJPG)."""
    path = tmp_path / "source.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (64, 48))
    assert writer.isOpened()
    for i in range(N_FRAMES):
        writer.write(np.full((48, 64, 3), 8 * i, np.uint8))
    writer.release()
    return path


def _read_all(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def _wait(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_camera__video_file_loops_downscales_indexes_and_records(
    small_video, tmp_path, source_id, open_inlet
):
    out = tmp_path / "session.avi"
    driver = CameraDriver(small_video, teacher_size=(32, 24), source_id=source_id, video_out=out)
    with driver:
        inlet = open_inlet(source_id, FRAME_INDEX_TYPE)
        info = inlet.info(timeout=5.0)
        assert info.nominal_srate() == pytest.approx(FPS)
        assert info.desc().child_value("video_file") == "session.avi"
        assert info.desc().child_value("codec") == "MJPG"
        assert (info.desc().child_value("width"), info.desc().child_value("height")) == ("64", "48")
        assert info.desc().child_value("teacher_width") == "32"
        assert "index of this frame in the video file" in info.desc().child_value(
            "frame_index_convention"
        )
        values, stamps = pull_for(inlet, 5.0, min_samples=40)
        received_at = pylsl.local_clock()
        bus_frames = driver.bus.between(-np.inf, np.inf)
    assert not driver.running
    assert driver.frames_read > N_FRAMES  # the file looped
    indices = values[:, 0]
    np.testing.assert_array_equal(np.diff(indices), 1)  # every frame, in order
    assert np.median(np.diff(stamps)) == pytest.approx(
        1 / FPS, abs=2e-3
    )  # paced at the file's rate
    assert stamps[-1] <= received_at
    latest = bus_frames[-1]
    assert latest.rgb.shape == (24, 32, 3) and latest.rgb.dtype == np.uint8
    # The video file holds every pushed frame: frame i of the file <-> frame-index value i.
    recorded = _read_all(out)
    assert len(recorded) == driver.frames_written == driver.frames_pushed
    assert indices[0] >= 0 and indices[-1] < len(recorded)
    assert driver.stop_video_file() == 0  # already finished by stop()
    stamp_of = dict(zip(indices.astype(int).tolist(), stamps.tolist(), strict=True))
    checked = 0
    for frame in bus_frames[-10:]:
        # Same capture: the file's frame, the bus frame and the LSL sample share index and time.
        assert recorded[frame.index].mean() == pytest.approx(frame.rgb.mean(), abs=3.0)
        if frame.index in stamp_of:
            assert frame.timestamp == stamp_of[frame.index]
            checked += 1
    assert checked >= 5


def test_camera__off_reads_nothing_pushes_nothing_until_on(small_video, source_id, open_inlet):
    driver = CameraDriver(small_video, source_id=source_id, teacher_size=(16, 16))
    with driver:
        inlet = open_inlet(source_id)
        _wait(lambda: driver.frames_pushed >= 5)
        driver.set_camera(False)
        assert not driver.camera_on
        assert not driver.source.is_open  # capture released
        assert driver.bus.latest() is None  # no last frame lingers
        read, pushed = driver.frames_read, driver.frames_pushed
        pull_for(inlet, 0.2)  # drain what was pushed before switching off
        values, _ = pull_for(inlet, 1.0)
        assert len(values) == 0
        assert (driver.frames_read, driver.frames_pushed) == (read, pushed)
        assert driver.bus.latest() is None
        driver.set_camera(True)
        _wait(lambda: driver.frames_pushed >= pushed + 5)
        assert driver.source.is_open
        values, _ = pull_for(inlet, 2.0, min_samples=3)
        assert len(values) >= 3
        assert driver.bus.latest() is not None


def test_camera__starting_off_opens_nothing(small_video, source_id):
    with CameraDriver(small_video, source_id=source_id, camera_on=False) as driver:
        time.sleep(0.5)
        assert driver.frames_read == 0 and driver.frames_pushed == 0
        assert not driver.source.is_open
        assert driver.nominal_fps == pytest.approx(FPS)  # a file's rate is probed while closed


def test_camera__default_publishes_no_frames_on_lsl(small_video, source_id, open_inlet):
    with CameraDriver(small_video, source_id=source_id) as driver:
        open_inlet(source_id, FRAME_INDEX_TYPE)  # the frame-index stream exists...
        _wait(lambda: driver.frames_pushed >= 3)
        assert no_stream(
            f"type='{VIDEO_TYPE}' and source_id='{source_id}'", 1.0
        )  # ...no Video stream
        assert no_stream(f"type='{VIDEO_TYPE}' and starts-with(source_id, '{source_id}')", 0.2)


def test_camera__video_over_lsl_when_asked_sends_exact_frames(
    small_video, source_id, open_inlet, caplog
):
    with CameraDriver(
        small_video, source_id=source_id, teacher_size=(16, 12), video_over_lsl=True
    ) as driver:
        assert "video over LSL is ON" in caplog.text
        inlet = open_inlet(source_id, VIDEO_TYPE)
        info = inlet.info(timeout=5.0)
        assert info.channel_count() == 16 * 12 * 3 and info.channel_format() == pylsl.cf_int8
        chunk, stamps = [], []
        deadline = time.monotonic() + 3
        while not stamps and time.monotonic() < deadline:
            chunk, stamps = inlet.pull_chunk(timeout=0.5, max_samples=1)
        frame = np.asarray(chunk[0], np.int8).view(np.uint8).reshape(12, 16, 3)
        local = driver.bus.between(stamps[0], stamps[0])
    assert len(local) == 1
    np.testing.assert_array_equal(frame, local[0].rgb)


def test_camera__video_files_started_and_stopped_at_run_time(small_video, tmp_path, source_id):
    with CameraDriver(small_video, source_id=source_id, teacher_size=(16, 16)) as driver:
        _wait(lambda: driver.frames_pushed >= 3)
        assert driver.bus.latest().index == -1  # no file: -1
        first = driver.start_video_file(tmp_path / "a.mp4")
        _wait(lambda: driver.frames_written >= 10)
        written_a = driver.stop_video_file()
        assert driver.bus.latest().index == written_a - 1
        driver.start_video_file(tmp_path / "b.avi")
        _wait(lambda: driver.frames_written >= 3)
        assert 0 <= driver.bus.latest().index < driver.frames_written  # restarted at 0
        written_b = driver.stop_video_file()
    assert len(_read_all(first)) == written_a
    assert len(_read_all(tmp_path / "b.avi")) == written_b


def test_camera__validates_arguments(small_video, tmp_path):
    with pytest.raises(ValueError, match="fps must be in"):
        CameraDriver(small_video, fps=0.0)
    with pytest.raises(ValueError, match="teacher_size"):
        CameraDriver(small_video, teacher_size=(2, 2))
    with pytest.raises(ValueError, match="suffix"):
        CameraDriver(small_video, video_out=tmp_path / "x.mov")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        CameraDriver(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="device index"):
        CameraDriver(-1)


@requires_shared
def test_camera__gopro_walk_video(shared_data, source_id, open_inlet):
    video = shared_data / "video_imu" / "gopro_walk.mp4"
    with CameraDriver(video, teacher_size=(160, 160), source_id=source_id) as driver:
        inlet = open_inlet(source_id)
        info = inlet.info(timeout=5.0)
        assert (info.desc().child_value("width"), info.desc().child_value("height")) == (
            "848",
            "480",
        )
        assert info.nominal_srate() == pytest.approx(29.97, abs=0.01)
        values, stamps = pull_for(inlet, 3.0, min_samples=20)
        frame = driver.bus.latest()
    assert frame is not None and frame.rgb.shape == (160, 160, 3)
    assert np.median(np.diff(stamps)) == pytest.approx(1 / 29.97, abs=3e-3)
    assert np.all(values == -1)  # not recording


def test_camera__announces_switches_and_video_files_on_markers(
    small_video, tmp_path, source_id, open_inlet
):
    with MarkerOutlet(f"{source_id}-markers") as markers:
        inlet = open_inlet(f"{source_id}-markers")
        driver = CameraDriver(
            small_video,
            source_id=source_id,
            teacher_size=(16, 16),
            markers=markers,
            video_name="video.avi",
        )
        with driver:
            frames = open_inlet(source_id)
            assert frames.info(timeout=5.0).desc().child_value("video_file") == "video.avi"
            _wait(lambda: driver.frames_pushed >= 2)
            driver.start_video_file(tmp_path / "video.avi")
            _wait(lambda: driver.frames_written >= 2)
            driver.stop_video_file()
            driver.set_camera(False)
            driver.set_camera(True)
        values, _ = pull_for(inlet, 3.0, min_samples=4)
    assert values[:, 0].tolist() == [
        "video:start:video.avi",
        "video:stop:video.avi",
        "camera:off",
        "camera:on",
    ]


def test_camera__video_file_started_while_off_opens_at_first_frame(
    small_video, tmp_path, source_id
):
    with CameraDriver(
        small_video, source_id=source_id, teacher_size=(16, 16), camera_on=False
    ) as driver:
        path = driver.start_video_file(tmp_path / "late.mp4")
        assert driver.video_path == path and not path.exists()  # pending: frame size unknown yet
        time.sleep(0.2)
        assert driver.frames_written == 0
        driver.set_camera(True)
        _wait(lambda: driver.frames_written >= 5)
    frames = _read_all(path)
    assert len(frames) == driver.frames_written and frames[0].shape == (48, 64, 3)

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import pyxdf

from comodo_live.recording.convert import (
    ConversionError,
    convert,
    main,
    read_imu_csv,
    verify_counts,
)
from comodo_live.recording.player import XdfPlayer
from comodo_live.records import DEG_TO_RAD
from comodo_live.streams.reader import StreamReader
from tests.streams.lsl_helpers import wait_for

FPS = 30.0
N_FRAMES = 60


def _make_sources(folder: Path) -> tuple[Path, Path]:
    """A 2 s MJPG video whose frame i is uniformly grey level 4*i, and a 200 Hz IMU CSV."""
    video = folder / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (64, 48))
    for i in range(N_FRAMES):
        writer.write(np.full((48, 64, 3), 4 * i, dtype=np.uint8))
    writer.release()
    t = np.arange(400) / 200.0
    rows = np.column_stack([t, np.sin(t), np.cos(t), t, 90.0 * np.ones_like(t), -t, t])
    csv = folder / "imu.csv"
    header = "time_s,ax_m_s2,ay_m_s2,az_m_s2,gx_deg_s,gy_deg_s,gz_deg_s"
    np.savetxt(csv, rows, delimiter=",", header=header, comments="", fmt="%.6f")
    return video, csv


def test_read_imu_csv__converts_units_and_validates(tmp_path: Path) -> None:
    _, csv = _make_sources(tmp_path)
    times, data = read_imu_csv(csv)
    assert data.shape == (400, 6) and data.dtype == np.float32
    np.testing.assert_allclose(data[:, 3], 90.0 * DEG_TO_RAD, rtol=1e-6)
    np.testing.assert_allclose(data[:, 0], np.sin(times), atol=1e-5)
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,a,b,c,d,e,f\n0,1,2,3,4,5,6\n1,1,2,3,4,5,6\n")
    with pytest.raises(ValueError, match="has 0 IMU channels"):
        read_imu_csv(bad)
    unitless = tmp_path / "unitless.csv"
    unitless.write_text("time_s,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,6\n1,1,2,3,4,5,6\n")
    with pytest.raises(ValueError, match=r"column 'ax' of unitless.csv \(accel_x\) has no unit"):
        read_imu_csv(unitless)
    _, stated = read_imu_csv(unitless, units="g,dps")
    np.testing.assert_allclose(stated[0, 3], 4 * DEG_TO_RAD, rtol=1e-6)


def test_read_imu_csv__epoch_times_refused(tmp_path: Path) -> None:
    epoch = tmp_path / "epoch.csv"
    epoch.write_text(
        "time_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps\n"
        "1764500000.00,0,0,1,0,0,0\n1764500000.01,0,0,1,0,0,0\n"
    )
    with pytest.raises(ValueError, match=r"1764500000.000 s \(2025-11-30 .*epoch.*subtract"):
        read_imu_csv(epoch)


def _long_sources(folder: Path, minutes: float, fps: float = 5.0, imu_hz: float = 50.0):
    """A tiny 16x16 MJPG video at ``fps`` and an IMU CSV at ``imu_hz``, ``minutes`` long."""
    frames = round(minutes * 60 * fps)
    video = folder / "long.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), fps, (16, 16))
    for i in range(frames):
        writer.write(np.full((16, 16, 3), i % 256, dtype=np.uint8))
    writer.release()
    t = np.arange(round(minutes * 60 * imu_hz)) / imu_hz
    rows = np.column_stack([t, np.sin(t), np.cos(t), 9.81 + 0 * t, 10 * np.sin(t), 0 * t, t])
    csv = folder / "long.csv"
    header = "time_s,ax_m_s2,ay_m_s2,az_m_s2,gx_deg_s,gy_deg_s,gz_deg_s"
    np.savetxt(csv, rows, delimiter=",", header=header, comments="", fmt="%.6f")
    return video, csv, len(t), frames


def test_convert__30_minutes_keep_every_sample_and_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video, csv, samples, frames = _long_sources(tmp_path, 30.0)  # 90,000 samples, 9,000 frames
    out = tmp_path / "session"
    assert main(["--video", str(video), "--imu-csv", str(csv), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"read back: {samples} IMU samples" in printed and f"{frames} frame indices" in printed
    streams = {
        s["info"]["type"][0]: s
        for s in pyxdf.load_xdf(str(out / "session.xdf"), dejitter_timestamps=False)[0]
    }
    imu, index = streams["IMU"], streams["VideoFrameIndex"]
    assert len(imu["time_stamps"]) == samples == 90_000
    assert len(index["time_stamps"]) == frames == 9_000
    np.testing.assert_allclose(np.diff(imu["time_stamps"]), 1 / 50.0, atol=1e-5)  # no hole
    np.testing.assert_array_equal(index["time_series"][:, 0], np.arange(frames))
    sync = index["info"]["desc"][0]["synchronization"][0]
    assert sync["can_drop_samples"] == ["true"]  # pyxdf keeps the video's own frame times
    np.testing.assert_allclose(
        imu["time_series"][-1, 5], (samples - 1) / 50.0 * DEG_TO_RAD, rtol=1e-5
    )
    imu_id = imu["info"]["source_id"][0]
    with pytest.raises(ConversionError, match=rf"{imu_id}: {samples} of {samples + 1} read back"):
        verify_counts(out / "session.xdf", {imu_id: samples + 1})


@pytest.mark.slow
def test_convert__session_replays_frames_in_sync_with_privacy_switch(tmp_path: Path) -> None:
    video, csv = _make_sources(tmp_path)
    result = convert(video, csv, tmp_path / "session")
    assert (result.imu_samples, result.frames) == (400, N_FRAMES)
    streams = {
        s["info"]["type"][0]: s
        for s in pyxdf.load_xdf(str(result.xdf), dejitter_timestamps=False)[0]
    }
    imu, index = streams["IMU"], streams["VideoFrameIndex"]
    np.testing.assert_allclose(np.diff(imu["time_stamps"]), 1 / 200.0, atol=1e-5)
    np.testing.assert_allclose(imu["time_series"][:, 3], 90.0 * DEG_TO_RAD, rtol=1e-6)
    np.testing.assert_array_equal(index["time_series"][:, 0], np.arange(N_FRAMES))
    assert index["info"]["desc"][0]["video_file"] == ["clip.avi"]
    assert abs(index["time_stamps"][0] - imu["time_stamps"][0]) < 1e-3  # aligned at t = 0

    player = XdfPlayer(tmp_path / "session", frame_size=(32, 24)).open()
    assert player.frame_server is not None and player.frame_server.video == result.video
    frame_sid = next(t.source_id for t in player.tracks if t.is_frame_index)
    reader = StreamReader(frame_sid, dejitter=False).start()
    assert reader.wait_ready()
    bus = player.frame_server.bus
    try:
        player.start()
        time.sleep(0.6)
        player.set_camera(False)
        assert bus.latest() is None  # cleared: no frame lingers in privacy mode
        time.sleep(0.1)  # a sample already in flight may still arrive
        frames_at_off, indices_at_off = bus.published, reader.health().samples
        time.sleep(0.6)
        assert bus.published == frames_at_off
        assert reader.health().samples == indices_at_off
        player.set_camera(True)
        assert player.wait(5.0)
        assert wait_for(lambda: bus.published > frames_at_off)
        stamps, values, _ = reader.newest(100)
        frames = bus.between(-np.inf, np.inf)
    finally:
        reader.stop()
        player.stop()
    assert frames_at_off > 0 and bus.published < N_FRAMES - 10  # the off period was skipped
    assert len(stamps) < N_FRAMES - 10 and abs(len(stamps) - bus.published) <= 1
    by_index = {int(v): t for t, v in zip(stamps, values[:, 0], strict=True)}
    for frame in frames:
        assert frame.rgb.shape == (24, 32, 3)
        assert abs(int(frame.rgb.mean()) - 4 * frame.index) <= 3  # the right frame
        assert frame.timestamp == pytest.approx(
            by_index[frame.index] - reader.time_offset_s, abs=1e-9
        )


@pytest.mark.slow
def test_convert__gopro_walk(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = shared_data / "video_imu"
    out = tmp_path / "gopro_walk"
    argv = [
        "--video",
        str(source / "gopro_walk.mp4"),
        "--imu-csv",
        str(source / "gopro_walk_imu.csv"),
    ]
    assert main([*argv, "--out", str(out)]) == 0
    assert "2082 IMU samples" in capsys.readouterr().out
    streams = {s["info"]["type"][0]: s for s in pyxdf.load_xdf(str(out / "session.xdf"))[0]}
    assert len(streams["IMU"]["time_stamps"]) == 2082
    assert len(streams["VideoFrameIndex"]["time_stamps"]) == 315
    span = streams["IMU"]["time_stamps"][-1] - streams["IMU"]["time_stamps"][0]
    assert span == pytest.approx(10.54, abs=0.05)
    gyro = streams["IMU"]["time_series"][:, 3:]
    assert np.abs(gyro).max() < 20.0  # rad/s (deg/s would reach hundreds)
    assert main([*argv, "--out", str(out)]) == 2  # refuses to overwrite

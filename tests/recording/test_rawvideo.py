"""Video carried over LSL (the XDF VideoRaw convention) feeds the teacher on replay (issue 11)."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pylsl
import pytest

from comodo_live.recording.convert import _imu_info
from comodo_live.recording.rawvideo import decode_frame, find_raw_video, raw_video_spec
from comodo_live.recording.recorder import SessionRecorder
from comodo_live.session.controller import Controller
from comodo_live.session.fast_replay import FastReplay
from comodo_live.streams.resolve import resolve_stream
from tests.engine_fixtures import fast_config, wait_for

W, H = 32, 24  # recorded frame size, pixels
DURATION_S = 10.0
IMU_HZ = 50.0


def _xml(**desc: object) -> str:
    items = "".join(f"<{k}>{v}</{k}>" for k, v in desc.items())
    return f"<info><desc>{items}</desc></info>"


def test_raw_video_spec__size_from_desc_or_refused() -> None:
    spec = raw_video_spec("cam", "VideoRaw", "int8", W * H * 3, _xml(width=W, height=H))
    assert spec is not None and (spec.width, spec.height, spec.components) == (W, H, 3)
    bgr = raw_video_spec(
        "cam", "VideoRaw", "int16", W * H, _xml(resolution=f"{W}x{H}", color_format="BGR8")
    )
    assert bgr is not None and bgr.components == 1 and bgr.bgr and bgr.dtype == "int16"
    assert raw_video_spec("imu", "IMU", "float32", 6, "") is None  # not video
    with pytest.raises(ValueError, match="no frame size"):
        raw_video_spec("cam", "VideoRaw", "int8", W * H * 3, _xml(fps=30))
    with pytest.raises(ValueError, match="must equal the channel count"):
        raw_video_spec("cam", "VideoRaw", "int8", W * H * 3, _xml(width=W, height=H + 1))


def test_decode_frame__int8_int16_grey_and_bgr() -> None:
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[..., 0] = 200  # red, above 127: negative as int8
    spec = raw_video_spec("c", "VideoRaw", "int8", W * H * 3, _xml(width=W, height=H))
    assert spec is not None
    out = decode_frame(rgb.reshape(-1).view(np.int8), spec, (16, 12))
    assert out.shape == (12, 16, 3) and out.dtype == np.uint8
    assert (out[..., 0] == 200).all() and (out[..., 1:] == 0).all()
    bgr = raw_video_spec(
        "c", "VideoRaw", "int16", W * H * 3, _xml(width=W, height=H, pixel_format="bgr24")
    )
    assert bgr is not None
    out = decode_frame(rgb.reshape(-1).astype(np.int16), bgr, (W, H))
    assert (out[..., 2] == 200).all() and (out[..., 0] == 0).all()  # blue-green-red swapped
    grey = raw_video_spec("c", "VideoRaw", "int16", W * H, _xml(width=W, height=H))
    assert grey is not None
    wide = np.full(W * H, 40000, np.int32).astype(np.int16)  # 16-bit grey: scaled to 8 bits
    assert (decode_frame(wide, grey, (W, H)) == 40000 >> 8).all()


def _jpeg_base64(rgb: np.ndarray) -> str:
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return base64.b64encode(data.tobytes()).decode("ascii")


def _record_videoraw(out: Path, fps: float, compressed: bool = False) -> Path:
    """A session recorded by the app's recorder from a 6-channel IMU outlet and a VideoRaw outlet
    (int8 RGB, desc width/height/components), as LabRecorder would record a lab camera; or with
    ``compressed`` a VideoCompressed outlet of base64 JPEG strings."""
    out.mkdir(parents=True)
    tag = uuid.uuid4().hex[:8]
    rng = np.random.default_rng(int(fps))
    imu_t = np.arange(int(DURATION_S * IMU_HZ)) / IMU_HZ
    imu = rng.normal(size=(imu_t.size, 6)).astype(np.float32)
    frame_t = np.arange(int(DURATION_S * fps)) / fps
    pixels = rng.integers(0, 256, (frame_t.size, H * W * 3), dtype=np.uint8)
    if compressed:
        video = pylsl.StreamInfo("LabCamera", "VideoCompressed", 1, fps, "string", f"vr-{tag}")
    else:
        video = pylsl.StreamInfo(
            "LabCamera", "VideoRaw", W * H * 3, fps, pylsl.cf_int8, f"vr-{tag}"
        )
    for key, value in (("width", W), ("height", H), ("components", 3), ("color_format", "RGB")):
        video.desc().append_child_value(key, str(value))
    outlets = [
        pylsl.StreamOutlet(_imu_info(f"imu-{tag}", IMU_HZ, "test"), max_buffered=60),
        pylsl.StreamOutlet(video, max_buffered=60),
    ]
    infos = [resolve_stream(source_id=s) for s in (f"imu-{tag}", f"vr-{tag}")]
    recorder = SessionRecorder(out / "session.xdf", infos).start()
    try:
        t0 = pylsl.local_clock()
        outlets[0].push_chunk(imu, (t0 + imu_t).tolist())
        if compressed:
            strings = [[_jpeg_base64(p.reshape(H, W, 3))] for p in pixels]
            outlets[1].push_chunk(strings, (t0 + frame_t).tolist())
        else:
            outlets[1].push_chunk(pixels.view(np.int8), (t0 + frame_t).tolist())
        time.sleep(1.0)
    finally:
        recorder.stop()
    return out / "session.xdf"


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[Any, Path]:
    root = tmp_path_factory.mktemp("videoraw")
    found: dict[Any, Path] = {
        fps: _record_videoraw(root / f"fps{fps:g}", fps) for fps in (15.0, 5.0)
    }
    found["jpeg"] = _record_videoraw(root / "jpeg", 10.0, compressed=True)
    return found


@pytest.mark.parametrize("fps", [15.0, 5.0])
def test_fast_replay__videoraw_stream_feeds_the_teacher(
    sessions: dict[Any, Path], tmp_path: Path, fps: float
) -> None:
    replay = FastReplay(fast_config(tmp_path), sessions[fps])
    assert replay.recording.raw_video is not None
    assert replay.recording.frame_t.size == int(DURATION_S * fps)
    stats = replay.run()
    assert stats.frames_decoded == int(DURATION_S * fps)
    assert stats.clips > 0 and stats.pairs > 0 and stats.steps > 0  # a 5 fps camera pairs too


@pytest.mark.lsl
def test_replay__videoraw_feeds_the_teacher_and_is_never_republished(
    sessions: dict[Any, Path], tmp_path: Path
) -> None:
    config = fast_config(
        tmp_path,
        source__mode="replay",
        source__replay_path=str(sessions[15.0]),
        session__record=False,
    )
    ctl = Controller(config)
    ctl.start()
    try:
        pipeline, sources = ctl.pipeline, ctl.sources
        assert pipeline is not None and sources is not None
        assert wait_for(lambda: pipeline.teacher.frames_encoded > 0, 30.0)
        player = sources.player  # type: ignore[attr-defined]
        video = [t for t in player.tracks if t.is_video]
        assert len(video) == 1 and video[0].outlet is None and video[0].pushed == 0
        assert not pylsl.resolve_byprop("source_id", video[0].source_id, timeout=0.5)
        assert sources.frames_published > 0
    finally:
        ctl.stop()


def test_find_raw_video__unusable_stream_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = {
        "info": {
            "name": ["cam"],
            "type": ["VideoRaw"],
            "channel_format": ["int8"],
            "channel_count": [str(W * H * 3)],
            "stream_id": 1,
        },
        "time_stamps": np.array([0.5, 0.1]),
        "time_series": np.arange(2 * W * H * 3).astype(np.int8).reshape(2, -1),
    }
    assert find_raw_video([stream], {1: _xml(fps=30)}) is None
    assert "no frame size" in caplog.text
    found = find_raw_video([stream], {1: _xml(width=W, height=H)})
    assert found is not None and found.data.shape == (2, W * H * 3)
    np.testing.assert_array_equal(found.times, [0.1, 0.5])  # in time order, with their frames
    np.testing.assert_array_equal(found.data[0], stream["time_series"][1])


def test_fast_replay__base64_jpeg_video_stream_feeds_the_teacher(
    sessions: dict[Any, Path], tmp_path: Path
) -> None:
    replay = FastReplay(fast_config(tmp_path), sessions["jpeg"])
    raw = replay.recording.raw_video
    assert raw is not None and raw.spec.dtype == "jpeg-base64"
    assert not replay.recording.markers  # the frames are not taken for markers
    rgb = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    rgb = cv2.GaussianBlur(rgb, (7, 7), 0)  # JPEG-friendly content
    back = decode_frame(np.array([_jpeg_base64(rgb)]), raw.spec, (W, H))
    assert np.abs(back.astype(int) - rgb).mean() < 6  # RGB order kept, lossy but close
    with pytest.raises(ValueError, match="not a JPEG/PNG"):
        decode_frame(np.array(["bm90IGFuIGltYWdl"]), raw.spec, (W, H))
    stats = replay.run()
    assert stats.frames_decoded == int(DURATION_S * 10)
    assert stats.clips > 0 and stats.pairs > 0

"""Plain pylsl outlets for recording/replay tests (no dependency on drivers/)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pylsl

IMU_RATE = 100.0
FRAME_RATE = 30.0
VIDEO_H, VIDEO_W = 12, 16  # video-over-LSL: H*W*3 int8 channels (uint8 viewed as int8)


@dataclass
class PublishedSession:
    """Outlets of a small session and exactly what was pushed on them."""

    imu: pylsl.StreamOutlet
    markers: pylsl.StreamOutlet
    frames: pylsl.StreamOutlet
    video: pylsl.StreamOutlet
    source_ids: dict[str, str]
    pushed: dict[str, tuple[np.ndarray, list]]

    def close(self) -> None:
        self.imu = self.markers = self.frames = self.video = None  # type: ignore[assignment]


def make_outlets(source_id: str) -> PublishedSession:
    """IMU (6 × float32, 100 Hz, channel metadata), markers (string), frame index (30 Hz) and
    video over LSL (int8, 30 Hz)."""
    imu_info = pylsl.StreamInfo("TestIMU", "IMU", 6, IMU_RATE, "float32", f"{source_id}-imu")
    channels = imu_info.desc().append_child("channels")
    for label, unit in zip(
        ("accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z"),
        ("m/s^2",) * 3 + ("rad/s",) * 3,
        strict=True,
    ):
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("unit", unit)
        channel.append_child_value("type", "IMU")
    imu_info.desc().append_child("acquisition").append_child_value("model", "unit-test")
    marker_info = pylsl.StreamInfo("TestMarkers", "Markers", 1, 0.0, "string", f"{source_id}-mk")
    frame_info = pylsl.StreamInfo(
        "TestCamera", "VideoFrameIndex", 1, FRAME_RATE, "double64", f"{source_id}-cam"
    )
    frame_info.desc().append_child_value("video_file", "camera.avi")
    video_info = pylsl.StreamInfo(
        "TestVideo", "Video", VIDEO_H * VIDEO_W * 3, FRAME_RATE, "int8", f"{source_id}-vid"
    )
    video_info.desc().append_child_value("width", str(VIDEO_W))
    return PublishedSession(
        imu=pylsl.StreamOutlet(imu_info),
        markers=pylsl.StreamOutlet(marker_info),
        frames=pylsl.StreamOutlet(frame_info),
        video=pylsl.StreamOutlet(video_info, max_buffered=2),
        source_ids={
            "video": f"{source_id}-vid",
            "imu": f"{source_id}-imu",
            "markers": f"{source_id}-mk",
            "frames": f"{source_id}-cam",
        },
        pushed={},
    )


def push_session(session: PublishedSession, t0: float, duration_s: float, seed: int = 0) -> None:
    """Push ``duration_s`` of jittered data with explicit timestamps from ``t0`` (one chunk each).

    The IMU has ±2 ms jitter and a 0.3 s gap in the middle; markers are irregular.
    """
    rng = np.random.default_rng(seed)
    k = np.arange(int(duration_s * IMU_RATE))
    t_imu = t0 + k / IMU_RATE + rng.uniform(-0.002, 0.002, k.size)
    keep = ~((t_imu > t0 + duration_s / 2) & (t_imu < t0 + duration_s / 2 + 0.3))
    t_imu = np.sort(t_imu[keep])
    imu = rng.normal(size=(t_imu.size, 6)).astype(np.float32)
    session.imu.push_chunk(imu, t_imu.tolist())
    t_mk = t0 + np.sort(rng.uniform(0, duration_s, 7))
    texts = [[f"label:start:act{i}"] for i in range(7)]
    session.markers.push_chunk(texts, t_mk.tolist())
    kf = np.arange(int(duration_s * FRAME_RATE))
    t_fr = t0 + kf / FRAME_RATE + rng.uniform(0, 0.004, kf.size)
    session.frames.push_chunk(kf.astype(np.float64)[:, None], t_fr.tolist())
    pixels = rng.integers(0, 256, (kf.size, VIDEO_H * VIDEO_W * 3), dtype=np.uint8)
    session.video.push_chunk(pixels.view(np.int8), t_fr.tolist())
    session.pushed = {
        "imu": (t_imu, imu),
        "markers": (t_mk, texts),
        "frames": (t_fr, kf),
        "video": (t_fr, pixels),
    }

"""Small, fast engine settings for tests (tiny student, small teacher input, short windows)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from comodo_live.config import AppConfig, load_config
from comodo_live.records import ImuWindow, PairedWindow, VideoClip

FAST: dict[str, Any] = {
    "source.mode": "demo",
    "window.window_s": 1.0,
    "window.hop_s": 0.25,
    "window.rate_hz": 50.0,
    "imu.rate_hz": 50.0,
    "demo.segment_s": 4.0,
    "camera.fps_hz": 10.0,
    "camera.width_px": 64,
    "camera.height_px": 48,
    "teacher.frames": 2,
    "teacher.segments": 1,
    "teacher.size_px": 64,
    "teacher.proj_hidden": 256,
    "teacher.embed_dim": 32,
    "teacher.stats_warmup_clips": 2,
    "student.width": 8,
    "student.embed_dim": 16,
    "student.proj_hidden": 32,
    "trainer.batch_size": 8,
    "trainer.queue_size": 64,
    "trainer.replay_size": 64,
    "trainer.min_pairs": 4,
    "trainer.replay_ratio": 4.0,  # short test sessions: enough steps per pair to see training
    "trainer.imu_stats_windows": 2,
    "trainer.checkpoint_every_s": 2.0,
    "trainer.publish_every_s": 0.5,
    "trainer.max_steps_per_s": 20.0,
    "predictor.refit_every_s": 1.0,
    "predictor.min_windows_per_activity": 2,
    "session.metrics_every_s": 0.5,
    "session.resolve_timeout_s": 10.0,
    "session.report": False,  # tests of the report turn it on
}


def wait_for(condition: Callable[[], Any], timeout_s: float = 20.0) -> bool:
    """Poll ``condition`` every 50 ms until it is truthy (True) or ``timeout_s`` passes (False)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def fast_config(tmp_path: Path, **overrides: Any) -> AppConfig:
    """FAST settings with sessions under ``tmp_path``; ``overrides`` use '__' for '.'."""
    values = {**FAST, "session.root": str(tmp_path / "recordings")}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_config(overrides=values)


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    return fast_config(tmp_path)


def synthetic_window(
    t_end: float,
    kind: int,
    samples: int = 50,
    with_clip: bool = True,
    rng: np.random.Generator | None = None,
) -> PairedWindow:
    """A (6, samples) IMU window whose frequency depends on ``kind``, with a matching clip."""
    rng = rng or np.random.default_rng(int(t_end * 1000) % 2**32)
    t = np.linspace(0, 1, samples)
    freq = 1.0 + 2.0 * kind
    data = np.stack([np.sin(2 * np.pi * freq * t + c) * (1 + kind) for c in range(6)]).astype(
        np.float32
    )
    data += 0.05 * rng.standard_normal(data.shape).astype(np.float32)
    data[2] += 9.81
    imu = ImuWindow(data=data, t_start=t_end - 1.0, t_end=t_end, rate_hz=50.0, camera_on=with_clip)
    clip = None
    if with_clip:
        frames = np.full((2, 48, 64, 3), 40 * kind, np.uint8)
        frames[:, :, : 8 * (kind + 1)] = 255
        frames = np.clip(frames.astype(int) + rng.integers(0, 20, frames.shape), 0, 255).astype(
            np.uint8
        )
        clip = VideoClip(frames, np.array([t_end - 0.75, t_end - 0.25]), np.array([0, 1]))
    return PairedWindow(imu=imu, clip=clip)

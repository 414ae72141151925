"""Every driver runs on its own: ``python -m drivers.<name> --help`` and a short ``--duration`` run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("name", ["camera", "imu", "audio", "markers", "synthetic"])
def test_driver_cli__help_lists_duration(name):
    result = _run(f"drivers.{name}", "--help")
    assert result.returncode == 0, result.stderr
    assert "--duration" in result.stdout


def test_camera_cli__video_over_lsl_prints_privacy_warning(tmp_path, source_id):
    video = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 20.0, (32, 32))
    for i in range(10):
        writer.write(np.full((32, 32, 3), 20 * i, np.uint8))
    writer.release()
    result = _run(
        "drivers.camera",
        "--source",
        str(video),
        "--video-over-lsl",
        "--source-id",
        source_id,
        "--teacher-size",
        "16",
        "16",
        "--duration",
        "0.5",
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr and "privacy" not in result.stdout.lower()
    assert "no authentication or encryption" in result.stderr
    assert "frames read=" in result.stdout


def test_synthetic_cli__runs_and_switches_camera_off(source_id):
    result = _run(
        "drivers.synthetic", "--prefix", source_id, "--duration", "1.5", "--camera-off-after", "0.5"
    )
    assert result.returncode == 0, result.stderr
    assert "camera off" in result.stdout and "imu samples=" in result.stdout

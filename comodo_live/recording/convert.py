"""Build a replayable session (XDF + video) from a video file and an IMU CSV.

The sources go through the real recording path: an IMU outlet and a frame-index outlet are
published on LSL and recorded by :class:`~comodo_live.recording.recorder.SessionRecorder`.
Every sample carries an explicit timestamp (``t0`` + the source's own time), so the session's
timing comes from the files, not from the wall clock, and the conversion runs as fast as LSL
carries the samples (the recorder's ~6 s start-to-finalise time dominates).

CSV: a header row; ``time_s`` (seconds from the video's first frame) and six columns accel
x/y/z, gyro x/y/z. Units come from the column names: ``*_m_s2`` / ``*_g`` for accel,
``*_rad_s`` / ``*_deg_s`` for gyro; output is m/s² and rad/s.

CLI: ``python -m comodo_live.recording.convert --video V --imu-csv C --out recordings/NAME``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pylsl

from comodo_live.recording.recorder import SessionRecorder
from comodo_live.recording.session import SESSION_XDF
from comodo_live.records import DEG_TO_RAD, G_TO_MS2, IMU_CHANNELS, IMU_UNITS
from comodo_live.streams.names import FRAME_INDEX_TYPE, IMU_TYPE
from comodo_live.streams.resolve import resolve_stream


@dataclass(frozen=True)
class ConvertResult:
    """What was written. Durations in seconds, rates in Hz."""

    xdf: Path
    video: Path
    imu_samples: int
    frames: int
    imu_rate_hz: float
    fps: float


def read_imu_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(time_s (N,), data (N, 6) float32 in m/s² and rad/s)`` from an IMU CSV.

    Raises:
        ValueError: missing columns, unknown units, or times that are not increasing.
    """
    table: Any = np.genfromtxt(path, delimiter=",", names=True, dtype=np.float64)
    names = list(table.dtype.names or ())
    if "time_s" not in names or len(names) != 7:
        raise ValueError(f"{path}: expected columns time_s + 6 IMU columns, got {names}")
    columns = [n for n in names if n != "time_s"]
    factors = []
    for i, column in enumerate(columns):
        lower = column.lower()
        if i < 3 and lower.endswith(("_m_s2", "_ms2")):
            factors.append(1.0)
        elif i < 3 and lower.endswith("_g"):
            factors.append(G_TO_MS2)
        elif i >= 3 and lower.endswith("_rad_s"):
            factors.append(1.0)
        elif i >= 3 and lower.endswith(("_deg_s", "_dps")):
            factors.append(DEG_TO_RAD)
        else:
            raise ValueError(
                f"{path}: cannot tell the unit of column {column!r} (accel columns end in "
                "_m_s2 or _g, gyro columns in _rad_s or _deg_s, in x, y, z order)"
            )
    times = np.atleast_1d(table["time_s"]).astype(np.float64)
    if times.size < 2 or np.any(np.diff(times) <= 0):
        raise ValueError(f"{path}: time_s must be strictly increasing with >= 2 rows")
    data = np.stack([np.atleast_1d(table[c]) * f for c, f in zip(columns, factors, strict=True)], 1)
    return times, data.astype(np.float32)


def video_frame_times(path: Path) -> tuple[np.ndarray, float, tuple[int, int]]:
    """``(frame times (F,) s from the first frame, fps, (width, height))`` by decoding the file."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise OSError(f"cannot open video {path}")
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or 30.0
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    times: list[float] = []
    while capture.grab():
        times.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
    capture.release()
    if not times:
        raise OSError(f"video {path} has no frames")
    stamps = np.asarray(times)
    if np.any(np.diff(stamps) <= 0):  # containers without usable stamps: nominal rate
        stamps = np.arange(len(times)) / fps
    return stamps - stamps[0], fps, size


def _imu_info(source_id: str, rate_hz: float, origin: str) -> pylsl.StreamInfo:
    info = pylsl.StreamInfo("IMU", IMU_TYPE, 6, rate_hz, pylsl.cf_float32, source_id)
    channels = info.desc().append_child("channels")
    for label, unit in zip(IMU_CHANNELS, IMU_UNITS, strict=True):
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("unit", unit)
        channel.append_child_value(
            "type", "Acceleration" if "accel" in label else "AngularVelocity"
        )
    info.desc().append_child("acquisition").append_child_value("source", origin)
    return info


def _frame_info(source_id: str, fps: float, video: Path, size: tuple[int, int]) -> pylsl.StreamInfo:
    info = pylsl.StreamInfo("Camera", FRAME_INDEX_TYPE, 1, fps, pylsl.cf_double64, source_id)
    channel = info.desc().append_child("channels").append_child("channel")
    channel.append_child_value("label", "frame_index")
    channel.append_child_value("unit", "frame")
    for key, value in (("video_file", video.name), ("width", size[0]), ("height", size[1])):
        info.desc().append_child_value(key, str(value))
    return info


def convert(video: Path, imu_csv: Path, out: Path, chunk: int = 256) -> ConvertResult:
    """Write ``out/session.xdf`` and a copy of ``video`` into the session folder ``out``.

    Raises:
        FileExistsError: ``out`` already holds a session.
    """
    video, imu_csv, out = Path(video), Path(imu_csv), Path(out)
    if (out / SESSION_XDF).exists():
        raise FileExistsError(f"{out} already holds a session ({SESSION_XDF})")
    imu_t, imu = read_imu_csv(imu_csv)
    frame_t, fps, size = video_frame_times(video)
    imu_rate = float(1.0 / np.median(np.diff(imu_t)))
    out.mkdir(parents=True, exist_ok=True)
    video_copy = out / video.name
    shutil.copyfile(video, video_copy)
    tag = uuid.uuid4().hex[:8]
    imu_outlet = pylsl.StreamOutlet(_imu_info(f"convert-imu-{tag}", imu_rate, imu_csv.name))
    frame_outlet = pylsl.StreamOutlet(_frame_info(f"convert-cam-{tag}", fps, video_copy, size))
    infos = [resolve_stream(source_id=f"convert-{kind}-{tag}") for kind in ("imu", "cam")]
    recorder = SessionRecorder(out / SESSION_XDF, infos).start()
    try:
        t0 = pylsl.local_clock()
        indices = np.arange(len(frame_t), dtype=np.float64)[:, None]  # (F, 1)
        for start in range(0, max(len(imu_t), len(frame_t)), chunk):
            if start < len(imu_t):
                imu_outlet.push_chunk(
                    imu[start : start + chunk], (t0 + imu_t[start : start + chunk]).tolist()
                )
            if start < len(frame_t):
                stamps = (t0 + frame_t[start : start + chunk]).tolist()
                frame_outlet.push_chunk(indices[start : start + chunk], stamps)
    finally:
        recorder.stop()  # keeps recording flush_s more: the outlets are still alive here
    return ConvertResult(out / SESSION_XDF, video_copy, len(imu_t), len(frame_t), imu_rate, fps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m comodo_live.recording.convert", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--video", type=Path, required=True, help="video file (e.g. .mp4)")
    parser.add_argument("--imu-csv", type=Path, required=True, help="IMU CSV (time_s + 6 columns)")
    parser.add_argument("--out", type=Path, required=True, help="session folder to create")
    args = parser.parse_args(argv)
    try:
        result = convert(args.video, args.imu_csv, args.out)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {result.xdf} ({result.imu_samples} IMU samples at {result.imu_rate_hz:.1f} Hz, "
        f"{result.frames} frame indices at {result.fps:.2f} fps) and {result.video}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build a replayable session (XDF + video) from a video file and an IMU CSV, losing nothing.

The sources go through the real recording path: an IMU outlet and a frame-index outlet are
published on LSL and recorded by :class:`~comodo_live.recording.recorder.SessionRecorder`.
Every sample carries an explicit timestamp (``t0`` + the source's own time), so the session's
timing comes from the files, not from the wall clock. An outlet (and the recorder's inlet)
keeps at most its buffer's seconds of data for a consumer — pushing a long file at once kept
18,002 of 30,000 samples of a 10-minute input — so the outlets are sized to the whole input and
the pushes are paced at ``speed`` × real time (default 100: a 30-minute input takes ~18 s plus
the recorder's ~6 s start-to-finalise). The XDF is then read back and every stream's count
checked against the input: a mismatch is an error, never a silent loss.

CSV: the app's one IMU CSV reader (:mod:`comodo_live.imu_csv`): a header row with ``time_s``
(seconds from the video's first frame; ``time_ms`` … also) and six IMU columns whose names carry
their units (``accel_x_m_s2``, ``accel_x_g``, ``gyro_x_deg_s`` …; or ``--units g,deg/s`` for
columns that carry none); output is m/s² and rad/s. Unix-epoch times are refused (they cannot
be placed on the video's clock without its start time).

Labels: ``--labels FILE.csv`` (start,stop,activity; seconds from the video's first frame, the
``time_s`` clock) become ``label:start:<activity>`` / ``label:stop`` markers in the XDF
(:mod:`comodo_live.recording.labels_in`).

Without ``--imu-csv`` the IMU embedded in the video file is read (:func:`import_video`,
:mod:`comodo_live.recording.telemetry`: GoPro GPMF and other action cameras).

CLI: ``python -m comodo_live.recording.convert --video V [--imu-csv C] [--labels L.csv]
--out recordings/NAME`` (also ``comodo-live import``).
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pylsl

from comodo_live.imu_csv import read_imu_csv as read_imu_table
from comodo_live.recording.labels_in import interval_markers, read_label_csv
from comodo_live.recording.recorder import SessionRecorder
from comodo_live.recording.session import SESSION_XDF
from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from comodo_live.streams.names import FRAME_INDEX_TYPE, IMU_TYPE, MARKER_TYPE
from comodo_live.streams.resolve import resolve_stream

DEFAULT_SPEED = 100.0  # stream seconds pushed per wall-clock second
EPOCH_LIKE_S = 1e6  # a first IMU time beyond ~11.6 days is a wall-clock (epoch) time
SETTLE_S = 1.0  # after the last push, before the recorder's own flush


class ConversionError(RuntimeError):
    """The written XDF does not hold every input sample (the message has both counts)."""


@dataclass(frozen=True)
class ConvertResult:
    """What was written, as read back from the XDF. Rates in Hz.

    Attributes:
        imu_samples: IMU samples in the XDF (= the CSV's rows).
        frames: frame indices in the XDF (= the video's frames).
        label_markers: label markers written (two per label-file row).
    """

    xdf: Path
    video: Path
    imu_samples: int
    frames: int
    imu_rate_hz: float
    fps: float
    label_markers: int = 0


def read_imu_csv(path: Path, units: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(time_s (N,), data (N, 6) float32 in m/s² and rad/s)`` from an IMU CSV.

    Args:
        path: the CSV (:mod:`comodo_live.imu_csv` layout; it must have a time column).
        units: ``"<accel>,<gyro>"`` for columns whose names carry no unit.

    Raises:
        ValueError: missing columns, missing or unknown units (names the column), no time
            column, times that are not increasing, or Unix-epoch times.
    """
    table = read_imu_table(path, units=units)
    if not table.timed:
        raise ValueError(f"{path}: needs a time column (time_s: seconds from the video's start)")
    first = float(table.times[0])
    if abs(first) > EPOCH_LIKE_S:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(first)) if first > 0 else "?"
        raise ValueError(
            f"{path}: the first time is {first:.3f} s ({when} as a Unix time): this looks like "
            "wall-clock (epoch) time; time_s must count seconds from the video's first frame "
            "(subtract the video's start time from every row)"
        )
    return table.times, table.samples.astype(np.float32)


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
    # as the live camera: readers keep the video's frame times (pyxdf >= 1.17.4 skips dejitter)
    info.desc().append_child("synchronization").append_child_value("can_drop_samples", "true")
    return info


def convert(
    video: Path,
    imu_csv: Path,
    out: Path,
    *,
    units: str | None = None,
    labels: Path | None = None,
    speed: float = DEFAULT_SPEED,
    step_s: float = 1.0,
) -> ConvertResult:
    """Write ``out/session.xdf`` and a copy of ``video`` into the session folder ``out``.

    Args:
        video: the video file.
        imu_csv: the IMU CSV (see the module doc).
        out: the session folder to create.
        units: ``"<accel>,<gyro>"`` for CSV columns whose names carry no unit.
        labels: a label CSV (start,stop,activity; seconds from the video's first frame, the
            clock of the CSV's ``time_s``): written as ``label:start:<activity>`` /
            ``label:stop`` markers (:mod:`comodo_live.recording.labels_in`).
        speed: stream seconds pushed per wall-clock second (> 0).
        step_s: stream seconds per push, seconds (> 0).

    Raises:
        FileExistsError: ``out`` already holds a session.
        ValueError: a bad CSV or label file, bad arguments, or IMU and video that do not
            overlap in time.
        ConversionError: the XDF read back lacks samples (both counts in the message).
    """
    imu_t, imu = read_imu_csv(Path(imu_csv), units)
    return write_session(
        video, imu_t, imu, out, origin=Path(imu_csv).name, labels=labels, speed=speed, step_s=step_s
    )


def write_session(
    video: Path,
    imu_t: np.ndarray,
    imu: np.ndarray,
    out: Path,
    *,
    origin: str,
    labels: Path | None = None,
    speed: float = DEFAULT_SPEED,
    step_s: float = 1.0,
) -> ConvertResult:
    """Write the session of ``video`` and IMU samples already in the contract's units.

    Args:
        video: the video file (copied into ``out``).
        imu_t: (N,) increasing IMU times, seconds from the video's first frame.
        imu: (N, 6) float32 samples, m/s² and rad/s, :data:`IMU_CHANNELS` order.
        out: the session folder to create.
        origin: where the IMU came from (the stream's ``desc/acquisition/source``).
        labels, speed, step_s: see :func:`convert`.

    Raises:
        See :func:`convert`.
    """
    video, out = Path(video), Path(out)
    for arg, value in (("speed", speed), ("step_s", step_s)):
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{arg} must be finite and > 0, got {value}")
    if imu_t.ndim != 1 or imu.shape != (len(imu_t), 6) or len(imu_t) < 2:
        raise ValueError(f"imu_t (N,) and imu (N, 6) with N >= 2, got {imu_t.shape}, {imu.shape}")
    if (out / SESSION_XDF).exists():
        raise FileExistsError(f"{out} already holds a session ({SESSION_XDF})")
    markers = interval_markers(read_label_csv(labels)) if labels is not None else []
    frame_t, fps, size = video_frame_times(video)
    if imu_t[-1] < frame_t[0] or imu_t[0] > frame_t[-1]:
        raise ValueError(
            f"{origin} spans {imu_t[0]:.2f}..{imu_t[-1]:.2f} s and {video.name} "
            f"0..{frame_t[-1]:.2f} s: they do not overlap (time_s counts from the first frame)"
        )
    imu_rate = float(1.0 / np.median(np.diff(imu_t)))
    out.mkdir(parents=True, exist_ok=True)
    video_copy = out / video.name
    shutil.copyfile(video, video_copy)
    tag = uuid.uuid4().hex[:8]
    times = [float(imu_t[0]), float(frame_t[0])] + [t for t, _ in markers]
    ends = [float(imu_t[-1]), float(frame_t[-1])] + [t for t, _ in markers]
    span_s = max(ends) - min(times)
    buffered = math.ceil(span_s) + 60  # seconds: the whole input fits in each outlet
    imu_info = _imu_info(f"convert-imu-{tag}", imu_rate, origin)
    frame_info = _frame_info(f"convert-cam-{tag}", fps, video_copy, size)
    pushes: list[tuple[pylsl.StreamOutlet, np.ndarray, Any]] = [
        (pylsl.StreamOutlet(imu_info, max_buffered=buffered), imu_t, imu),
        (
            pylsl.StreamOutlet(frame_info, max_buffered=buffered),
            frame_t,
            _frame_indices(len(frame_t)),
        ),
    ]
    expected = {imu_info.source_id(): len(imu_t), frame_info.source_id(): len(frame_t)}
    kinds = ["imu", "cam"]
    if markers:
        marker_info = _marker_info(f"convert-labels-{tag}", Path(labels or "").name)
        outlet = pylsl.StreamOutlet(marker_info, max_buffered=buffered)
        pushes.append((outlet, np.array([t for t, _ in markers]), [[m] for _, m in markers]))
        expected[marker_info.source_id()] = len(markers)
        kinds.append("labels")
    infos = [resolve_stream(source_id=f"convert-{kind}-{tag}") for kind in kinds]
    recorder = SessionRecorder(out / SESSION_XDF, infos).start()
    try:
        _push_paced(pushes, speed, step_s)
        time.sleep(SETTLE_S)  # the recorder pulls every ~0.5 s; let it take the last chunk
    finally:
        recorder.stop()  # keeps recording flush_s more: the outlets are still alive here
    counts = verify_counts(out / SESSION_XDF, expected)
    return ConvertResult(
        out / SESSION_XDF,
        video_copy,
        counts[imu_info.source_id()],
        counts[frame_info.source_id()],
        imu_rate,
        fps,
        len(markers),
    )


def import_video(
    video: str | Path,
    out: str | Path,
    *,
    labels: Path | None = None,
    speed: float = DEFAULT_SPEED,
) -> ConvertResult:
    """Write the session of a video whose IMU is embedded in the file (GoPro GPMF and other
    action cameras, :mod:`comodo_live.recording.telemetry`): both sensors in m/s² and rad/s on
    one clock, then :func:`write_session`.

    Raises:
        TelemetryUnavailable (an OSError): telemetry-parser is not installed.
        ValueError: no usable telemetry in the file; and everything :func:`write_session` raises.
    """
    from comodo_live.recording.telemetry import common_clock, read_camera_imu

    video = Path(video)
    imu = read_camera_imu(video)
    times, samples = common_clock(imu)
    origin = f"{video.name} ({imu.camera} telemetry, telemetry-parser)"
    return write_session(
        video, times, samples, Path(out), origin=origin, labels=labels, speed=speed
    )


def _marker_info(source_id: str, origin: str) -> pylsl.StreamInfo:
    info = pylsl.StreamInfo("Labels", MARKER_TYPE, 1, 0.0, pylsl.cf_string, source_id)
    info.desc().append_child("channels").append_child("channel").append_child_value(
        "label", "marker"
    )
    info.desc().append_child("acquisition").append_child_value("source", origin)
    return info


def _frame_indices(count: int) -> np.ndarray:
    return np.arange(count, dtype=np.float64)[:, None]  # (F, 1)


def _push_paced(
    streams: list[tuple[pylsl.StreamOutlet, np.ndarray, Any]], speed: float, step_s: float
) -> None:
    """Push each ``(outlet, times (N,) s, samples (N, C) array or N lists of strings)`` stamped
    ``t0 + times``, in steps of ``step_s`` stream seconds, never more than ``speed`` × the
    elapsed wall time ahead."""
    origin = min(float(times[0]) for _, times, _ in streams)
    end = max(float(times[-1]) for _, times, _ in streams)
    t0 = pylsl.local_clock()
    started = time.monotonic()
    cursors = [0] * len(streams)
    edge = origin
    while edge <= end:
        edge += step_s
        for i, (outlet, times, samples) in enumerate(streams):
            stop = int(np.searchsorted(times, edge, side="left"))
            if stop > cursors[i]:
                part = slice(cursors[i], stop)
                outlet.push_chunk(samples[part], (t0 + times[part]).tolist())
                cursors[i] = stop
        ahead = (edge - origin) / speed - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)


def verify_counts(xdf: Path, expected: dict[str, int]) -> dict[str, int]:
    """Samples per stream (by source_id) in ``xdf``; raises unless each equals ``expected``.

    Raises:
        ConversionError: a stream is missing or holds a different number of samples.
    """
    import pyxdf

    streams, _ = pyxdf.load_xdf(str(xdf), dejitter_timestamps=False)
    found = {s["info"]["source_id"][0]: len(s["time_stamps"]) for s in streams}
    counts = {source_id: found.get(source_id, 0) for source_id in expected}
    wrong = {sid: (counts[sid], n) for sid, n in expected.items() if counts[sid] != n}
    if wrong:
        detail = "; ".join(f"{sid}: {got} of {n}" for sid, (got, n) in wrong.items())
        raise ConversionError(
            f"{xdf} lost samples while recording ({detail} read back); the file is incomplete"
        )
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m comodo_live.recording.convert", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--video", type=Path, required=True, help="video file (e.g. .mp4)")
    parser.add_argument(
        "--imu-csv",
        type=Path,
        default=None,
        help="IMU CSV (time_s + 6 columns); without it, the IMU embedded in the video file "
        "(GoPro GPMF and other action cameras; needs the [import] extra: telemetry-parser)",
    )
    parser.add_argument("--out", type=Path, required=True, help="session folder to create")
    parser.add_argument(
        "--units", default=None, help="CSV units if the column names carry none, e.g. 'g,deg/s'"
    )
    parser.add_argument(
        "--labels",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="label file: start,stop,activity rows, times in seconds from the video's first "
        "frame (the IMU CSV's time_s clock); written as label:start:<activity> / label:stop "
        "markers",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help=f"stream seconds written per second (default {DEFAULT_SPEED:g})",
    )
    args = parser.parse_args(argv)
    try:
        if args.imu_csv is not None:
            result = convert(
                args.video,
                args.imu_csv,
                args.out,
                units=args.units,
                labels=args.labels,
                speed=args.speed,
            )
        else:
            if args.units is not None:
                parser.error("--units applies to --imu-csv only (a camera's IMU states its units)")
            result = import_video(args.video, args.out, labels=args.labels, speed=args.speed)
    except (OSError, ValueError, ConversionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    labelled = f", {result.label_markers} label markers" if result.label_markers else ""
    print(
        f"wrote {result.xdf} and {result.video}; read back: {result.imu_samples} IMU samples at "
        f"{result.imu_rate_hz:.1f} Hz, {result.frames} frame indices at {result.fps:.2f} fps"
        f"{labelled} (every input sample and frame)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

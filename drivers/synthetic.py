"""The synthetic demo session: scripted activities acted out by a camera and an IMU at once.

Both streams follow one motion model (:mod:`drivers.synthetic_motion`), so frames and IMU change
together with the activity; the ground truth goes on a marker stream (``activity:<name>`` at each
segment start, stamped with the segment's start time). The frames go through the real
:class:`~drivers.camera.CameraDriver` (a :class:`~drivers.synthetic_scene.SyntheticFrameSource`),
so camera on/off, the frame bus, frame indices and video files behave exactly as with a camera.

Streams (``<prefix>`` = ``source_id_prefix``): ``<prefix>-imu`` (IMU), ``<prefix>-camera``
(VideoFrameIndex, frame bus key), ``<prefix>-markers`` (Markers).

CLI: ``python -m drivers.synthetic --duration 60 --camera-off-after 30``.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pylsl

from comodo_live.streams.names import MARKER_ACTIVITY
from comodo_live.worker import StartStop, Worker

from .camera import CameraDriver
from .imu import ImuDriver
from .markers import MarkerOutlet
from .synthetic_motion import DEFAULT_SCRIPT, PROFILES, SyntheticImuSource, SyntheticMotion
from .synthetic_scene import SyntheticFrameSource

logger = logging.getLogger(__name__)


class _GroundTruth(Worker):
    """Pushes ``activity:<name>`` at each segment start of the motion's script."""

    def __init__(self, motion: SyntheticMotion, markers: MarkerOutlet) -> None:
        super().__init__("SyntheticGroundTruth")
        self.motion = motion
        self.markers = markers

    def _loop(self) -> None:
        t0 = self.motion.t0
        assert t0 is not None
        segment = self.motion.segment_at(max(0.0, pylsl.local_clock() - t0))
        while not self._stop_event.is_set():
            start = t0 + self.motion.segment_start(segment)
            delay = start - pylsl.local_clock()
            if delay > 0 and self._stop_event.wait(delay):
                return
            activity = self.motion.params(segment).profile.name
            self.markers.push(MARKER_ACTIVITY + activity, timestamp=start)
            segment += 1


class SyntheticSession(StartStop):
    """Synthetic camera + IMU + ground-truth markers, deterministic given the seed.

    Args:
        script: ``(activity, duration_s)`` segments, repeated forever (activities: walking,
            running, sitting, waving, cycling).
        seed: randomness of every repetition (IMU and appearance).
        imu_rate_hz: IMU rate in Hz (e.g. 50 or 200).
        fps: camera frame rate in Hz.
        source_id_prefix: prefix of the three streams' source ids.
        teacher_size: (width, height) of frames on the frame bus, pixels.
        full_size: (width, height) of rendered (and recorded) frames, pixels.
        camera_on: initial camera state.
        video_out: video file to write from the start (see :class:`CameraDriver`).
        video_over_lsl: also publish frames on LSL (privacy warning).
        start_delay_s: the script starts this long after ``start()`` (readers can connect).
        video_name: file name advertised in the frame-index stream's ``desc/video_file`` when
            files are started later (see :class:`CameraDriver`).
    """

    def __init__(
        self,
        script: Sequence[tuple[str, float]] = DEFAULT_SCRIPT,
        seed: int = 0,
        imu_rate_hz: float = 50.0,
        fps: float = 15.0,
        source_id_prefix: str = "comodo-synthetic",
        teacher_size: tuple[int, int] = (160, 160),
        full_size: tuple[int, int] = (320, 240),
        camera_on: bool = True,
        video_out: Path | None = None,
        video_over_lsl: bool = False,
        start_delay_s: float = 0.2,
        video_name: str | None = None,
    ) -> None:
        if not 0 <= start_delay_s <= 10:
            raise ValueError(f"start_delay_s must be in [0, 10], got {start_delay_s}")
        self.motion = SyntheticMotion(script, seed)
        self.start_delay_s = start_delay_s
        self.imu_source_id = f"{source_id_prefix}-imu"
        self.camera_source_id = f"{source_id_prefix}-camera"
        self.marker_source_id = f"{source_id_prefix}-markers"
        self.markers = MarkerOutlet(self.marker_source_id, name="SyntheticMarkers")
        self.imu = ImuDriver(
            SyntheticImuSource(self.motion, imu_rate_hz), self.imu_source_id, "SyntheticIMU"
        )
        self.camera = CameraDriver(
            SyntheticFrameSource(self.motion, full_size),
            fps,
            teacher_size,
            self.camera_source_id,
            video_out=video_out,
            video_over_lsl=video_over_lsl,
            name="SyntheticCamera",
            camera_on=camera_on,
            markers=self.markers,
            video_name=video_name,
        )
        self._ground_truth = _GroundTruth(self.motion, self.markers)

    @property
    def activities(self) -> list[str]:
        """Distinct activities of the script, in order."""
        return self.motion.activities

    @property
    def t0(self) -> float | None:
        """LSL time at which the script started (None before ``start()``)."""
        return self.motion.t0

    @property
    def running(self) -> bool:
        return self.imu.running or self.camera.running or self._ground_truth.running

    def activity_at(self, t: float) -> str | None:
        """Ground-truth activity at LSL time ``t`` (None before the script starts)."""
        return self.motion.activity_at(t)

    def set_camera(self, on: bool) -> None:
        """Switch the camera (privacy mode when off); ``camera:on/off`` goes on the markers."""
        self.camera.set_camera(on)

    def start_video_file(self, path: Path) -> Path:
        return self.camera.start_video_file(path)

    def stop_video_file(self) -> int:
        return self.camera.stop_video_file()

    def start(self) -> SyntheticSession:
        if self.running:
            raise RuntimeError("SyntheticSession is already running")
        self.motion.t0 = pylsl.local_clock() + self.start_delay_s
        try:
            self.markers.start()
            self._ground_truth.start()
            self.imu.start()
            self.camera.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every part, in reverse order of start (idempotent)."""
        errors: list[BaseException] = []
        for part in (self.camera, self.imu, self._ground_truth):
            try:
                part.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(exc)
        self.markers.stop()
        if errors:
            raise errors[0]


def parse_script(text: str) -> list[tuple[str, float]]:
    """``"walking:12,sitting:8"`` → ``[("walking", 12.0), ("sitting", 8.0)]``."""
    script = []
    for item in text.split(","):
        name, _, duration = item.partition(":")
        if not duration:
            raise ValueError(f"script items must be 'activity:seconds', got {item!r}")
        script.append((name.strip(), float(duration)))
    return script


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.synthetic", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--script",
        type=parse_script,
        default=list(DEFAULT_SCRIPT),
        help=f"'activity:seconds,...' from {sorted(PROFILES)}",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--imu-rate", type=float, default=50.0, help="IMU rate, Hz")
    parser.add_argument("--fps", type=float, default=15.0, help="camera rate, Hz")
    parser.add_argument("--prefix", default="comodo-synthetic", help="source_id prefix")
    parser.add_argument("--video-out", type=Path, help="write the full-resolution video here")
    parser.add_argument(
        "--video-over-lsl", action="store_true", help="ALSO publish frames on LSL (privacy risk)"
    )
    parser.add_argument(
        "--camera-off-after",
        type=float,
        default=0.0,
        metavar="S",
        help="switch the camera off after S s",
    )
    parser.add_argument(
        "--duration", type=float, default=0.0, metavar="S", help="run S seconds (0 = until Ctrl-C)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.video_over_lsl:
        from .camera import PRIVACY_WARNING

        print(f"WARNING: {PRIVACY_WARNING}", file=sys.stderr, flush=True)
    session = SyntheticSession(
        args.script,
        args.seed,
        args.imu_rate,
        args.fps,
        args.prefix,
        video_out=args.video_out,
        video_over_lsl=args.video_over_lsl,
    )
    print(
        f"streams: imu={session.imu_source_id} camera={session.camera_source_id} "
        f"markers={session.marker_source_id}",
        flush=True,
    )
    start = time.monotonic()
    deadline = start + args.duration if args.duration > 0 else float("inf")
    with session:
        try:
            while session.running and time.monotonic() < deadline:
                if (
                    args.camera_off_after
                    and session.camera.camera_on
                    and time.monotonic() - start > args.camera_off_after
                ):
                    session.set_camera(False)
                    print("camera off", flush=True)
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass
    print(
        f"imu samples={session.imu.samples_pushed} frames={session.camera.frames_pushed}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

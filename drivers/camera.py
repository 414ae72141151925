"""Camera driver: frames stay local, their capture times go on LSL.

For each frame the driver takes the capture time on ``pylsl.local_clock()``, publishes the
downscaled RGB frame on the local :func:`~comodo_live.streams.frames.frame_bus` (keyed by the
``source_id``), and pushes the frame's index on an LSL stream of type ``VideoFrameIndex`` stamped
with that capture time. Egocentric frames travel over LSL only with ``video_over_lsl=True``.

Frame-index convention (also in the stream's ``desc/frame_index_convention``): while a video file
is being written (``video_out`` or :meth:`CameraDriver.start_video_file`), the value pushed with a
frame is the frame's 0-based index in THAT file (frame i of the file ↔ sample value i; each new
file starts at 0); while no file is being written the value is -1. The file holds
full-resolution frames; frames that are not captured (camera off) are simply not in it.

Frames are dropped (privacy mode, a slow device, a stale frame skipped), so the stream declares
``desc/synchronization/can_drop_samples = true``: XDF readers then keep the capture times as
stamped instead of fitting a regular rate through them (pyxdf >= 1.17.4 skips its dejittering
for such streams). The nominal rate stays the camera's fps (players and health checks use it).

CLI: ``python -m drivers.camera --source 0`` or ``--source walk.mp4 --video-out session.avi``.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import logging
import sys
import threading
import uuid
from pathlib import Path

import cv2
import numpy as np
import pylsl

from comodo_live.streams.frames import FrameBus, frame_bus
from comodo_live.streams.names import (
    FRAME_INDEX_TYPE,
    MARKER_CAMERA_OFF,
    MARKER_CAMERA_ON,
    VIDEO_TYPE,
)
from comodo_live.worker import Worker

from ._cli import run_for
from ._lsl import Pacer, Schedule, make_stream_info
from .frame_sources import FrameSource, OpenCvFrameSource
from .markers import VIDEO_START, VIDEO_STOP, MarkerOutlet
from .video_file import VideoFile, codec_for

logger = logging.getLogger(__name__)

FRAME_INDEX_CONVENTION = (
    "value = 0-based index of this frame in the video file being written (restarts at 0 per "
    "file); -1 = no file was being written"
)
PRIVACY_WARNING = (
    "video over LSL is ON: downscaled camera frames are published as LSL samples, which have "
    "no authentication or encryption; any process (or host that knows the address) can read them"
)


class CameraDriver(Worker):
    """Captures frames, publishes them locally and their indices on LSL, records the video file.

    Args:
        source: camera device index, video file path (paced at its fps, looping), or a
            :class:`FrameSource` (e.g. the synthetic scene).
        fps: frame rate in Hz (default: the source's); a device is asked for it.
        teacher_size: (width, height) in pixels of the RGB frames on the frame bus.
        source_id: unique LSL source id of the frame-index stream and key of the frame bus.
        loop: restart a video file at its end (else the driver stops there).
        video_out: start writing this video file (``.avi`` MJPG, ``.mp4`` mp4v) at ``start()``.
        video_over_lsl: also publish downscaled frames on LSL (type ``Video``; privacy warning).
        name: LSL stream name.
        camera_on: initial state (off: the source is not opened).
        markers: if given, ``camera:on`` / ``camera:off`` are pushed there at each switch, and
            ``video:start:<file name>`` / ``video:stop:<file name>`` for each video file.
        video_name: file name advertised in ``desc/video_file`` when files are started later with
            :meth:`start_video_file` (stream metadata is fixed when the outlet is created);
            default: ``video_out``'s name, else empty.
        bus_capacity: frames kept on the frame bus.
    """

    def __init__(
        self,
        source: int | str | Path | FrameSource,
        fps: float | None = None,
        teacher_size: tuple[int, int] = (160, 160),
        source_id: str = "comodo-camera",
        loop: bool = True,
        video_out: Path | None = None,
        video_over_lsl: bool = False,
        *,
        name: str = "Camera",
        camera_on: bool = True,
        markers: MarkerOutlet | None = None,
        video_name: str | None = None,
        bus_capacity: int = 300,
    ) -> None:
        super().__init__(f"CameraDriver[{source_id}]")
        if fps is not None and not 0 < fps <= 240:
            raise ValueError(f"fps must be in (0, 240] Hz or None, got {fps}")
        if len(teacher_size) != 2 or not all(8 <= int(s) <= 4096 for s in teacher_size):
            raise ValueError(
                f"teacher_size must be (width, height) in [8, 4096] px, got {teacher_size}"
            )
        if not source_id:
            raise ValueError(f"source_id must be a non-empty string, got {source_id!r}")
        self.source = source if isinstance(source, FrameSource) else OpenCvFrameSource(source, fps)
        self.fps = fps
        self.teacher_size = (int(teacher_size[0]), int(teacher_size[1]))
        self.source_id = source_id
        self.name = name
        self.loop = loop
        self.video_over_lsl = video_over_lsl
        self.markers = markers
        self.bus: FrameBus = frame_bus(source_id, bus_capacity)
        if video_out is not None:
            codec_for(Path(video_out))  # validate the suffix now
        self._initial_video = Path(video_out) if video_out is not None else None
        self.video_name = self._initial_video.name if self._initial_video else (video_name or "")
        if self.video_name:
            codec_for(Path(self.video_name))
        self._camera_on = camera_on
        self._off_ack = threading.Event()
        self._wake = threading.Event()
        self._video_lock = threading.Lock()
        self._video: VideoFile | None = None
        self._pending_video: tuple[Path, str | None] | None = None  # (path, codec)
        self._last_written = 0
        self._index_outlet: pylsl.StreamOutlet | None = None
        self._video_outlet: pylsl.StreamOutlet | None = None
        self._pacer: Pacer | None = None
        self.frames_read = 0
        self.frames_pushed = 0
        self.frames_dropped = 0
        self.ended = False

    # ----------------------------------------------------------------- run-time control
    @property
    def camera_on(self) -> bool:
        return self._camera_on

    @property
    def nominal_fps(self) -> float:
        """The frame-index stream's nominal rate in Hz (0 when unknown)."""
        return float(self.fps or self.source.fps or 0.0)

    def set_camera(self, on: bool, timeout: float = 2.0) -> None:
        """Switch the camera on or off at run time.

        Off: the source is released (a device is closed), nothing is read, no frame index is
        pushed and the frame bus is cleared; returns once the worker has done so. On: reopened.
        """
        on = bool(on)
        if on == self._camera_on:
            return
        self._off_ack.clear()
        self._camera_on = on
        self._wake.set()
        self._announce(MARKER_CAMERA_ON if on else MARKER_CAMERA_OFF)
        if not on:
            if self.running and not self._off_ack.wait(timeout):
                logger.error("%s: camera did not release within %.1f s", self._name, timeout)
            self.bus.clear()

    def start_video_file(self, path: Path, codec: str | None = None) -> Path:
        """Write full-resolution frames to ``path`` from the next frame on (index restarts at 0)."""
        path = Path(path)
        codec_for(path, codec)
        with self._video_lock:
            self._close_video_locked()
            self._last_written = 0
            size = self.source.frame_size if self.source.is_open else None
            if size is not None:
                self._video = VideoFile(path, self.nominal_fps or 30.0, size, codec)
            else:
                self._pending_video = (
                    path,
                    codec,
                )  # opened at the first frame, when its size is known
            if path.name != self.video_name and self.running:
                logger.info(
                    "%s: video file %s is not the advertised desc/video_file %r",
                    self._name,
                    path.name,
                    self.video_name,
                )
        self._announce(VIDEO_START + path.name)
        return path

    def stop_video_file(self) -> int:
        """Finish the current video file; returns the frames written to it (0 if none)."""
        with self._video_lock:
            path = self.video_path
            written = self._close_video_locked()
        if path is not None:
            self._announce(VIDEO_STOP + path.name)
        return written

    def _announce(self, marker: str) -> None:
        if self.markers is not None and self.markers.running:
            self.markers.push(marker)

    @property
    def video_path(self) -> Path | None:
        video = self._video
        if video is not None:
            return video.path
        return self._pending_video[0] if self._pending_video is not None else None

    @property
    def frames_written(self) -> int:
        """Frames written to the current video file, or to the last one finished."""
        video = self._video
        return video.frames_written if video is not None else self._last_written

    def _close_video_locked(self) -> int:
        self._pending_video = None
        video, self._video = self._video, None
        if video is None:
            return 0
        self._last_written = video.close()
        return self._last_written

    # ----------------------------------------------------------------- worker
    def _open(self) -> None:
        self.ended = False
        if self._camera_on:
            self.source.open()
        elif self.source.is_file and not self.source.frame_size:
            self.source.open()  # learn a file's rate and size; a device stays closed while off
            self.source.close()
        if self.source.paced and not self.nominal_fps:
            raise ValueError(
                f"fps is required for source {self.source.description} (it has no frame rate)"
            )
        width, height = self.source.frame_size or (0, 0)
        meta = {
            "source": self.source.description,
            "video_file": self.video_name,
            "codec": codec_for(Path(self.video_name)) if self.video_name else "",
            "fps": self.nominal_fps,
            "width": width,
            "height": height,
            "teacher_width": self.teacher_size[0],
            "teacher_height": self.teacher_size[1],
            "frame_index_convention": FRAME_INDEX_CONVENTION,
            "frames_on_lsl": int(self.video_over_lsl),
        }
        info = make_stream_info(
            self.name,
            FRAME_INDEX_TYPE,
            self.source_id,
            rate_hz=self.nominal_fps,
            channel_format=pylsl.cf_double64,
            labels=("frame_index",),
            units=("frame",),
            meta=meta,
        )
        synchronization = info.desc().append_child("synchronization")
        synchronization.append_child_value("can_drop_samples", "true")  # XDF meta-data spec
        self._index_outlet = pylsl.StreamOutlet(info)
        if self.video_over_lsl:
            logger.warning(PRIVACY_WARNING)
            self._video_outlet = pylsl.StreamOutlet(self._video_info(), max_buffered=2)
        if self._initial_video is not None:
            self.start_video_file(self._initial_video)
        if self.source.paced:
            self._pacer = Pacer(
                Schedule(rate_hz=self.nominal_fps),
                t0=self.source.t0,
                max_lag_s=0.2,
                max_items=1_000_000,
            )

    def _video_info(self) -> pylsl.StreamInfo:
        tw, th = self.teacher_size
        info = pylsl.StreamInfo(
            f"{self.name}Frames",
            VIDEO_TYPE,
            tw * th * 3,
            self.nominal_fps,
            pylsl.cf_int8,
            self.source_id,
        )
        desc = info.desc()
        for key, value in (
            ("width", tw),
            ("height", th),
            ("layout", "HWC row-major RGB"),
            ("dtype", "uint8 sent as int8: .view(numpy.uint8) on receipt"),
        ):
            desc.append_child_value(key, str(value))
        return info

    def _loop(self) -> None:
        while not self._stop_event.is_set():
            if not self._camera_on:
                self._release()
                self._wake.wait(0.1)
                self._wake.clear()
                continue
            if not self.source.is_open:
                self._reopen()
            frame, stamp = self._capture()
            if frame is None:
                if stamp < 0:
                    return  # end of a non-looping file
                continue
            if not self._camera_on:
                continue  # switched off while reading: this frame is never published
            self._publish(frame, stamp)

    def _capture(self) -> tuple[np.ndarray | None, float]:
        """(frame, capture time); (None, 0) to retry; (None, -1) at the end of the source."""
        due = pylsl.local_clock()
        if self._pacer is not None:
            skipped_before = self._pacer.skipped
            k0, k1 = self._pacer.wait_due(0.05, self._stop_event)
            if k0 == k1:
                return None, 0.0
            late = (k1 - k0 - 1) + (self._pacer.skipped - skipped_before)
            if late:
                self.frames_dropped += late
                self.source.skip(late)
            due = float(self._pacer.lsl_times(k1 - 1, k1)[0])
        frame = self.source.read(due)
        if frame is None and self.source.is_file and self.loop:
            self.source.seek(0)
            frame = self.source.read(due)
            if frame is None:
                raise OSError(f"video source {self.source.description} yields no frames")
        stamp = due if self.source.stamps_at_due_time else pylsl.local_clock()
        if frame is None:
            self.ended = True
            return None, -1.0
        self.frames_read += 1
        return frame, stamp

    def _publish(self, frame: np.ndarray, stamp: float) -> None:
        small = cv2.resize(frame, self.teacher_size, interpolation=cv2.INTER_AREA)
        small = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)  # (h, w, 3) uint8
        with self._video_lock:
            if self._pending_video is not None:
                (path, codec), self._pending_video = self._pending_video, None
                self._video = VideoFile(
                    path, self.nominal_fps or 30.0, (frame.shape[1], frame.shape[0]), codec
                )
            index = self._video.write(frame) if self._video is not None else -1
        assert self._index_outlet is not None
        self._index_outlet.push_sample([float(index)], stamp)
        self.bus.publish(index, stamp, small)
        if self._video_outlet is not None:
            self._video_outlet.push_chunk(small.reshape(1, -1).view(np.int8), stamp)
        self.frames_pushed += 1

    def _reopen(self) -> None:
        self.source.open()
        if self._pacer is not None:
            due = self._pacer.schedule.count_due(pylsl.local_clock() - self._pacer.t0)
            self._pacer.next_index = max(self._pacer.next_index, due - 1)
            if self.source.is_file and self.source.frame_count:
                self.source.seek(self._pacer.next_index % self.source.frame_count)

    def _release(self) -> None:
        if self.source.is_open:
            self.source.close()
        self.bus.clear()
        self._off_ack.set()

    def _close(self) -> None:
        self.source.close()
        self.stop_video_file()
        self.bus.clear()
        self._index_outlet = None
        self._video_outlet = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.camera", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--source", default="0", help="device index or video file (default 0)")
    parser.add_argument(
        "--fps", type=float, default=None, help="frame rate, Hz (default: the source's)"
    )
    parser.add_argument("--teacher-size", type=int, nargs=2, default=(160, 160), metavar=("W", "H"))
    parser.add_argument("--source-id", default=f"comodo-camera-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--name", default="Camera")
    parser.add_argument("--no-loop", action="store_true", help="stop at the end of a video file")
    parser.add_argument(
        "--video-out", type=Path, help="write full-resolution frames here (.avi/.mp4)"
    )
    parser.add_argument(
        "--video-over-lsl",
        action="store_true",
        help="ALSO publish downscaled frames on LSL (unencrypted; privacy risk)",
    )
    parser.add_argument(
        "--duration", type=float, default=0.0, metavar="S", help="run S seconds (0 = until Ctrl-C)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.video_over_lsl:
        print(f"WARNING: {PRIVACY_WARNING}", file=sys.stderr, flush=True)
    source: int | str = int(args.source) if args.source.isdigit() else args.source
    driver = CameraDriver(
        source,
        args.fps,
        tuple(args.teacher_size),
        args.source_id,
        not args.no_loop,
        args.video_out,
        args.video_over_lsl,
        name=args.name,
    )
    print(f"frame-index stream source_id={args.source_id}", flush=True)
    run_for(driver, args.duration)
    print(
        f"frames read={driver.frames_read} pushed={driver.frames_pushed} "
        f"dropped={driver.frames_dropped}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The engine's LSL side: readers of its own sources' streams, windowing, markers, recording.

Streams are resolved by the ``source_id`` of the sources the engine started (never "the first
IMU stream"); streams of other programs by the user's spec (source_id, or name / type /
hostname, refused when ambiguous). The IMU, camera and the sources' own markers are required;
other software's marker streams and the microphone are optional and join the running session
when they appear (:mod:`comodo_live.session.optional_streams`), in the recording too. The IMU
reader's chunk hook wakes the windowing thread, so windows reach the predictor a few
milliseconds after their last sample.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from comodo_live.config import AppConfig
from comodo_live.records import PairedWindow
from comodo_live.session import folder as session_files
from comodo_live.session.optional_streams import (
    LateStreams,
    OptionalStream,
    find_now,
    resolve_imu_ids,
)
from comodo_live.session.snapshot import LAGGY_AFTER_S, MISSING_AFTER_S, StreamsStatus, StreamStatus
from comodo_live.session.sources import Sources
from comodo_live.session.windowing_worker import WindowingWorker, chunk_hook
from comodo_live.streams.imu_door import JoinedImuReader, open_imu
from comodo_live.streams.imu_watch import ImuChannelWatch
from comodo_live.streams.reader import StreamReader
from comodo_live.streams.resolve import resolve_stream
from comodo_live.streams.spec import StreamSpec, parse_stream_spec
from comodo_live.streams.windowing import Timeline, Windower
from comodo_live.units import ChannelMap

logger = logging.getLogger(__name__)

RECORDER_FLUSH_S = 1.0  # the recorder keeps recording this long after a stop, s (> 0.5 s late)
OPTIONAL_AT_START_S = 2.0  # an optional stream not there within this long joins later


def health_of(seconds_since_data: float, rate_hz: float, nominal_hz: float) -> str:
    """``"ok"`` / ``"laggy"`` (no data ~1.5 s or rate < 90% nominal) / ``"missing"`` (~7 s)."""
    if seconds_since_data > MISSING_AFTER_S:
        return "missing"
    if seconds_since_data > LAGGY_AFTER_S or (nominal_hz > 0 and rate_hz < 0.9 * nominal_hz):
        return "laggy"
    return "ok"


class EngineStreams:
    """Readers, windower, windowing worker and recorder for one set of sources.

    Args:
        config: the app configuration.
        sources: started sources (their streams are resolved here by source_id).
        session_dir: the session folder (recordings go there).
        sink: receives every paired window (the learning pipeline's ``submit``).
        engine_markers: the engine's own marker outlet (labels, camera switches), recorded too.
        on_marker: receives ``(t, text)`` of every marker of the sources' marker streams and of
            the external ones named in ``session.marker_source_ids`` (other lab software), in
            the windowing thread, before the windows of the same poll.
    """

    def __init__(
        self,
        config: AppConfig,
        sources: Sources,
        session_dir: Path,
        sink: Callable[[PairedWindow], None],
        engine_markers: Any = None,
        on_marker: Callable[[float, str], None] | None = None,
    ) -> None:
        self.config = config
        self.sources = sources
        self.session_dir = session_dir
        self._sink = sink
        self.engine_markers = engine_markers
        self._wake = threading.Event()
        self.camera_timeline = Timeline(initial=sources.camera_on)
        self.readers: dict[str, StreamReader] = {}
        self.imu_reader: StreamReader | JoinedImuReader | None = None
        self.imu_channels: ChannelMap | None = None  # the IMU stream's order and units → SI
        self.imu_units: tuple[str, ...] = ()  # the source's unit of each contract channel
        self.imu_watch: ImuChannelWatch | None = None  # IMU back with other channels, named
        self.windower: Windower | None = None
        self.windowing: WindowingWorker | None = None
        self.recorder: Any = None
        self._recording_lock = threading.Lock()
        self._recordings = 0
        self._on_marker = on_marker
        self._marker_cursors: dict[str, int] = {}
        self._join_lock = threading.Lock()  # readers is replaced, never mutated, once running
        self.late: LateStreams | None = None
        self._join_errors: list[str] = []

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Resolve and read the sources' streams; build the windower (not yet polled)."""
        cfg = self.config
        timeout = cfg.session.resolve_timeout_s
        # units at the door: one stream, or "ACC_ID+GYRO_ID" joined (comodo_live.streams.imu_door)
        imu_ids = resolve_imu_ids(self.sources.imu_source_id, timeout)  # specs → source_ids
        door = open_imu(imu_ids, timeout, 30.0, chunk_hook(self._wake))
        self.readers.update(door.readers)
        self.imu_reader, self.imu_channels, self.imu_units = (
            door.reader,
            door.channel_map,
            door.units,
        )
        self.imu_watch = ImuChannelWatch(door.readers)
        if self.sources.camera_source_id is not None:
            info = resolve_stream(source_id=self.sources.camera_source_id, timeout_s=timeout)
            self.readers["camera"] = StreamReader(info, buffer_s=10.0).start()
        marker_reader = None
        own = tuple(self.sources.marker_source_ids)
        for i, source_id in enumerate(own):  # the sources' own markers: required
            info = resolve_stream(source_id=source_id, timeout_s=timeout)
            reader = StreamReader(info, buffer_s=60.0).start()
            self.readers[f"markers{i}"] = reader
            marker_reader = marker_reader or reader
        self._start_optional(self._optional_streams(len(own)))
        self.windower = Windower(
            self.imu_reader,
            cfg.window.window_s,
            cfg.window.hop_s,
            cfg.window.rate_hz,
            frame_source=self.sources.frame_bus,
            camera_state=self.camera_timeline,
            frames_per_clip=cfg.teacher.frames,
            markers=marker_reader,
            max_frame_gap_s=cfg.window.max_frame_gap_s,
            channel_map=self.imu_channels,
        )
        self.windowing = WindowingWorker(self.windower, self._sink, self._wake, self._read_markers)

    def _optional_streams(self, first_marker: int) -> list[OptionalStream]:
        """The microphone and other software's marker streams (``session.marker_source_ids``)."""
        optional = []
        audio_id = getattr(self.sources, "audio_source_id", None)  # live sources with a mic
        if audio_id is not None:
            optional.append(OptionalStream("audio", StreamSpec(source_id=audio_id), "audio"))
        own = set(self.sources.marker_source_ids)
        external = [s for s in dict.fromkeys(self.config.session.marker_source_ids) if s not in own]
        for i, text in enumerate(external, start=first_marker):
            spec = parse_stream_spec(text, "session.marker_source_ids")
            optional.append(OptionalStream(f"markers{i}", spec, "session.marker_source_ids"))
        return optional

    def _start_optional(self, optional: list[OptionalStream]) -> None:
        """Join the optional streams there now; look for the others in the background."""
        missing = []
        for stream in optional:
            info = find_now(stream, OPTIONAL_AT_START_S)  # ambiguous: raises, listing them
            if info is None:
                logger.info(
                    "%s = %s is not on LSL yet: the session starts without it and it joins when it "
                    "appears",
                    stream.what,
                    stream.spec,
                )
                missing.append(stream)
            else:
                self._join(stream, info)
        if missing:
            self.late = LateStreams(missing, self._join, self._join_failed).start()

    def _join(self, stream: OptionalStream, info: Any) -> None:
        """Read an optional stream from now on (start, or the late-streams thread)."""
        buffer_s = 5.0 if stream.key == "audio" else 60.0
        reader = StreamReader(info, buffer_s=buffer_s).start()
        with self._join_lock:
            self.readers = {**self.readers, stream.key: reader}  # readers iterate a snapshot
        if self.late is not None:  # joined late (a recording started since watches for it)
            logger.info(
                "%s = %s joined the session: %s", stream.what, stream.spec, reader.description
            )

    def _join_failed(self, message: str) -> None:
        logger.error("%s", message)
        with self._join_lock:
            self._join_errors.append(message)

    def waiting_for(self) -> list[OptionalStream]:
        """Optional streams not (yet) on LSL, still looked for."""
        with self._join_lock:
            return self.waiting_for_locked()

    def waiting_for_locked(self) -> list[OptionalStream]:
        late = self.late
        return [] if late is None else [s for s in late.missing if s.key not in self.readers]

    def start_windowing(self) -> None:
        if self.windowing is not None:
            self.windowing.start()

    def stop_windowing(self) -> None:
        if self.windowing is not None:
            self.windowing.stop()

    def stop(self) -> None:
        """Stop every reader (after the recorder and the windowing), in reverse start order.

        Raises:
            The first reader failure re-raised by its ``stop()`` (``COMODO_RAISE=1``), after
            all readers are stopped.
        """
        errors: list[BaseException] = []
        if self.late is not None:
            self.late.stop()  # no reader joins from here on
        if self.imu_watch is not None:
            self.imu_watch.close()
        for reader in reversed(list(self.readers.values())):
            try:
                reader.stop()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    # --- camera and markers -------------------------------------------------------------------
    def camera_switched(self, on: bool) -> None:
        """Windows that span this instant are dropped; later ones follow the new state."""
        self.camera_timeline.set(bool(on))

    def _read_markers(self) -> None:
        if self._on_marker is None:
            return
        for key, reader in self.readers.items():
            if not key.startswith("markers"):
                continue
            self._marker_cursors[key], new = reader.markers_after(self._marker_cursors.get(key, 0))
            for t, text in new:
                self._on_marker(t, text)

    def push_marker(self, text: str, t: float) -> None:
        if self.engine_markers is not None and self.engine_markers.running:
            self.engine_markers.push(text, t)

    def activity_over(self, t0: float, t1: float) -> str | None:
        """Ground truth from ``activity:`` markers, constant over [t0, t1] (demo), else None."""
        return self.windower.activity_over(t0, t1) if self.windower is not None else None

    # --- recording ----------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self.recorder is not None

    def start_recording(self) -> None:
        """Record every stream of the session (+ the video file) into the session folder."""
        from comodo_live.recording.recorder import SessionRecorder

        with self._recording_lock:
            if self.recorder is not None:
                return
            self._recordings += 1
            suffix = "" if self._recordings == 1 else f"-{self._recordings}"
            xdf = self.session_dir / session_files.XDF_NAME.replace(".xdf", f"{suffix}.xdf")
            video = self.session_dir / session_files.VIDEO_NAME.replace(".avi", f"{suffix}.avi")
            with self._join_lock:  # a stream joins either the list or the watched ones
                infos: list[Any] = [r.info for r in self.readers.values() if r.info is not None]
                watch = [s.spec.predicate for s in self.waiting_for_locked()]
            if self.engine_markers is not None:
                infos.append(resolve_stream(source_id=self.engine_markers.source_id, timeout_s=5.0))
            recorder = SessionRecorder(xdf, infos, watchfor=watch, flush_s=RECORDER_FLUSH_S)
            recorder.start()  # returns once the engine collects every stream, the frame index too
            if self.config.camera.record_video and self.sources.camera_source_id is not None:
                try:  # so the file's first frame has its frame-index sample in the XDF
                    self.sources.start_video_file(video)
                except BaseException:
                    recorder.stop()
                    raise
            self.recorder = recorder

    def stop_recording(self) -> None:
        """Finalise the video, then the XDF (sources keep pushing during the recorder's flush).

        The video file is closed first: the recorder then still writes the frame-index samples
        of its last frames (LabRecorder writes ~0.5 s late; it flushes ``RECORDER_FLUSH_S``), so
        every frame of the file has its sample, at both ends.
        """
        with self._recording_lock:
            recorder, self.recorder = self.recorder, None
            if recorder is None:
                return
            try:
                self.sources.stop_video_file()
            finally:
                recorder.stop()

    # --- queries ------------------------------------------------------------------------------
    def imu_stream_problems(self) -> list[str]:
        """An IMU stream that came back on LSL with other channels, in words (else empty)."""
        watch = self.imu_watch
        return watch.check() if watch is not None else []

    def imu_plot_data(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        reader = self.imu_reader
        if reader is None or reader.buffer is None:
            return np.zeros(0), np.zeros((6, 0), np.float32)
        count = max(1, math.ceil(seconds * max(reader.nominal_srate, 1.0)))
        t, values, _ = reader.newest(count)
        if self.imu_channels is not None:
            values = self.imu_channels.apply(values)  # m/s², rad/s, as the windows
        if t.size:
            keep = t >= t[-1] - seconds
            t, values = t[keep], values[keep]
        return t, np.ascontiguousarray(values.T, dtype=np.float32)

    def status(self, camera_on: bool) -> StreamsStatus:
        """Every stream's status, the recording flag and failed workers, copied now.

        Args:
            camera_on: the camera's privacy switch (off: its frame-index stream is not expected
                to flow, so it is never "missing").
        """
        statuses = []
        failures = []
        for key, reader in self.readers.items():
            h = reader.health()
            d = reader.description
            if key == "camera" and not camera_on:
                health = "ok"  # privacy mode: no frame index is expected
            elif d.nominal_srate == 0:
                health = "ok" if h.error is None else "missing"
            else:
                health = health_of(h.seconds_since_data, h.rate_hz, d.nominal_srate)
            statuses.append(
                StreamStatus(
                    name=d.name,
                    type=d.type,
                    source_id=d.source_id,
                    nominal_rate_hz=float(d.nominal_srate),
                    measured_rate_hz=float(h.rate_hz),
                    seconds_since_data=float(h.seconds_since_data),
                    health=health,
                    samples=h.samples,
                    gaps=h.gaps,
                    nan_samples=h.nan_samples,
                    time_offset_s=h.time_offset_s,
                    error=h.error,
                )
            )
            if h.error is not None:
                failures.append(f"reader of {d} stopped: {h.error}")
        for stream in self.waiting_for():  # optional, not on LSL yet: joins when it appears
            spec = stream.spec
            statuses.append(
                StreamStatus(spec.name, spec.type, spec.source_id, 0.0, 0.0, math.inf, "waiting")
            )
        windowing = self.windowing
        if windowing is not None and windowing.error is not None:
            failures.append(f"{windowing.name} stopped: {windowing.error!r}")
        with self._join_lock:
            failures.extend(self._join_errors)
        return StreamsStatus(tuple(statuses), self.recording, tuple(failures))

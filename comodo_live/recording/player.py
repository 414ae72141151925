"""Faithful replay of an XDF session as live LSL streams (and its video frames, locally).

Every stream of the file gets an outlet with the original name, type, format, rate and full
``desc`` (copied from the file's own header XML), under a new unique ``source_id`` (original +
suffix, see :attr:`XdfPlayer.source_ids`) so replayed streams never collide with live ones.
Samples are pushed in chunks on an absolute schedule from ``local_clock()`` with their
ORIGINAL relative timestamps (shifted, divided by ``speed``): jitter and gaps are kept. Empty
streams get an outlet and push nothing; string streams and video-over-LSL (int8) streams are
pushed as they are.

If the file has a ``VideoFrameIndex`` stream and the session folder holds its video file
(``video:start:<file>`` markers, else ``desc/video_file``, else the only video file there; see
:func:`~comodo_live.recording.session.videos_per_frame`), the frames are decoded, downscaled and
published on :func:`~comodo_live.streams.frames.frame_bus` of the replayed frame-index source_id
at the replayed frame-index times — what a live camera driver does. :meth:`set_camera` switches
that off and on (privacy mode during replay: no frames and no frame indices while off).
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from pathlib import Path

import numpy as np
import pylsl

from comodo_live.recording.frameserver import FrameServer
from comodo_live.recording.rawvideo import RawFrameServer, track_spec
from comodo_live.recording.session import find_session, load_session_xdf, videos_per_frame
from comodo_live.recording.track import Track
from comodo_live.recording.xdfmeta import stream_info_from_xml
from comodo_live.worker import Worker

logger = logging.getLogger(__name__)


MAX_CLOCK_GAP_S = 3600.0  # a silence longer than this between streams means two clocks


def check_one_clock(spans: list[tuple[float, float]], path: Path) -> None:
    """Refuse a file whose streams were stamped on different clocks.

    Args:
        spans: (first, last) time stamp of each stream with samples, seconds.
        path: the file, for the message.

    Raises:
        ValueError: the streams' time ranges are separated by more than
            :data:`MAX_CLOCK_GAP_S` (replaying them on one schedule would wait that long).
    """
    reach = None
    for first, last in sorted(spans):
        if reach is not None and first - reach > MAX_CLOCK_GAP_S:
            raise ValueError(
                f"{path}: its streams use different clocks (one starts {first - reach:,.0f} s "
                f"after another ends, more than {MAX_CLOCK_GAP_S:.0f} s); a replay needs streams "
                "stamped on one clock (e.g. LSL's local_clock, as LabRecorder writes them)"
            )
        reach = last if reach is None else max(reach, last)


class XdfPlayer(Worker):
    """Replays an XDF file (or session folder) as LSL outlets; one thread, plus one for frames.

    A :class:`~comodo_live.worker.Worker`: ``start()`` opens the outlets and starts playback
    (and the :class:`~comodo_live.recording.frameserver.FrameServer`, which it owns);
    ``stop()`` joins both and closes the outlets. A failure stops playback and is kept in
    :attr:`error`.

    Args:
        path: an ``.xdf`` file or a session folder holding one.
        speed: replay speed factor (> 0); 2 plays twice as fast.
        loop: start over at the end (each pass shifted by the session's duration).
        source_id_suffix: appended to every original source_id (default: a fresh random one).
        frames: serve the session video's frames on the frame bus (when the video is found).
        frame_size: (width, height) of served frames (default: the recorded teacher size, or 160²).
        start_delay_s: LSL seconds between :meth:`start` and the first sample.
        publish_video: re-publish raw video streams (``Video`` / ``VideoRaw``) on LSL; False
            (the app's replay): their frames are served on the local frame bus only.
    """

    def __init__(
        self,
        path: Path,
        speed: float = 1.0,
        loop: bool = False,
        source_id_suffix: str | None = None,
        *,
        frames: bool = True,
        frame_size: tuple[int, int] | None = None,
        start_delay_s: float = 0.1,
        publish_video: bool = True,
    ) -> None:
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError(f"speed must be finite and > 0, got {speed}")
        self.xdf_path, self.folder = find_session(Path(path))
        super().__init__(f"xdf-player-{self.xdf_path.name}")
        self.speed = float(speed)
        self.loop = loop
        self.start_delay_s = float(start_delay_s)
        suffix = (
            source_id_suffix if source_id_suffix is not None else f"-replay-{uuid.uuid4().hex[:8]}"
        )
        streams, headers = load_session_xdf(self.xdf_path)  # ValueError: unreadable, in words
        spans = [
            (float(s["time_stamps"][0]), float(s["time_stamps"][-1]))
            for s in streams
            if len(s["time_stamps"])
        ]
        check_one_clock(spans, self.xdf_path)
        firsts = [first for first, _ in spans]
        t_first = min(firsts) if firsts else 0.0
        self.tracks: list[Track] = []
        for k, stream in enumerate(streams):
            stream_id = int(stream["info"]["stream_id"])
            original = str((stream["info"].get("source_id") or [""])[0] or "")
            base = original or f"{stream['info']['name'][0]}-{k}"
            xml = headers.get(stream_id, "")
            self.tracks.append(Track(stream, xml, base + suffix, t_first, self.speed))
        lasts = [float(t.offsets[-1]) for t in self.tracks if len(t)]
        periods = [1.0 / t.nominal_srate for t in self.tracks if t.nominal_srate > 0 and len(t)]
        self.duration_s = (max(lasts) if lasts else 0.0) + (
            min(periods) if periods else 0.1
        ) / speed
        self.source_ids = {t.original_source_id or t.name: t.source_id for t in self.tracks}
        self.publish_video = publish_video
        self.frame_server: FrameServer | RawFrameServer | None = None
        index_track = next((t for t in self.tracks if t.is_frame_index and len(t)), None)
        if frames and index_track is not None:
            markers = [
                (float(t), str(sample[0]))
                for track in self.tracks
                if track.is_string and track.channel_count == 1
                for t, sample in zip(track.timestamps, track.data, strict=True)
            ]
            videos = videos_per_frame(self.folder, index_track.xml, index_track.timestamps, markers)
            if any(v is not None for v in videos):
                self.frame_server = FrameServer(
                    videos, index_track, self.duration_s, loop, frame_size=frame_size
                )
        if frames and self.frame_server is None:  # video carried over LSL (VideoRaw)
            for track in self.tracks:
                spec = track_spec(track) if len(track) else None
                if spec is not None:
                    size = frame_size or (160, 160)
                    self.frame_server = RawFrameServer(track, spec, self.duration_s, loop, size)
                    break
        self._camera_on = True
        self.finished = threading.Event()
        self._outlets_open = False
        self.t0 = 0.0
        self.passes = 0

    # -- outlets and lifecycle -------------------------------------------------------------
    def open(self) -> XdfPlayer:
        """Create every outlet (so consumers can resolve them before playback). Idempotent."""
        if self._outlets_open:
            return self
        for track in self.tracks:
            if track.is_video and not self.publish_video:
                continue  # served on the frame bus only, never re-published
            if track.xml:
                info = stream_info_from_xml(track.xml, track.source_id)
            else:  # no header chunk (cut file): rebuild from what pyxdf parsed
                info = pylsl.StreamInfo(
                    track.name,
                    track.type,
                    track.channel_count,
                    track.nominal_srate,
                    track.channel_format,
                    track.source_id,
                )
            max_buffered = 2 if track.is_video else 360
            track.outlet = pylsl.StreamOutlet(info, max_buffered=max_buffered)
        self._outlets_open = True
        return self

    @property
    def camera_on(self) -> bool:
        return self._camera_on

    def set_camera(self, on: bool) -> None:
        """Privacy switch: off stops frame indices, video samples and served frames."""
        self._camera_on = bool(on)
        if self.frame_server is not None:
            self.frame_server.set_camera(self._camera_on)

    def start(self) -> XdfPlayer:
        """Open the outlets if needed and start playback. Idempotent while running."""
        if self.running:
            return self
        return super().start()

    def _open(self) -> None:
        self.open()
        self.finished.clear()
        self.t0 = pylsl.local_clock() + self.start_delay_s
        for track in self.tracks:
            track.cursor = 0
        self.passes = 0
        if self.frame_server is not None:
            self.frame_server.start_at(self.t0, self._camera_on)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until every sample was pushed (never, with ``loop``). True when finished."""
        return self.finished.wait(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop playback, join the threads and close the outlets. Idempotent."""
        try:
            super().stop(timeout_s)
        finally:
            for track in self.tracks:
                track.outlet = None
            self._outlets_open = False

    def _close(self) -> None:
        if self.frame_server is not None:
            self.frame_server.stop()

    # -- playback --------------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            self._play()
        finally:
            self.finished.set()

    def _play(self) -> None:
        pass_t0 = self.t0
        while not self._stop_event.is_set():
            now = pylsl.local_clock() - pass_t0
            next_due = math.inf
            for track in self.tracks:
                next_due = min(next_due, self._push_due(track, now, pass_t0))
            if next_due == math.inf:  # this pass is done
                if not self.loop:
                    return
                pass_t0 += self.duration_s
                self.passes += 1
                for track in self.tracks:
                    track.cursor = 0
                next_due = min((float(t.schedule[0]) for t in self.tracks if len(t)), default=0.0)
            delay = next_due - (pylsl.local_clock() - pass_t0)
            if delay > 0:
                self._stop_event.wait(min(delay, 0.05))

    def _push_due(self, track: Track, now: float, pass_t0: float) -> float:
        """Push the track's samples due by ``now``; return its next due time (inf: done)."""
        n = len(track)
        if track.cursor >= n:
            return math.inf
        end = int(np.searchsorted(track.schedule, now, side="right"))
        if end > track.cursor:
            start, track.cursor = track.cursor, end
            private = track.is_frame_index or track.is_video
            if track.outlet is not None and (self._camera_on or not private):
                stamps = (pass_t0 + track.offsets[start:end]).tolist()
                track.outlet.push_chunk(track.data[start:end], stamps)
                track.pushed += end - start
        return float(track.schedule[track.cursor]) if track.cursor < n else math.inf

"""A recorded session as the engine's source: :class:`~comodo_live.recording.player.XdfPlayer`
replays its streams as LSL outlets and serves its video frames on the local frame bus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from comodo_live.config import AppConfig
from comodo_live.streams.frames import FrameBus, frame_bus
from comodo_live.streams.names import (
    FRAME_INDEX_TYPE,
    IMU_TYPE,
    MARKER_CAMERA_OFF,
    MARKER_CAMERA_ON,
    MARKER_TYPE,
)


class ReplaySources:
    """Replays ``config.source.replay_path`` (an ``.xdf`` file or a session folder).

    Args:
        config: source settings (path, speed, loop) and the teacher frame size.
        markers: the engine's marker outlet: privacy switches during a replay are marked there
            (the player itself has no marker stream of its own).

    Raises:
        ValueError: the file has no 6-channel IMU stream.
    """

    def __init__(self, config: AppConfig, markers: Any = None) -> None:
        from comodo_live.recording.player import XdfPlayer

        src = config.source
        self.player = XdfPlayer(
            Path(src.replay_path),
            speed=src.replay_speed,
            loop=src.replay_loop,
            frame_size=(config.camera.width_px, config.camera.height_px),
            publish_video=False,  # video over LSL feeds the teacher locally, never re-published
        )
        self.markers = markers
        imu = [
            t for t in self.player.tracks if t.type == IMU_TYPE and t.channel_count == 6 and len(t)
        ]
        if not imu:
            found = [(t.name, t.type, t.channel_count) for t in self.player.tracks]
            raise ValueError(
                f"source.replay_path = {src.replay_path!r} has no 6-channel IMU stream with samples; "
                f"streams: {found}"
            )
        self.imu_source_id = imu[0].source_id
        if src.replay_labels or src.replay_label_map:
            self._apply_labels(config, imu[0])
        cameras = [t for t in self.player.tracks if t.type == FRAME_INDEX_TYPE and len(t)]
        self.camera_source_id: str | None = cameras[0].source_id if cameras else None
        self.frame_bus: FrameBus | None = None
        if self.player.frame_server is not None:
            self.frame_bus = frame_bus(self.player.frame_server.source_id)
        ordered = sorted(
            (t for t in self.player.tracks if t.type == MARKER_TYPE and len(t)),
            key=lambda t: (
                t.name != "SyntheticMarkers"
            ),  # the ground truth first (windower reads it)
        )
        self.marker_source_ids: tuple[str, ...] = tuple(t.source_id for t in ordered)
        if not config.camera.on_at_start:
            self.player.set_camera(False)

    def _apply_labels(self, config: AppConfig, imu: Any) -> None:
        """``source.replay_label_map`` on the file's marker tracks; ``source.replay_labels``
        as one more marker track (seconds from the first IMU sample)."""
        from comodo_live.recording.labels_in import marker_stream, replay_markers
        from comodo_live.recording.track import Track

        src = config.source
        strings = [
            t
            for t in self.player.tracks
            if t.is_string and t.channel_count == 1 and not t.is_video  # markers, not frames
        ]
        own = [
            (float(t), s[0])
            for track in strings
            for t, s in zip(track.timestamps, track.data, strict=True)
        ]
        mapped, extra = replay_markers(
            own, float(imu.timestamps[0]), src.replay_labels, src.replay_label_map
        )
        texts = iter(text for _, text in mapped)
        for track in strings:
            track.data = [[next(texts)] for _ in track.data]
        if extra:
            speed = self.player.speed
            t_first = float(imu.timestamps[0] - imu.offsets[0] * speed)
            source_id = f"labels-{imu.source_id}"
            stream = marker_stream(extra, "Labels", source_id)
            self.player.tracks.append(Track(stream, "", source_id, t_first, speed))
            last = float(self.player.tracks[-1].offsets[-1])
            self.player.duration_s = max(self.player.duration_s, last + 0.1 / speed)

    @property
    def camera_on(self) -> bool:
        return bool(self.player.camera_on)

    @property
    def frames_published(self) -> int:
        return int(self.frame_bus.published) if self.frame_bus is not None else 0

    @property
    def finished(self) -> bool:
        """The replay pushed its last sample (never with ``replay_loop``)."""
        return self.player.finished.is_set() and not self.player.running

    def start(self) -> None:
        """Open the outlets only: playback begins in :meth:`begin`, once readers are connected
        (an LSL inlet receives nothing pushed before it connected)."""
        self.player.open()

    def begin(self) -> None:
        self.player.start()

    def stop(self) -> None:
        self.player.stop()

    def set_camera(self, on: bool) -> None:
        self.player.set_camera(on)
        if not on and self.frame_bus is not None:
            self.frame_bus.clear()
        if self.markers is not None and self.markers.running:
            self.markers.push(MARKER_CAMERA_ON if on else MARKER_CAMERA_OFF)

    def start_video_file(self, path: Path) -> None:
        """A replay's frames come from its own video file; nothing new is written."""

    def stop_video_file(self) -> None:
        """See :meth:`start_video_file`."""

    def activity_at(self, t: float) -> str | None:
        return None

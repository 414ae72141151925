"""The live and demo sources of a session, built from the drivers; :func:`make_sources` is the
``sources_factory`` the app hands to :class:`comodo_live.session.controller.Controller`.

``make_sources`` covers every ``source.mode``: ``"demo"`` (the synthetic session), ``"live"``
(camera, IMU and microphone drivers) and ``"replay"`` (the core's
:class:`~comodo_live.session.replay_source.ReplaySources`). All satisfy
:class:`comodo_live.session.sources.Sources`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from comodo_live.config import AppConfig
from comodo_live.session.folder import VIDEO_NAME
from comodo_live.session.replay_source import ReplaySources
from comodo_live.session.sources import Sources, unique_prefix
from comodo_live.streams.frames import FrameBus
from comodo_live.streams.markers import MarkerOutlet

DEMO_START_DELAY_S = 3.0  # the script starts once the engine's readers and recorder are connected


class DemoSources:
    """The synthetic demo session (camera + IMU + ground-truth markers, one motion model)."""

    def __init__(self, config: AppConfig) -> None:
        from drivers.synthetic import SyntheticSession

        cfg = config
        script = [(name, cfg.demo.segment_s) for name in cfg.demo.activities]
        self.session = SyntheticSession(
            script,
            seed=cfg.demo.seed,
            imu_rate_hz=cfg.imu.rate_hz,
            fps=cfg.camera.fps_hz,
            source_id_prefix=unique_prefix("demo"),
            teacher_size=(cfg.camera.width_px, cfg.camera.height_px),
            camera_on=cfg.camera.on_at_start,
            start_delay_s=DEMO_START_DELAY_S,
            video_name=VIDEO_NAME,  # the session's video file, in desc/video_file
        )
        self.imu_source_id = self.session.imu_source_id
        self.camera_source_id: str | None = self.session.camera_source_id
        self.marker_source_ids: tuple[str, ...] = (self.session.marker_source_id,)
        self.frame_bus: FrameBus | None = self.session.camera.bus

    @property
    def camera_on(self) -> bool:
        return bool(self.session.camera.camera_on)

    @property
    def frames_published(self) -> int:
        return int(self.session.camera.frames_pushed)

    def start(self) -> None:
        self.session.start()

    def stop(self) -> None:
        self.session.stop()

    def set_camera(self, on: bool) -> None:
        self.session.set_camera(on)  # pushes camera:on/off on the session's marker stream

    def start_video_file(self, path: Path) -> None:
        self.session.start_video_file(path)

    def stop_video_file(self) -> None:
        self.session.stop_video_file()

    def activity_at(self, t: float) -> str | None:
        return self.session.activity_at(t)


def _imu_source(spec: str, rate_hz: float) -> Any:
    from drivers.imu import CsvImuSource, SerialImuSource, SyntheticImuSource, UdpImuSource

    kind, _, arg = spec.partition(":")
    if kind == "synthetic":
        return SyntheticImuSource(rate_hz=rate_hz)
    if kind == "csv" and arg:
        return CsvImuSource(arg)
    if kind == "serial" and arg:
        return SerialImuSource(arg, rate_hz=rate_hz)
    if kind == "udp" and arg.isdigit():
        return UdpImuSource(port=int(arg), rate_hz=rate_hz)
    raise ValueError(
        f"imu.source = {spec!r} is invalid; valid: 'synthetic', 'csv:PATH', 'serial:PORT', 'udp:PORT', "
        "'lsl:SOURCE_ID', 'lsl:type=IMU,name=NAME'"
    )


class LiveSources:
    """Live camera + IMU (+ microphone) drivers; ``camera:on/off`` go on the engine's marker outlet.

    ``imu.source = "lsl:SOURCE_ID"`` (or ``"lsl:type=IMU,name=NAME"``) starts no IMU driver:
    ``imu_source_id`` holds that spec and the engine resolves the stream (one already on LSL). ``audio.enabled`` adds the microphone's ``Audio`` stream
    (``audio_source_id``), shown in the stream list and recorded with the session.

    Args:
        config: camera, IMU and audio settings.
        markers: the engine's :class:`~comodo_live.streams.markers.MarkerOutlet` (recorded with the session).
    """

    def __init__(self, config: AppConfig, markers: Any) -> None:
        from drivers.camera import CameraDriver
        from drivers.imu import ImuDriver

        prefix = unique_prefix("live")
        self.imu_driver: Any = None
        kind, _, external_id = config.imu.source.partition(":")
        if kind == "lsl":
            self.imu_source_id = external_id.strip()  # an IMU already on LSL: nothing to start
        else:
            self.imu_driver = ImuDriver(
                _imu_source(config.imu.source, config.imu.rate_hz), f"{prefix}-imu"
            )
            self.imu_source_id = self.imu_driver.source_id
        self.camera: Any = None
        self.camera_source_id: str | None = None
        self.frame_bus: FrameBus | None = None
        self.marker_source_ids: tuple[str, ...] = ()
        spec = config.camera.source
        if spec:
            source: int | str = int(spec) if spec.isdigit() else spec
            self.camera = CameraDriver(
                source,
                config.camera.fps_hz,
                (config.camera.width_px, config.camera.height_px),
                f"{prefix}-camera",
                camera_on=config.camera.on_at_start,
                markers=markers,
                video_name=VIDEO_NAME,  # the session's video file, in desc/video_file
            )
            self.camera_source_id = self.camera.source_id
            self.frame_bus = self.camera.bus
        self.audio: Any = None
        self.audio_source_id: str | None = None
        if config.audio.enabled:
            from drivers.audio import AudioDriver

            dev = config.audio.device.strip()
            device: int | str | None = int(dev) if dev.isdigit() else (dev or None)
            self.audio = AudioDriver(device, config.audio.rate_hz, f"{prefix}-audio")
            self.audio_source_id = self.audio.source_id

    @property
    def camera_on(self) -> bool:
        return bool(self.camera is not None and self.camera.camera_on)

    @property
    def frames_published(self) -> int:
        return int(self.camera.frames_pushed) if self.camera is not None else 0

    def start(self) -> None:
        """Start IMU driver, camera, microphone; on failure stop what started and raise."""
        started: list[Any] = []
        try:
            for driver in (self.imu_driver, self.camera):
                if driver is not None:
                    driver.start()
                    started.append(driver)
            if self.audio is not None:
                self._start_audio()
                started.append(self.audio)
        except BaseException:
            for driver in reversed(started):
                driver.stop()
            raise

    def _start_audio(self) -> None:
        try:
            self.audio.start()
        except Exception as exc:  # PortAudio/sounddevice errors, missing libportaudio2, ...
            device = "" if self.audio.device is None else self.audio.device
            raise RuntimeError(
                f"audio.device = {str(device)!r} could not be opened for recording "
                f"({type(exc).__name__}: {exc}); list the inputs with "
                "`python -m drivers.audio --list-devices`, or set audio.enabled = false"
            ) from exc

    def stop(self) -> None:
        """Stop in reverse start order (microphone, camera, IMU driver); idempotent."""
        try:
            if self.audio is not None:
                self.audio.stop()
        finally:
            try:
                if self.camera is not None:
                    self.camera.stop()
            finally:
                if self.imu_driver is not None:
                    self.imu_driver.stop()

    def set_camera(self, on: bool) -> None:
        if self.camera is not None:
            self.camera.set_camera(on)

    def start_video_file(self, path: Path) -> None:
        if self.camera is not None:
            self.camera.start_video_file(path)

    def stop_video_file(self) -> None:
        if self.camera is not None:
            self.camera.stop_video_file()

    def activity_at(self, t: float) -> str | None:
        return None


def make_sources(config: AppConfig, markers: MarkerOutlet | None) -> Sources:
    """The sources of ``config.source.mode`` (not started)."""
    mode = config.source.mode
    if mode == "demo":
        return DemoSources(config)
    if mode == "live":
        return LiveSources(config, markers)
    if mode == "replay":
        return ReplaySources(config, markers)
    raise ValueError(f"source.mode = {mode!r} is invalid; valid values: ['live', 'demo', 'replay']")

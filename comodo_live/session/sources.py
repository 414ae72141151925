"""What the controller needs of a session's stream sources (:class:`Sources`), the engine's own
marker outlet, and the one source the core builds itself: the XDF replay.

Each source object starts the publishers (LSL outlets + the local frame bus) and exposes the
``source_id`` of each stream, so the engine resolves exactly these streams and nothing else on
the machine. The live and demo sources are built next to the drivers
(:func:`drivers.sources.make_sources`); the app passes that builder to the controller as its
``sources_factory``. The core never imports the drivers.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Protocol

from comodo_live.config import AppConfig
from comodo_live.session.replay_source import ReplaySources
from comodo_live.streams.frames import FrameBus
from comodo_live.streams.markers import MarkerOutlet


class Sources(Protocol):
    """What the controller needs of a stream source."""

    imu_source_id: str
    camera_source_id: str | None
    marker_source_ids: tuple[str, ...]
    frame_bus: FrameBus | None

    @property
    def camera_on(self) -> bool: ...

    @property
    def frames_published(self) -> int:
        """Frames put on the frame bus since start (privacy checks)."""
        ...

    def start(self) -> None:
        """Start publishing (a source may also have ``begin()``, called once the engine's
        readers are connected: the replay starts its clock there)."""
        ...

    def stop(self) -> None: ...

    def set_camera(self, on: bool) -> None:
        """Off: the camera is released; no frame is read, published or written until on."""
        ...

    def start_video_file(self, path: Path) -> None: ...

    def stop_video_file(self) -> None: ...

    def activity_at(self, t: float) -> str | None:
        """Ground-truth activity at LSL time ``t`` when the source knows it (the demo)."""
        ...


def unique_prefix(kind: str) -> str:
    return f"comodo-{kind}-{uuid.uuid4().hex[:10]}"


def make_marker_outlet() -> MarkerOutlet:
    """The engine's own marker stream (labels from the API, camera switches), started."""
    return MarkerOutlet(unique_prefix("engine-markers"), name="EngineMarkers").start()


def replay_only_sources(config: AppConfig, markers: Any) -> Sources:
    """The controller's default ``sources_factory``: the XDF replay of ``source.replay_path``.

    Raises:
        ValueError: ``source.mode`` is ``"demo"`` or ``"live"`` (their sources are drivers:
            pass ``sources_factory=drivers.sources.make_sources``, as the app does).
    """
    mode = config.source.mode
    if mode != "replay":
        raise ValueError(
            f"source.mode = {mode!r} needs the drivers; the core builds only 'replay' sources: "
            "construct the controller with sources_factory=drivers.sources.make_sources"
        )
    return ReplaySources(config, markers)

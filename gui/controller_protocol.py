"""The slice of the engine controller the window uses (structural type, no implementation).

The real implementation is :class:`comodo_live.session.controller.Controller` (``comodo_app``
hands it to :func:`gui.app.run`, where mypy checks it against this Protocol); the GUI never has to
import the engine (and torch).
Every command is called from the Qt thread and must return quickly (work runs in engine threads).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from comodo_live.session.snapshot import EngineSnapshot


class Controller(Protocol):
    """Commands and queries of the engine controller used by :class:`gui.main_window.MainWindow`."""

    @property
    def running(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def snapshot(self) -> EngineSnapshot: ...

    def set_camera(self, on: bool) -> None: ...

    def add_activity(self, name: str) -> None: ...

    def rename_activity(self, old: str, new: str) -> None: ...

    def delete_activity(self, name: str) -> None: ...

    def start_label(self, name: str) -> None: ...

    def stop_label(self) -> None: ...

    def start_recording(self) -> None: ...

    def stop_recording(self) -> None: ...

    def start_export(self, out_dir: str) -> None: ...

    def start_personalise(self, steps: int | None = None) -> None: ...

    def open_replay(self, path: str) -> None: ...

    def imu_plot_data(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Recent IMU samples: ``t`` (N,) LSL seconds and ``data`` (6, N) in m/s², rad/s."""
        ...

    def latest_preview(self) -> np.ndarray | None:
        """Newest camera frame (H, W, 3) uint8 RGB, or None (camera off / no frame yet)."""
        ...

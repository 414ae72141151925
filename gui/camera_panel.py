"""Camera panel: live preview while the camera is on, a privacy panel (and no frame) when off."""

from __future__ import annotations

from typing import cast

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage, QPixmap
from PyQt6.QtWidgets import QGroupBox, QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

PRIVACY_TEXT = "camera off — privacy mode\n\nno frame is read, shown, encoded or recorded;\nrecognition continues from the IMU"
WAITING_TEXT = "camera on — waiting for frames…"


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """Copy an (H, W, 3) uint8 RGB array into a QImage that owns its pixels.

    Raises:
        ValueError: if ``rgb`` is not (H, W, 3) uint8.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be (H, W, 3) uint8, got shape {rgb.shape} dtype {rgb.dtype}")
    rgb = np.ascontiguousarray(rgb)
    height, width, _ = rgb.shape
    # PyQt6 reads any buffer; its stub names only bytes (a cast, not a copy of the pixels)
    pixels = cast(bytes, rgb.data)
    image = QImage(pixels, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer


class CameraPanel(QGroupBox):
    """Shows the newest preview frame, or a privacy panel with no frame left on screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Camera", parent)
        self.preview = QLabel(WAITING_TEXT)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(240, 180)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setStyleSheet("background: #111; color: #ccc;")
        self.privacy = QLabel(PRIVACY_TEXT)
        self.privacy.setObjectName("privacyPanel")
        self.privacy.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.privacy.setWordWrap(True)
        self.privacy.setStyleSheet(
            "background: #2b2d42; color: #f1f1f1; font-size: 15px; font-weight: bold; border-radius: 6px;"
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.preview)
        self.stack.addWidget(self.privacy)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.camera_on = True
        self.frames_shown = 0
        self._last_frame: np.ndarray | None = None

    @property
    def showing_frame(self) -> bool:
        """True when a camera frame is on screen (never in privacy mode)."""
        return self.stack.currentWidget() is self.preview and not self.preview.pixmap().isNull()

    def update_camera(self, camera_on: bool, frame: np.ndarray | None) -> None:
        """Show ``frame`` when the camera is on; otherwise the privacy panel with the frame dropped."""
        if not camera_on:
            if self.camera_on or not self.preview.pixmap().isNull():
                self._last_frame = None
                self.preview.clear()
                self.preview.setText(WAITING_TEXT)
                self.stack.setCurrentWidget(self.privacy)
            self.camera_on = False
            return
        if not self.camera_on:
            self.stack.setCurrentWidget(self.preview)
        self.camera_on = True
        if frame is None or frame is self._last_frame:
            return
        self._last_frame = frame
        pixmap = QPixmap.fromImage(rgb_to_qimage(frame))
        size = self.preview.size()
        self.preview.setPixmap(
            pixmap.scaled(
                size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
            )
        )
        self.frames_shown += 1

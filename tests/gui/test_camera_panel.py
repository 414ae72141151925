from __future__ import annotations

import numpy as np
import pytest

from gui.camera_panel import CameraPanel, rgb_to_qimage


def _frame(value: int = 120) -> np.ndarray:
    return np.full((48, 64, 3), value, np.uint8)  # (H, W, 3)


def test_rgb_to_qimage__copies_pixels() -> None:
    rgb = _frame()
    rgb[0, 0] = (255, 0, 0)
    image = rgb_to_qimage(rgb)
    rgb[:] = 0  # the image owns its pixels
    assert (image.width(), image.height()) == (64, 48)
    assert image.pixelColor(0, 0).getRgb()[:3] == (255, 0, 0)
    assert image.pixelColor(5, 5).getRgb()[:3] == (120, 120, 120)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32)])
def test_rgb_to_qimage__rejects_bad_arrays(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="rgb must be"):
        rgb_to_qimage(bad)


def test_camera_panel__privacy_mode_drops_the_frame(qtbot) -> None:
    panel = CameraPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.update_camera(True, _frame())
    assert panel.showing_frame and panel.frames_shown == 1
    panel.update_camera(False, None)
    assert not panel.showing_frame
    assert panel.stack.currentWidget() is panel.privacy
    assert panel.preview.pixmap().isNull()  # no last frame kept behind the privacy panel
    panel.update_camera(True, None)  # back on, no frame yet: waiting text, not the old frame
    assert panel.stack.currentWidget() is panel.preview and not panel.showing_frame

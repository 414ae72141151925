from __future__ import annotations

import numpy as np
import pytest

from gui.imu_panel import ImuPanel


def test_imu_panel__plots_six_channels_relative_to_now(qtbot) -> None:
    panel = ImuPanel(window_s=10.0)
    qtbot.addWidget(panel)
    t = 1000.0 + np.arange(2000) / 200.0  # (N,) s
    data = np.vstack([np.sin(t + k) for k in range(6)]).astype(np.float32)  # (6, N)
    panel.update_imu(t, data)
    x, y = panel.curves[4].getData()
    assert x[-1] == 0.0 and x[0] == pytest.approx(-1999 / 200.0)
    np.testing.assert_allclose(y, data[4])
    assert panel.samples_shown == 2000
    assert "m/s^2" in panel.accel_plot.getPlotItem().getAxis("left").labelText + str(
        panel.accel_plot.getPlotItem().getAxis("left").labelUnits
    )
    assert panel.gyro_plot.getPlotItem().getAxis("left").labelUnits == "rad/s"


def test_imu_panel__nan_and_empty_do_not_break(qtbot) -> None:
    panel = ImuPanel()
    qtbot.addWidget(panel)
    t = np.arange(10) / 200.0
    data = np.ones((6, 10))
    data[2, 3] = np.nan
    panel.update_imu(t, data)
    panel.update_imu(np.zeros(0), np.zeros((6, 0)))
    assert panel.samples_shown == 0


def test_imu_panel__validates_shapes_and_window(qtbot) -> None:
    panel = ImuPanel()
    qtbot.addWidget(panel)
    with pytest.raises(ValueError, match=r"data must be \(6, N\)"):
        panel.update_imu(np.arange(5.0), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="window_s must be in"):
        ImuPanel(window_s=0.1)

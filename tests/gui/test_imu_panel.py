from __future__ import annotations

import numpy as np
import pytest

from gui.imu_panel import ImuPanel, stable_range


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
    assert panel.accel_plot.getPlotItem().getAxis("left").labelUnits == "m/s²"
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


def test_stable_range__keeps_range_until_data_leaves_or_shrinks() -> None:
    first = stable_range(None, -9.8, 1.0, min_span=2.0)
    assert first is not None and first[0] <= -9.8 and first[1] >= 1.0
    assert stable_range(first, -9.0, 0.5, min_span=2.0) is None  # inside: keep (no axis rebuild)
    grown = stable_range(first, -30.0, 1.0, min_span=2.0)
    assert grown is not None and grown[0] <= -30.0
    shrunk = stable_range(grown, -0.1, 0.1, min_span=2.0)  # data fills < 1/3 of the range
    assert shrunk is not None and shrunk[1] - shrunk[0] >= 2.0  # never below the minimum span
    assert stable_range(first, float("nan"), 1.0, min_span=2.0) is None


def test_imu_panel__y_range_is_stable_for_steady_noise(qtbot) -> None:
    panel = ImuPanel()
    qtbot.addWidget(panel)
    rng = np.random.default_rng(0)
    t = np.arange(1000) / 100.0
    for _ in range(50):
        panel.update_imu(t, rng.normal(0.0, 1.0, (6, 1000)))
    assert panel.range_changes <= 4  # set once per plot, not once per frame

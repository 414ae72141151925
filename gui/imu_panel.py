"""IMU panel: live accelerometer and gyroscope plots over the last ~10 s."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QGroupBox, QVBoxLayout, QWidget

from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from gui.palette import IMU_CURVE_COLORS


def _make_plot(title: str, unit: str, names: tuple[str, ...]) -> tuple[pg.PlotWidget, list]:
    plot = pg.PlotWidget(title=title)
    plot.setBackground("w")
    plot.setLabel("left", title.split()[0].lower(), units=unit)
    plot.setLabel("bottom", "time", units="s")
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setDownsampling(mode="peak")
    plot.setClipToView(True)
    plot.setMouseEnabled(x=False, y=True)
    plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
    plot.getPlotItem().getAxis("bottom").enableAutoSIPrefix(False)
    legend = plot.addLegend(offset=(5, 5), colCount=3)
    legend.setBrush(pg.mkBrush(255, 255, 255, 180))
    curves = [
        plot.plot(pen=pg.mkPen(color, width=1), name=name)
        for color, name in zip(IMU_CURVE_COLORS, names, strict=True)
    ]
    return plot, curves


class ImuPanel(QGroupBox):
    """Two plots (accel m/s², gyro rad/s), three curves each, x = seconds before the newest sample.

    Args:
        window_s: seconds of history shown.
    """

    def __init__(self, window_s: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__("IMU", parent)
        if not 0.5 <= window_s <= 120.0:
            raise ValueError(f"window_s must be in [0.5, 120] s, got {window_s}")
        self.window_s = window_s
        axes = tuple(name.split("_")[1] for name in IMU_CHANNELS)
        self.accel_plot, accel_curves = _make_plot("Accelerometer", IMU_UNITS[0], axes[:3])
        self.gyro_plot, gyro_curves = _make_plot("Gyroscope", IMU_UNITS[3], axes[3:])
        self.curves = accel_curves + gyro_curves
        for plot in (self.accel_plot, self.gyro_plot):
            plot.setXRange(-window_s, 0.0, padding=0.0)
            plot.enableAutoRange(x=False, y=True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.accel_plot)
        layout.addWidget(self.gyro_plot)
        self.samples_shown = 0

    def update_imu(self, t: np.ndarray, data: np.ndarray) -> None:
        """Plot ``data`` (6, N) against ``t`` (N,) LSL seconds, shifted so the newest sample is 0.

        Raises:
            ValueError: if the shapes do not match.
        """
        if data.ndim != 2 or data.shape[0] != len(self.curves) or data.shape[1] != t.shape[0]:
            raise ValueError(
                f"data must be ({len(self.curves)}, N) with t (N,), got {data.shape} and {t.shape}"
            )
        if t.shape[0] == 0:
            for curve in self.curves:
                curve.setData([], [])
            self.samples_shown = 0
            return
        x = t - t[-1]  # (N,) seconds before the newest sample
        all_finite = bool(np.isfinite(data).all())
        for row, curve in enumerate(self.curves):
            # A NaN from a faulty sensor shows as a gap instead of breaking the plot.
            curve.setData(x, data[row], connect="all" if all_finite else "finite")
        self.samples_shown = int(t.shape[0])

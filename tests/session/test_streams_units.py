"""The engine reads an LSL IMU stream's units at the door: converted to SI, or refused."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest

from comodo_live.records import DEG_TO_RAD, G_TO_MS2
from comodo_live.session.controller import Controller
from comodo_live.units import UnitError
from drivers.sources import make_sources

from .conftest import fast_config
from .lsl_clock import push_on_a_regular_clock

pytestmark = pytest.mark.lsl

# gyro first, in deg/s, then accel in g (as many head-worn devices publish)
DEG_S_AND_G = [(f"Gyro{a}", "deg/s") for a in "XYZ"] + [(f"Acc{a}", "g") for a in "XYZ"]


def _outlet(
    source_id: str, kind: str, described: list[tuple[str, str]] | None
) -> pylsl.StreamOutlet:
    count = len(described) if described is not None else 6
    info = pylsl.StreamInfo(f"Other{kind}", kind, count, 100.0, "float32", source_id)
    if described is not None:
        channels = info.desc().append_child("channels")
        for label, unit in described:
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", unit)
    return pylsl.StreamOutlet(info)


class _Publisher:
    """Pushes a still IMU at 100 Hz: 1 g on accel z, 57.3 deg/s (1 rad/s) about gyro x —
    as one stream (gyro first, deg/s and g) or as separate ``ACC`` (g) and ``GYRO`` (deg/s)."""

    def __init__(
        self, source_id: str, described: list[tuple[str, str]] | None, split: bool = False
    ) -> None:
        if split:
            acc = _outlet(f"{source_id}-acc", "ACC", [(a, "g") for a in "XYZ"])
            gyro = _outlet(f"{source_id}-gyro", "GYRO", [(a, "deg/s") for a in "XYZ"])
            self.pushes = [(acc, [0, 0, 1.0]), (gyro, [1.0 / DEG_TO_RAD, 0, 0])]
        else:
            sample = [1.0 / DEG_TO_RAD, 0, 0, 0, 0, 1.0]
            self.pushes = [(_outlet(source_id, "IMU", described), sample)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._push, name="test-other-imu")

    def _push(self) -> None:
        def push(stamps: np.ndarray) -> None:
            for outlet, sample in self.pushes:
                chunk = np.tile(np.float32(sample), (len(stamps), 1))
                outlet.push_chunk(chunk, stamps.tolist())

        push_on_a_regular_clock(self._stop, 100.0, push)

    def __enter__(self) -> _Publisher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.pushes.clear()


def _config(tmp_path: Path, source_id: str):  # -> AppConfig
    return fast_config(
        tmp_path,
        source__mode="live",
        imu__source=f"lsl:{source_id}",
        camera__source="",
        session__record=False,
    )


@pytest.mark.parametrize("split", [False, True], ids=["one-stream", "acc+gyro"])
def test_streams__deg_s_and_g_imu_reaches_the_engine_in_si(
    tmp_path: Path, source_id: str, split: bool
) -> None:
    imu_id = f"{source_id}-acc+{source_id}-gyro" if split else source_id
    with _Publisher(source_id, DEG_S_AND_G, split=split):
        ctl = Controller(_config(tmp_path, imu_id), sources_factory=make_sources)
        ctl.start()
        try:
            streams = ctl.streams
            assert streams is not None
            assert streams.imu_units == ("g",) * 3 + ("deg/s",) * 3
            worker = streams.windowing
            assert worker is not None
            deadline = time.monotonic() + 15.0
            while time.monotonic() < deadline and worker.windows < 2:
                time.sleep(0.05)
            _, values = streams.imu_plot_data(1.0)  # (6, n) in contract order and units
            windows = worker.windows
        finally:
            ctl.stop()
    np.testing.assert_allclose(values[:, -1], [0, 0, G_TO_MS2, 1.0, 0, 0], rtol=1e-5, atol=1e-6)
    assert windows >= 2  # the windower runs on the converted stream


def test_streams__imu_without_units_refused_naming_the_stream(
    tmp_path: Path, source_id: str
) -> None:
    with _Publisher(source_id, None):
        ctl = Controller(_config(tmp_path, source_id), sources_factory=make_sources)
        with pytest.raises(UnitError, match=rf"source_id='{source_id}'.*has no channel metadata"):
            ctl.start()
        assert not ctl.running

"""The streams panel's health light on stale streams: amber (laggy), then red (missing), with the
age of the newest data in its tooltip; the engine decides, the panel renders."""

from __future__ import annotations

import time
import types
from pathlib import Path

import numpy as np
import pylsl
import pytest

from comodo_live.config import load_config
from comodo_live.session.snapshot import StreamStatus
from comodo_live.session.streams import LAGGY_AFTER_S, MISSING_AFTER_S, EngineStreams, health_of
from comodo_live.streams.reader import StreamReader
from gui.palette import health_color
from gui.streams_panel import StreamsPanel

AMBER, RED, GREEN = health_color("laggy"), health_color("missing"), health_color("ok")


def _imu(age_s: float) -> StreamStatus:
    """The engine's status of a 50 Hz IMU whose newest data is ``age_s`` old."""
    health = health_of(age_s, 50.0, 50.0)
    return StreamStatus("IMU", "IMU", "imu-1", 50.0, 50.0, age_s, health)


def _light(panel: StreamsPanel) -> tuple[str, str, str]:
    """(colour, tooltip, "last data" text) of the first row."""
    item, last = panel.table.item(0, 0), panel.table.item(0, 5)
    assert item is not None and last is not None
    return item.foreground().color().name(), item.toolTip(), last.text()


def test_streams_panel__light_turns_amber_then_red_as_a_stream_goes_stale(qtbot) -> None:
    panel = StreamsPanel()
    qtbot.addWidget(panel)
    panel.update_streams((_imu(0.05),))
    assert _light(panel)[0] == GREEN and panel.health_of("IMU") == ["ok"]
    panel.update_streams((_imu(LAGGY_AFTER_S + 1.0),))
    colour, tip, last = _light(panel)
    assert colour == AMBER and panel.health_of("IMU") == ["laggy"]
    assert tip.startswith("laggy (newest data 2.5 s ago):") and last == "2.5 s ago"
    panel.update_streams((_imu(20.4),))
    colour, tip, last = _light(panel)
    assert colour == RED and panel.health_of("IMU") == ["missing"]
    assert tip.startswith("missing (newest data 20.4 s ago):") and last == "20.4 s ago"
    assert f"over {MISSING_AFTER_S:g} s old" in tip  # the engine's thresholds, in words


@pytest.mark.lsl
@pytest.mark.timeout(60)
def test_streams_panel__a_real_stream_of_20_s_old_samples_shows_red(
    qtbot, tmp_path: Path, source_id: str
) -> None:
    info = pylsl.StreamInfo("LateIMU", "IMU", 6, 50.0, "float32", source_id)
    outlet = pylsl.StreamOutlet(info)
    config = load_config(overrides={"session.root": str(tmp_path)})
    panel = StreamsPanel()
    qtbot.addWidget(panel)
    with StreamReader(source_id, buffer_s=10.0) as reader:
        sources = types.SimpleNamespace(camera_on=True)
        streams = EngineStreams(config, sources, tmp_path, lambda paired: None)  # type: ignore[arg-type]
        streams.readers = {"imu": reader}
        end = time.monotonic() + 1.5
        while time.monotonic() < end:  # samples arrive at the full rate, stamped 20 s ago
            outlet.push_chunk(np.zeros((5, 6), np.float32), pylsl.local_clock() - 20.0)
            time.sleep(0.1)
        panel.update_streams(streams.status(camera_on=True).streams)
    colour, tip, _ = _light(panel)
    assert colour == RED and tip.startswith("missing (newest data 2"), tip
    del outlet

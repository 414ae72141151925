from __future__ import annotations

from comodo_live.session.snapshot import StreamStatus
from gui.palette import health_color
from gui.streams_panel import StreamsPanel


def _stream(source_id: str, health: str = "ok", kind: str = "IMU", selected: bool = True):
    return StreamStatus(f"name-{source_id}", kind, source_id, 200.0, 199.0, 0.1, health, selected)


def test_streams_panel__rows_and_health_lights(qtbot) -> None:
    panel = StreamsPanel()
    qtbot.addWidget(panel)
    streams = (_stream("a"), _stream("c", "missing", "VideoFrameIndex"))
    panel.update_streams(streams)
    assert panel.table.rowCount() == 2
    assert panel.health_of("IMU") == ["ok"] and panel.health_of("VideoFrameIndex") == ["missing"]
    assert panel.table.item(1, 0).foreground().color().name() == health_color("missing")
    panel.update_streams((_stream("a", "laggy"), streams[1]))
    assert panel.health_of("IMU") == ["laggy"]


def test_streams_panel__camera_stream_off_in_privacy_mode(qtbot) -> None:
    panel = StreamsPanel()
    qtbot.addWidget(panel)
    streams = (_stream("imu"), _stream("cam", "missing", "VideoFrameIndex"))
    panel.update_streams(streams, camera_on=False)
    assert panel.health_of("VideoFrameIndex") == ["off"] and panel.health_of("IMU") == ["ok"]
    panel.update_streams(streams, camera_on=True)
    assert panel.health_of("VideoFrameIndex") == ["missing"]

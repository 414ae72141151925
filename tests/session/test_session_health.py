"""Stream health in the headless status line and metrics.jsonl; the session's own log file."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from comodo_app import cli
from comodo_live.metrics import read_metrics
from comodo_live.session import folder as session_files
from comodo_live.session.controller import Controller
from comodo_live.session.session_log import SessionLog
from comodo_live.session.snapshot import StreamStatus, stream_health_record, streams_summary
from drivers.sources import make_sources

from .conftest import fast_config, wait_for


def _status(name: str, health: str, **kw: float) -> StreamStatus:
    values = {"nominal_rate_hz": 50.0, "measured_rate_hz": 49.6, "seconds_since_data": 0.01}
    values.update(kw)
    return StreamStatus(name, "IMU", f"{name}-id", health=health, **values)  # type: ignore[arg-type]


def test_streams_summary__rates_age_nan_gaps_waiting() -> None:
    streams = (
        _status("IMU", "ok"),
        StreamStatus(
            "Cam", "VideoFrameIndex", "c", 10.0, 6.2, 2.13, "laggy", nan_samples=3, gaps=1
        ),
        StreamStatus("Lab", "Markers", "", 0.0, 0.0, math.inf, "waiting"),
    )
    assert streams_summary(streams) == (
        "IMU ok 50/50 Hz; Cam laggy 6/10 Hz 2.1 s old, 3 NaN, 1 gap; Lab waiting"
    )
    record = stream_health_record(streams[1])
    assert (record["health"], record["rate_hz"], record["age_s"]) == ("laggy", 6.2, 2.13)
    assert (record["nan_samples"], record["gaps"], record["nominal_rate_hz"]) == (3, 1, 10.0)


def test_session_log__info_to_file_console_unchanged(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.WARNING)
    try:
        with SessionLog(tmp_path / "session.log"):
            assert root.level == logging.INFO
            logging.getLogger("comodo_live.test").info("an info line")
            logging.getLogger("comodo_live.test").debug("a debug line")
        assert root.level == logging.WARNING  # restored
        logging.getLogger("comodo_live.test").warning("after the session")
    finally:
        root.setLevel(before)
    text = (tmp_path / "session.log").read_text()
    assert "an info line" in text and "a debug line" not in text
    assert "after the session" not in text
    assert (tmp_path / "session.log").stat().st_mode & 0o777 == 0o600


@pytest.mark.lsl
@pytest.mark.slow
def test_session_health__status_line_metrics_and_log(tmp_path: Path) -> None:
    config = fast_config(tmp_path, session__record=True)
    ctl = Controller(config, sources_factory=make_sources)
    ctl.start()
    try:
        assert wait_for(lambda: any(s.samples > 100 for s in ctl.snapshot().streams))
        line = cli.status_line(3.0, ctl.snapshot())
        assert " | streams: SyntheticIMU ok 50/50 Hz" in line or "SyntheticIMU laggy" in line
        assert "SyntheticCamera" in line
        assert wait_for(
            lambda: any(
                "streams" in r for r in read_metrics(ctl.session_dir / session_files.METRICS_NAME)
            )
        )
    finally:
        ctl.stop()
    assert ctl.session_dir is not None
    records = [r for r in read_metrics(ctl.session_dir / "metrics.jsonl") if "streams" in r]
    imu = [s for s in records[-1]["streams"] if s["type"] == "IMU"]
    assert len(imu) == 1 and imu[0]["nominal_rate_hz"] == 50.0
    assert 40.0 < imu[0]["rate_hz"] < 60.0 and imu[0]["samples"] > 100
    assert imu[0]["nan_samples"] == 0 and imu[0]["age_s"] < 1.5
    log = (ctl.session_dir / session_files.LOG_NAME).read_text()
    assert "session starting in" in log and "session stopped" in log
    assert "recording engine:" in log  # LabRecorder's own output, at INFO

"""EngineStreams: external marker streams (other lab software) label windows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pylsl
import pytest

from comodo_app import cli
from comodo_live.session.controller import Controller
from drivers.sources import make_sources

from .conftest import fast_config

pytestmark = pytest.mark.lsl


def _wait(condition: Any, timeout_s: float = 20.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_streams__external_marker_stream_labels_windows(tmp_path: Path, source_id: str) -> None:
    info = pylsl.StreamInfo("OtherLabMarkers", "Markers", 1, 0, "string", source_id)
    outlet = pylsl.StreamOutlet(info)
    config = fast_config(tmp_path, session__record=False, session__marker_source_ids=(source_id,))
    ctl = Controller(config, sources_factory=make_sources)
    ctl.start()
    try:
        assert any(s.source_id == source_id for s in ctl.snapshot().streams)
        outlet.push_sample(["label:start:stirring"], pylsl.local_clock())
        assert _wait(lambda: ctl.labels.labelling == "stirring")
        assert "stirring" in ctl.labels.activities  # added like a demo/replay label marker
        assert _wait(lambda: ctl.labels.counts().get("stirring", 0) >= 2)
        outlet.push_sample(["label:stop"], pylsl.local_clock())
        assert _wait(lambda: ctl.labels.labelling is None)
        outlet.push_sample(["label:start:unknown"], pylsl.local_clock())
        assert _wait(lambda: any("ignored" in e for e in ctl.snapshot().errors))
        assert ctl.running  # a bad name from another program never crashes the engine
    finally:
        ctl.stop()
        del outlet


def test_streams__markers_flag_adds_source_ids() -> None:
    args = cli.build_parser().parse_args(
        ["--set", "session.marker_source_ids=a,b", "--markers", "c", "--markers", "b"]
    )
    assert cli.config_from_args(args).session.marker_source_ids == ("a", "b", "c")

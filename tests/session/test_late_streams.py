"""Optional streams: a marker stream of other lab software that comes up late joins the running
session (labels windows, recorded), named by name/type like LabRecorder users do."""

from __future__ import annotations

import time
from pathlib import Path

import pylsl
import pytest
import pyxdf

from comodo_live.session import folder as session_files
from comodo_live.session.controller import Controller
from drivers.sources import make_sources

from .conftest import fast_config, wait_for

pytestmark = pytest.mark.lsl


@pytest.mark.slow
def test_late_streams__marker_stream_up_7s_late_joins_and_labels_windows(
    tmp_path: Path, source_id: str
) -> None:
    name = f"LateMarkers-{source_id}"
    config = fast_config(tmp_path, session__marker_source_ids=(f"type=Markers,name={name}",))
    ctl = Controller(config, sources_factory=make_sources)
    outlet = None
    ctl.start()
    try:
        started = time.monotonic()
        waiting = [s for s in ctl.snapshot().streams if s.health == "waiting"]
        assert [(s.name, s.type) for s in waiting] == [(name, "Markers")]
        assert ctl.running  # the missing optional stream did not end the run
        time.sleep(max(0.0, 7.0 - (time.monotonic() - started)))
        info = pylsl.StreamInfo(name, "Markers", 1, 0, "string", source_id)
        outlet = pylsl.StreamOutlet(info)
        assert wait_for(lambda: any(s.source_id == source_id for s in ctl.snapshot().streams))
        assert not any(s.health == "waiting" for s in ctl.snapshot().streams)
        time.sleep(5.5)  # the recording engine looks for watched streams every 5 s
        outlet.push_sample(["label:start:stirring"], pylsl.local_clock())
        assert wait_for(lambda: ctl.labels.labelling == "stirring")
        assert wait_for(lambda: ctl.labels.counts().get("stirring", 0) >= 2)
        outlet.push_sample(["label:stop"], pylsl.local_clock())
        assert wait_for(lambda: ctl.labels.labelling is None)
        assert ctl.running and not ctl.errors
    finally:
        ctl.stop()
        del outlet
    assert ctl.session_dir is not None
    streams, _ = pyxdf.load_xdf(ctl.session_dir / session_files.XDF_NAME)
    late = [s for s in streams if s["info"]["source_id"][0] == source_id]
    assert len(late) == 1  # the late stream is in the recording too
    assert [m[0] for m in late[0]["time_series"]] == ["label:start:stirring", "label:stop"]

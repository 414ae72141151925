"""Optional streams: a marker stream of other lab software that comes up late joins the running
session (labels windows, recorded), named by name/type like LabRecorder users do."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest
import pyxdf

from comodo_live.records import IMU_CHANNELS, IMU_UNITS
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


def test_late_streams__imu_by_name_and_type_in_live_mode(tmp_path: Path, source_id: str) -> None:
    name = f"OtherIMU-{source_id}"
    info = pylsl.StreamInfo(name, "IMU", 6, 100.0, "float32", source_id)
    channels = info.desc().append_child("channels")
    for label, unit in zip(IMU_CHANNELS, IMU_UNITS, strict=True):
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("unit", unit)
    outlet = pylsl.StreamOutlet(info)
    stop = threading.Event()

    def push() -> None:
        while not stop.wait(0.05):
            outlet.push_chunk(np.tile(np.float32([0, 0, 9.81, 0, 0, 0]), (5, 1)))

    pusher = threading.Thread(target=push, name="test-named-imu")
    pusher.start()
    config = fast_config(
        tmp_path,
        source__mode="live",
        imu__source=f"lsl:type=IMU,name={name}",
        camera__source="",
        session__record=False,
    )
    ctl = Controller(config, sources_factory=make_sources)
    try:
        ctl.start()
        assert [s.source_id for s in ctl.snapshot().streams if s.type == "IMU"] == [source_id]
        assert wait_for(lambda: ctl.pipeline is not None and ctl.pipeline.windows_seen > 2)
    finally:
        ctl.stop()
        stop.set()
        pusher.join()

"""The scripted demo labeller labels each scripted activity once, from the script's ground truth."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from comodo_live.session.controller import Controller
from comodo_live.session.demo_labeller import DemoLabeller
from drivers.sources import make_sources
from tests.engine_fixtures import fast_config


def test_demo_labeller__rejects_bad_durations() -> None:
    with pytest.raises(ValueError, match="label_s"):
        DemoLabeller(controller=None, label_s=0.0)


def test_demo_labeller__labels_every_scripted_activity_once(tmp_path: Path) -> None:
    config = fast_config(
        tmp_path, session__record=False, demo__activities=["walking", "sitting", "running"]
    )
    controller = Controller(config, sources_factory=make_sources)
    labeller = DemoLabeller(controller, label_s=2.0, settle_s=0.5)
    with controller, labeller:
        deadline = time.monotonic() + 40.0
        while time.monotonic() < deadline and len(labeller.labelled) < 3:
            time.sleep(0.2)
        snap = controller.snapshot()
    assert sorted(labeller.labelled) == ["running", "sitting", "walking"]
    assert set(snap.activities) == {"running", "sitting", "walking"}
    assert all(snap.labelled_windows.get(name, 0) >= 2 for name in snap.activities), (
        snap.labelled_windows
    )
    assert snap.labelling is None

"""comodo_live.session.sources: the core builds only the replay source and its own marker outlet."""

from __future__ import annotations

from pathlib import Path

import pytest

from comodo_live.session.controller import Controller
from comodo_live.session.sources import make_marker_outlet, replay_only_sources

from .conftest import fast_config


@pytest.mark.parametrize("mode", ["demo", "live"])
def test_replay_only_sources__refuses_driver_modes_naming_the_factory(
    tmp_path: Path, mode: str
) -> None:
    config = fast_config(tmp_path, source__mode=mode)
    with pytest.raises(ValueError, match=rf"source\.mode = '{mode}'.*sources_factory"):
        replay_only_sources(config, None)


def test_controller__without_factory_demo_start_fails_cleanly(tmp_path: Path) -> None:
    ctl = Controller(fast_config(tmp_path, session__record=False))
    with pytest.raises(ValueError, match=r"drivers\.sources\.make_sources"):
        ctl.start()
    assert not ctl.running and ctl.marker_outlet is None


@pytest.mark.lsl
def test_make_marker_outlet__started_engine_stream() -> None:
    outlet = make_marker_outlet()
    try:
        assert outlet.running and outlet.source_id.startswith("comodo-engine-markers-")
        assert outlet.name == "EngineMarkers"
        outlet.push("label:stop")
        assert outlet.pushed == 1
    finally:
        outlet.stop()
    assert not outlet.running

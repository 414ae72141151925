"""The controller's slow commands: one owned thread, drained and joined by stop()."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from comodo_live.session.controller import Controller

from .conftest import fast_config


def _command_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "comodo-commands" and t.is_alive()]


def test_controller__a_failed_slow_command_is_reported_and_reraised_by_stop(
    tmp_path: Path,
) -> None:
    ctl = Controller(fast_config(tmp_path, session__record=False))
    missing = tmp_path / "missing.xdf"
    ctl.open_replay(str(missing))  # returns at once; runs on the command thread
    with pytest.raises(FileNotFoundError):  # COMODO_RAISE=1: stop() re-raises it
        ctl.stop()
    assert not _command_threads()
    assert any("open-replay failed" in e and "missing.xdf" in e for e in ctl.snapshot().errors)
    assert not ctl.running
    ctl.stop()  # re-raised once only


def test_controller__stop_runs_queued_commands_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMODO_RAISE", "0")  # as a user runs it: reported, never raised
    ctl = Controller(fast_config(tmp_path, session__record=False))
    ctl.start_export(str(tmp_path / "package"))  # no session yet: the export reports a failure
    ctl.open_replay(str(tmp_path / "missing.xdf"))
    ctl.stop()
    assert not _command_threads()
    snap = ctl.snapshot()
    assert snap.export_progress is None and (snap.export_result or "").startswith("error")
    assert any("open-replay failed" in e for e in snap.errors)

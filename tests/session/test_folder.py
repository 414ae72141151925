"""Session folders: resume "latest" picks the newest good checkpoint, stale temps, cleanup."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from comodo_live.session import folder
from comodo_live.training.checkpoint import save_checkpoint


def _session(root: Path, name: str, age_s: float, payload: bytes | None = None) -> Path:
    """A session folder whose checkpoint was written ``age_s`` ago (corrupt if ``payload``)."""
    path = folder.checkpoint_path(root / name)
    path.parent.mkdir(parents=True)
    if payload is None:
        save_checkpoint(path, {"step": int(age_s)}, "session")
    else:
        path.write_bytes(payload)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_resolve_resume__latest_skips_a_corrupt_newer_checkpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    older = _session(tmp_path, "20260101-000000-a", 300)
    good = _session(tmp_path, "20260101-000100-b", 200)
    corrupt = _session(tmp_path, "20260101-000200-c", 100, b"PK\x03\x04 truncated")
    with caplog.at_level("WARNING"):
        assert folder.resolve_resume("latest", tmp_path) == good
    text = caplog.text
    assert f"skipping checkpoint {corrupt} is corrupt" in text
    assert f"resuming from {good}" in text and str(older) not in text


def test_resolve_resume__latest_with_nothing_to_resume_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no usable session checkpoint under"):
        folder.resolve_resume("latest", tmp_path / "missing")
    _session(tmp_path, "20260101-000000-a", 10, b"not a checkpoint")
    with pytest.raises(FileNotFoundError, match=r"unreadable: .*20260101-000000-a"):
        folder.resolve_resume("latest", tmp_path)


def test_resolve_resume__latest_excludes_the_new_folder(tmp_path: Path) -> None:
    good = _session(tmp_path, "old", 100)
    fresh = _session(tmp_path, "new", 1)
    assert folder.resolve_resume("latest", tmp_path, exclude=fresh.parents[1]) == good


def test_resolve_resume__removes_stale_temps_only(tmp_path: Path) -> None:
    path = _session(tmp_path, "s", 10)
    stale = path.parent / ".latest.pt.k1.tmp"
    stale.write_bytes(b"x")
    old = time.time() - 2 * folder.STALE_TEMP_S
    os.utime(stale, (old, old))
    live = path.parent / ".latest.pt.k2.tmp"  # another process may be writing it right now
    live.write_bytes(b"y")
    folder.resolve_resume("latest", tmp_path)
    assert not stale.exists() and live.exists()


def test_remove_session_dir__deletes_a_failed_start(tmp_path: Path) -> None:
    session = folder.create_session_dir(tmp_path, "x")
    (session / "metrics.jsonl").write_text("{}\n")
    folder.remove_session_dir(session)
    assert list(tmp_path.iterdir()) == []


def _modes(session: Path) -> dict[str, int]:
    return {str(p.relative_to(session)): p.stat().st_mode & 0o777 for p in session.rglob("*")}


def test_create_session_dir__private_whatever_the_umask(tmp_path: Path) -> None:
    from comodo_live.config import AppConfig

    old = os.umask(0o002)
    try:
        session = folder.create_session_dir(tmp_path, "x", AppConfig())
    finally:
        os.umask(old)
    assert session.stat().st_mode & 0o777 == 0o700
    assert _modes(session) == {"checkpoints": 0o700, "config.toml": 0o600}


def test_finish_session_dir__keep_video_data(tmp_path: Path) -> None:
    from comodo_live.learning.labels import LabelStore
    from comodo_live.learning.pipeline import Pipeline
    from comodo_live.learning.predictions import PredictionBoard
    from comodo_live.learning.state import load_state
    from tests.engine_fixtures import fast_config

    config = fast_config(tmp_path)
    sessions = {}
    for keep in folder.KEEP_VIDEO_DATA:
        session = folder.create_session_dir(tmp_path, keep)
        for name in ("video.avi", "video-2.mp4", "session.xdf", "metrics.jsonl"):
            (session / name).write_bytes(b"data")
            (session / name).chmod(0o644)
        pipeline = Pipeline(
            config, LabelStore(), PredictionBoard(), folder.checkpoint_path(session)
        )
        pipeline.replay.add(np.zeros((6, 50), np.float32), np.ones(32, np.float32))
        pipeline.save_checkpoint()
        folder.finish_session_dir(session, keep)
        sessions[keep] = session
        assert set(_modes(session).values()) <= {0o600, 0o700}, _modes(session)
    assert len(folder.video_files(sessions["all"])) == 2
    for keep in ("embeddings", "none"):
        assert folder.video_files(sessions[keep]) == []
        assert (sessions[keep] / "session.xdf").is_file()
    kept = load_state(folder.checkpoint_path(sessions["embeddings"]))
    stripped = load_state(folder.checkpoint_path(sessions["none"]))
    assert kept["replay"]["z_v"].shape[0] == 1 and stripped["replay"]["z_v"].shape[0] == 0
    with pytest.raises(ValueError, match="keep_video_data = 'some' is invalid"):
        folder.finish_session_dir(sessions["all"], "some")

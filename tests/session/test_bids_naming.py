"""Optional BIDS-style session folders (LabRecorder's template), and resume in both layouts."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from comodo_live.config import AppConfig, ConfigError, load_config
from comodo_live.session import folder
from comodo_live.training.checkpoint import save_checkpoint


def _config(**session: str) -> AppConfig:
    return load_config(overrides={f"session.{k}": v for k, v in session.items()})


def test_create_session_dir__bids_layout(tmp_path: Path) -> None:
    config = _config(participant="P001", session="S01", task="cooking", run="3")
    path = folder.create_session_dir(tmp_path, "ignored", config)
    assert path == tmp_path / "sub-P001" / "ses-S01" / "sub-P001_ses-S01_task-cooking_run-3"
    assert (path / folder.CONFIG_NAME).is_file() and (path / folder.CHECKPOINT_DIR).is_dir()
    for level in (tmp_path / "sub-P001", tmp_path / "sub-P001" / "ses-S01", path):
        assert level.stat().st_mode & 0o777 == 0o700  # private, as the dated folders
    with pytest.raises(FileExistsError, match=r"session\.run = '3'"):
        folder.create_session_dir(tmp_path, "ignored", config)  # never into an existing run


def test_create_session_dir__bids_next_free_run_task_from_name(tmp_path: Path) -> None:
    config = _config(participant="P001")
    first = folder.create_session_dir(tmp_path, "my session", config)
    second = folder.create_session_dir(tmp_path, "my session", config)
    assert first == tmp_path / "sub-P001" / "sub-P001_task-mysession_run-1"  # no ses- level
    assert second.name == "sub-P001_task-mysession_run-2"


def test_create_session_dir__default_naming_unchanged(tmp_path: Path) -> None:
    path = folder.create_session_dir(tmp_path, "demo", _config())
    assert path.parent == tmp_path and path.name.endswith("-demo")
    assert path.name[:8].isdigit()


@pytest.mark.parametrize(
    ("session", "match"),
    [
        ({"participant": "P-1"}, "letters and digits"),
        ({"participant": "P1", "run": "two"}, "number"),
        ({"task": "walk"}, "participant"),
    ],
)
def test_config__bids_labels_checked(session: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _config(**session)


def _checkpoint(session_dir: Path, age_s: float) -> Path:
    path = folder.checkpoint_path(session_dir)
    path.parent.mkdir(parents=True)
    save_checkpoint(path, {"step": int(age_s)}, "session")
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_resolve_resume__latest_finds_both_layouts(tmp_path: Path) -> None:
    dated = _checkpoint(tmp_path / "20260101-120000-demo", age_s=30)
    bids = _checkpoint(tmp_path / "sub-P1" / "ses-S1" / "sub-P1_ses-S1_task-x_run-1", age_s=20)
    assert folder.resolve_resume("latest", tmp_path) == bids
    no_ses = _checkpoint(tmp_path / "sub-P2" / "sub-P2_task-x_run-1", age_s=10)
    assert folder.resolve_resume("latest", tmp_path) == no_ses
    newest_dated = _checkpoint(tmp_path / "20260101-130000-demo", age_s=1)
    assert folder.resolve_resume("latest", tmp_path) == newest_dated
    assert folder.resolve_resume("latest", tmp_path, exclude=newest_dated.parents[1]) == no_ses
    assert dated.is_file()

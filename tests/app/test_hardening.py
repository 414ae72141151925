"""Faults and hostile input through the real CLI (subprocesses, real files): resume picks the
newest good checkpoint, a failed start leaves nothing behind, bad settings are one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pipeline import Pipeline
from comodo_live.learning.predictions import PredictionBoard
from comodo_live.session import folder

from .conftest import FAST, fast_config

ROOT = Path(__file__).resolve().parents[2]


def _run(root: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    sets = [f"--set={k}={v}" for k, v in FAST.items() if k != "source.mode"]
    command = [sys.executable, str(ROOT / "app.py"), "--headless", "--root", str(root), *sets]
    return subprocess.run(
        [*command, *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COMODO_RAISE": "0"},
    )


def _good_session(root: Path, name: str, age_s: float) -> Path:
    """A session folder with a real (step-7) checkpoint written ``age_s`` ago."""
    path = folder.checkpoint_path(root / name)
    config = fast_config(root)
    pipeline = Pipeline(config, LabelStore(activities=("walk",)), PredictionBoard(), path)
    pipeline.trainer.step = 7
    pipeline.save_checkpoint()
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def _corrupt_session(root: Path, name: str, good: Path) -> Path:
    path = folder.checkpoint_path(root / name)
    path.parent.mkdir(parents=True)
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # truncated mid-write
    return path


@pytest.mark.lsl
def test_resume_latest__skips_a_corrupt_newest_and_says_which(tmp_path: Path) -> None:
    good = _good_session(tmp_path, "20260101-000000-good", 600)
    corrupt = _corrupt_session(tmp_path, "20260101-000100-bad", good)
    result = _run(tmp_path, "--demo", "--no-record", "--resume", "latest", "--duration", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"resumed learning from {good}" in result.stdout
    assert f"skipping checkpoint {corrupt}" in result.stderr
    assert "Traceback" not in result.stderr


def test_resume_latest__nothing_to_resume_exits_2_and_leaves_no_folder(tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    root.mkdir()
    result = _run(root, "--demo", "--resume", "latest", "--duration", "2")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no usable session checkpoint under" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(root.iterdir()) == []


def test_resume_latest__failed_start_writes_no_stub_a_later_resume_would_pick(
    tmp_path: Path,
) -> None:
    good = _good_session(tmp_path, "20260101-000000-good", 600)
    _corrupt_session(tmp_path, "20260101-000100-bad", good)
    good.unlink()  # only the corrupt one is left
    before = sorted(tmp_path.iterdir())
    result = _run(tmp_path, "--demo", "--resume", "latest", "--duration", "2")
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the skip warning + the error
    assert sorted(tmp_path.iterdir()) == before  # no new (stub) session folder


@pytest.mark.lsl
def test_session_folder__private_and_keeps_no_video_data(tmp_path: Path) -> None:
    from comodo_live.learning.state import load_state

    old = os.umask(0o022)  # the usual umask: files would be world-readable
    try:
        result = _run(
            tmp_path, "--demo", "--duration", "8", "--set", "session.keep_video_data=none"
        )
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stdout + result.stderr
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    modes = {str(p.relative_to(session)): p.stat().st_mode & 0o777 for p in session.rglob("*")}
    assert session.stat().st_mode & 0o777 == 0o700
    assert {"session.xdf", "metrics.jsonl", "config.toml", "checkpoints/latest.pt"} <= set(modes)
    assert all(
        mode == (0o700 if (session / name).is_dir() else 0o600) for name, mode in modes.items()
    ), modes
    assert folder.video_files(session) == []  # the video was recorded, then removed
    state = load_state(folder.checkpoint_path(session))
    assert state["replay"]["z_v"].shape[0] == 0 and state["queue"]["count"] == 0
    assert state["video_data"] == "none"


def test_marker_labels__hostile_markers_are_refused_and_shown_escaped(tmp_path: Path) -> None:
    from comodo_live.learning.labels import MAX_ACTIVITIES
    from comodo_live.session.controller import Controller

    controller = Controller(fast_config(tmp_path))
    controller._on_marker(1.0, "label:start:" + "\x1b[2J" + "z" * 2_000_000)
    controller._on_marker(2.0, "label:start:evil\nnext line")
    for i in range(MAX_ACTIVITIES + 20):
        controller._on_marker(3.0 + i, f"label:start:act{i}")
    assert len(controller.labels.activities) == MAX_ACTIVITIES
    errors = controller.errors
    assert len(errors) == 22
    assert all(len(e) < 400 and all(c.isprintable() for c in e) for e in errors)
    assert "\\x1b[2J" in errors[0] and "\\n" in errors[1]


def _recording(tmp_path: Path) -> bytes:
    """Bytes of a real XDF recording (a short demo session recorded by the app)."""
    source = tmp_path / "source"
    result = _run(source, "--demo", "--duration", "4")
    assert result.returncode == 0, result.stderr
    (xdf,) = source.glob("*/session.xdf")
    return xdf.read_bytes()


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    good = _recording(folder)
    files = {"truncated.xdf": good[:40], "binary.toml": bytes(range(256)) * 8}
    flipped = bytearray(good)
    for i in range(100, len(flipped), len(flipped) // 25):
        flipped[i] ^= 0x5A
    files["flipped.xdf"] = bytes(flipped)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


@pytest.mark.lsl
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "window.window_s=nan"], "window.window_s = nan is not a finite number"),
        (["--set", "trainer.lr=inf"], "trainer.lr = inf is not a finite number"),
        (["--config", "binary.toml"], "is not valid TOML: not UTF-8 text"),
        (["--config", "/etc"], "config file '/etc' cannot be read: Is a directory"),
        (["--duration", "nan"], "--duration: must be a finite number of seconds >= 0"),
        (["--replay", "truncated.xdf"], "truncated.xdf is not a readable XDF recording"),
        (["--replay", "flipped.xdf"], "flipped.xdf is not a readable XDF recording"),
    ],
)
def test_bad_setting_or_file__one_line_exit_2_no_folder(
    tmp_path: Path, bad_files: dict[str, Path], args: list[str], message: str
) -> None:
    args = [str(bad_files.get(a, a)) for a in args]
    source = [] if "--replay" in args else ["--demo"]
    root = tmp_path / "recordings"
    result = _run(root, *source, "--no-record", "--duration", "3", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert not root.exists() or list(root.iterdir()) == []


@pytest.mark.lsl
@pytest.mark.parametrize("name", ["truncated.xdf", "flipped.xdf"])
def test_drivers_replay__corrupt_xdf_is_one_line_exit_2(
    bad_files: dict[str, Path], name: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "drivers.replay", str(bad_files[name])],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: {bad_files[name]} is not a readable XDF recording" in result.stderr


def test_config__newline_in_a_value_writes_valid_toml(tmp_path: Path) -> None:
    import tomllib

    from comodo_live.config import dump_toml, load_config

    config = load_config(None, {"session.name": 'two\nlines "quoted" \\ \x7f\x1b'})
    text = dump_toml(config)
    assert tomllib.loads(text)["session"]["name"] == config.session.name
    (tmp_path / "c.toml").write_text(text)
    assert load_config(tmp_path / "c.toml") == config

"""Tests of atomic, tagged checkpoints."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from comodo_live.models.queue import TeacherQueue
from comodo_live.training import checkpoint as checkpoint_module
from comodo_live.training.checkpoint import (
    FORMAT_MARKER,
    FORMAT_VERSION,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)


def _state() -> dict[str, object]:
    queue = TeacherQueue(5, 3)
    queue.enqueue(torch.randn(7, 3))
    return {
        "weights": OrderedDict(w=torch.randn(2, 3), b=torch.zeros(3)),
        "queue": queue.queue_state(),
        "config": {
            "embed_dim": 256,
            "seed": None,
            "lr": 1e-3,
            "names": ["walk", "sit"],
            "ok": True,
        },
        "step": 12,
    }


def test_save_load__round_trip(tmp_path: Path) -> None:
    state = _state()
    path = save_checkpoint(tmp_path / "sub" / "session.pt", state, kind="session")
    loaded = load_checkpoint(path, kind="session")
    assert loaded["config"] == state["config"] and loaded["step"] == 12
    torch.testing.assert_close(loaded["weights"]["w"], state["weights"]["w"])  # type: ignore[index]
    restored = TeacherQueue(5, 3)
    restored.load_queue_state(loaded["queue"])
    assert len(restored) == 5
    assert load_checkpoint(path)["step"] == 12  # any kind accepted when none is asked for


def test_save__leaves_no_temp_file_and_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, {"step": 1}, "student")
    save_checkpoint(path, {"step": 2}, "student")
    assert os.listdir(tmp_path) == ["model.pt"]
    assert load_checkpoint(path, "student")["step"] == 2


def test_save__failure_keeps_previous_file_and_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, {"step": 1}, "student")

    def failing_save(obj: object, file: object) -> None:
        file.write(b"partial bytes")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"step": 2}, "student")
    assert os.listdir(tmp_path) == ["model.pt"]
    monkeypatch.undo()
    assert load_checkpoint(path, "student")["step"] == 1


def test_save__rejects_non_plain_values_before_writing(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"state\['model'\].*Linear"):
        save_checkpoint(tmp_path / "x.pt", {"model": torch.nn.Linear(2, 2)}, "student")
    assert not (tmp_path / "x.pt").exists() and os.listdir(tmp_path) == []


def test_save__validates_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind"):
        save_checkpoint(tmp_path / "x.pt", {}, "")


def test_load__missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"nope\.pt does not exist.*kind 'session'"):
        load_checkpoint(tmp_path / "nope.pt", kind="session")


def test_load__corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.pt"
    path.write_bytes(os.urandom(1000))
    with pytest.raises(CheckpointError, match=r"garbage\.pt is corrupt"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", b"hello, not a checkpoint", b"PK\x03\x04broken zip"])
def test_load__empty_or_text_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "odd.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"odd\.pt is corrupt"):
        load_checkpoint(path)


def test_load__truncated_file(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "cut.pt", _state(), "session")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pt is corrupt, truncated"):
        load_checkpoint(path, "session")


def test_load__foreign_torch_file(tmp_path: Path) -> None:
    path = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, path)
    with pytest.raises(CheckpointError, match=r"foreign\.pt is a foreign file"):
        load_checkpoint(path)


def test_load__pickled_object_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(CheckpointError, match="not a safe torch file"):
        load_checkpoint(path)


def test_load__wrong_kind(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "s.pt", {"step": 1}, "student")
    with pytest.raises(CheckpointError, match="holds kind 'student', expected 'session'"):
        load_checkpoint(path, kind="session")


def test_load__newer_version(tmp_path: Path) -> None:
    path = tmp_path / "future.pt"
    torch.save(
        {"format": FORMAT_MARKER, "version": FORMAT_VERSION + 1, "kind": "x", "state": {}}, path
    )
    with pytest.raises(CheckpointError, match="format version"):
        load_checkpoint(path)


def test_save__disk_full_keeps_last_good_checkpoint_and_says_so(
    small_volume: Callable[[int], Path],
) -> None:
    volume = small_volume(1)
    path = volume / "checkpoints" / "latest.pt"
    save_checkpoint(path, {"step": 1, "w": torch.zeros(1000)}, "session")
    big = {"step": 2, "w": torch.zeros(300_000)}  # 1.2 MB: cannot fit next to the first
    with pytest.raises(checkpoint_module.CheckpointWriteError) as caught:
        save_checkpoint(path, big, "session")
    message = str(caught.value)
    assert message.startswith(f"no space left on {path.parent}")
    assert "enforce fail" not in message and "Errno" not in message
    assert sorted(os.listdir(path.parent)) == ["latest.pt"]  # the temp file is gone
    assert load_checkpoint(path, "session")["step"] == 1
    save_checkpoint(path, {"step": 3, "w": torch.zeros(1000)}, "session")  # room again
    assert load_checkpoint(path, "session")["step"] == 3


def test_save__other_write_errors_are_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    path = tmp_path / "latest.pt"
    save_checkpoint(path, {"step": 1}, "session")
    real_fdopen = os.fdopen

    def fdopen(fd: int, *args: object, **kwargs: object) -> object:
        os.close(fd)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(checkpoint_module.os, "fdopen", fdopen)
    with pytest.raises(checkpoint_module.CheckpointWriteError, match="cannot write to"):
        save_checkpoint(path, {"step": 2}, "session")
    monkeypatch.setattr(checkpoint_module.os, "fdopen", real_fdopen)
    assert os.listdir(tmp_path) == ["latest.pt"]
    assert load_checkpoint(path, "session")["step"] == 1


def test_save__private_file_and_stale_temps_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".latest.pt.abc123.tmp"
    stale.write_bytes(b"half a checkpoint from a killed writer")
    other = tmp_path / "notes.tmp"
    other.write_text("not ours")
    old_umask = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "latest.pt", {"step": 1}, "session")
    finally:
        os.umask(old_umask)
    assert not stale.exists() and other.exists()
    assert (path.stat().st_mode & 0o777) == 0o600


def test_clean_stale_temps__removes_only_checkpoint_temps(tmp_path: Path) -> None:
    (tmp_path / ".latest.pt.x1.tmp").write_bytes(b"1")
    (tmp_path / ".model.pt.x2.tmp").write_bytes(b"2")
    (tmp_path / "latest.pt").write_bytes(b"3")
    removed = checkpoint_module.clean_stale_temps(tmp_path)
    assert sorted(p.name for p in removed) == [".latest.pt.x1.tmp", ".model.pt.x2.tmp"]
    assert os.listdir(tmp_path) == ["latest.pt"]

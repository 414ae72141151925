"""Tests of atomic, tagged checkpoints."""

from __future__ import annotations

import os
from collections import OrderedDict
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

"""`app.py distill`: tiny end-to-end run on a tiny UTD-MHAD-shaped folder."""

from __future__ import annotations

import json

import pytest
import torch

from comodo_live.models.student import build_student
from comodo_live.training.checkpoint import load_checkpoint
from comodo_live.training.cli import main
from tests.data.tiny_utd import write_tiny_utd


def test_distill_cli__writes_checkpoint_and_probe(tmp_path, capsys) -> None:
    data = write_tiny_utd(tmp_path / "data")
    out = tmp_path / "run"
    argv = [
        "--teacher",
        "skeleton",
        "--steps",
        "3",
        "--batch-size",
        "8",
        "--seed",
        "1",
        "--data-dir",
        str(data),
    ]
    argv += [
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        str(out),
        "--threads",
        "1",
        "--no-progress",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "probe k=1: top1" in printed and "probe k=all" in printed
    state = load_checkpoint(out / "student.pt", kind="student")
    student = build_student(state["student_config"])
    student.load_state_dict(state["student_state"])
    assert student.encode(torch.zeros(2, 6, 100)).shape[0] == 2
    assert len(state["history"]["loss"]) >= 1
    probe = json.loads((out / "probe.json").read_text())
    assert set(probe) == {"1", "2", "all"} and 0.0 <= probe["1"]["top1"] <= 100.0
    assert list((tmp_path / "cache").glob("skeleton-*.npy"))


def test_distill_cli__missing_data_and_bad_steps(tmp_path) -> None:
    with pytest.raises(SystemExit, match="UTD-MHAD not found"):
        main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit, match="--steps"):
        main(["--steps", "0", "--out", str(tmp_path / "o")])

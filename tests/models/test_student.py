"""Tests of the default IMU student."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from comodo_live.models.student import ImuStudent, build_student
from comodo_live.training.checkpoint import load_checkpoint, save_checkpoint


@pytest.fixture(scope="module")
def student() -> ImuStudent:
    return ImuStudent(seed=0).eval()


@pytest.mark.parametrize("length", [1, 37, 100, 250])
def test_student__shapes_for_any_window_length(student: ImuStudent, length: int) -> None:
    x = torch.randn(3, 6, length)
    with torch.no_grad():
        assert student.encode(x).shape == (3, 256)
        z = student(x)
    assert z.shape == (3, 128)
    torch.testing.assert_close(z.norm(dim=1), torch.ones(3))


def test_student__backbone_under_one_million_parameters(student: ImuStudent) -> None:
    assert student.backbone_parameters() < 1_000_000
    head = sum(p.numel() for p in student.head.parameters())
    assert sum(p.numel() for p in student.parameters()) == student.backbone_parameters() + head


def test_student__channel_stats_applied_inside_forward() -> None:
    mean = np.array([0.0, 0.0, 9.8, 0.1, -0.1, 0.0], dtype=np.float32)
    std = np.array([2.0, 2.0, 3.0, 0.5, 0.5, 0.5], dtype=np.float32)
    with_stats = ImuStudent(seed=1).eval()
    with_stats.set_channel_stats(mean, std)
    plain = ImuStudent(seed=1).eval()
    x = torch.randn(2, 6, 100) * torch.from_numpy(std)[:, None] + torch.from_numpy(mean)[:, None]
    normalised = (x - torch.from_numpy(mean)[:, None]) / torch.from_numpy(std)[:, None]
    with torch.no_grad():
        torch.testing.assert_close(with_stats.encode(x), plain.encode(normalised))
    assert set(with_stats.state_dict()) >= {"channel_mean", "channel_std"}


@pytest.mark.parametrize(
    ("mean", "std", "match"),
    [
        ([0.0] * 5, [1.0] * 6, "mean"),
        ([0.0] * 6, [1.0] * 5 + [0.0], "std"),
        ([np.nan] * 6, [1.0] * 6, "mean"),
    ],
)
def test_set_channel_stats__validates(mean: list[float], std: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ImuStudent(seed=0).set_channel_stats(np.array(mean), np.array(std))


def test_student__seeded_construction_is_deterministic() -> None:
    a, b = ImuStudent(seed=2), ImuStudent(seed=2)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert not torch.equal(ImuStudent(seed=3).stem[0].weight, a.stem[0].weight)


def test_build_student__round_trip_through_checkpoint(tmp_path: Path) -> None:
    student = ImuStudent(embed_dim=64, width=16, proj_hidden=64, proj_dim=32, seed=4)
    student.set_channel_stats(np.arange(6), np.arange(1, 7))
    path = save_checkpoint(
        tmp_path / "s.pt", {"config": student.config, "state": student.state_dict()}, "student"
    )
    loaded = load_checkpoint(path, "student")
    restored = build_student(loaded["config"])
    restored.load_state_dict(loaded["state"])
    assert ImuStudent.from_config(loaded["config"]).config == student.config
    x = torch.randn(2, 6, 100)
    student.eval()
    restored.eval()
    with torch.no_grad():
        torch.testing.assert_close(restored(x), student(x), rtol=0, atol=0)


def test_build_student__rejects_unknown_type() -> None:
    with pytest.raises(ValueError, match="type"):
        build_student({"type": "lstm"})


def test_student__rejects_wrong_channel_count(student: ImuStudent) -> None:
    with pytest.raises(ValueError, match=r"\(B, 6, N\)"):
        student(torch.randn(2, 3, 100))


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"kernel_size": 4}, "kernel_size"), ({"width": 0}, "width")]
)
def test_student__validates_arguments(kwargs: dict[str, int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ImuStudent(**kwargs)  # type: ignore[arg-type]


def test_student__encode_has_no_head_dependency(student: ImuStudent) -> None:
    x = torch.randn(2, 6, 100)
    with torch.no_grad():
        before = student.encode(x)
        student.head.net[0].weight.add_(1.0)
        after = student.encode(x)
        student.head.net[0].weight.sub_(1.0)
    torch.testing.assert_close(before, after)

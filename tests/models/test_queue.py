"""Tests of the FIFO teacher queue."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from comodo_live.models.queue import TeacherQueue


def _batches(sizes: list[int], dim: int = 8, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(size, dim, generator=generator) for size in sizes]


@pytest.mark.parametrize("batch", [1, 3, 4, 7, 10, 25])
def test_enqueue__fifo_order_with_wraparound(batch: int) -> None:
    queue = TeacherQueue(size=7, dim=8)
    seen: list[torch.Tensor] = []
    for z in _batches([batch] * 6):
        queue.enqueue(z)
        seen.append(F.normalize(z, dim=1))
        expected = torch.cat(seen)[-7:]  # oldest first, newest last
        torch.testing.assert_close(queue.entries(), expected)
        assert len(queue) == min(7, sum(len(s) for s in seen))


def test_enqueue__mixed_batch_sizes() -> None:
    queue = TeacherQueue(size=10, dim=8)
    seen = []
    for z in _batches([3, 4, 9, 1, 12, 2, 5]):
        queue.enqueue(z)
        seen.append(F.normalize(z, dim=1))
        filled = torch.cat(seen)
        torch.testing.assert_close(queue.entries(), filled[-10:])


def test_enqueue__partial_fill_and_fill_fraction() -> None:
    queue = TeacherQueue(size=8, dim=4)
    assert queue.entries().shape == (0, 4)
    assert queue.fill == 0.0 and not queue.is_full
    queue.enqueue(torch.randn(3, 4))
    assert queue.entries().shape == (3, 4)
    assert queue.fill == pytest.approx(3 / 8)
    queue.enqueue(torch.randn(6, 4))
    assert queue.fill == 1.0 and queue.is_full


def test_enqueue__stores_unit_norm_without_grad() -> None:
    queue = TeacherQueue(size=4, dim=3)
    z = torch.randn(2, 3, requires_grad=True) * 5
    queue.enqueue(z)
    entries = queue.entries()
    assert not entries.requires_grad
    torch.testing.assert_close(entries.norm(dim=1), torch.ones(2))


def test_enqueue__rejects_wrong_dim() -> None:
    queue = TeacherQueue(size=4, dim=3)
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        queue.enqueue(torch.randn(2, 5))


@pytest.mark.parametrize(("size", "dim"), [(0, 4), (-1, 4), (4, 0), (2.5, 4)])
def test_init__validates_size_and_dim(size: float, dim: int) -> None:
    with pytest.raises(ValueError, match=r"size|dim"):
        TeacherQueue(size=size, dim=dim)  # type: ignore[arg-type]


def test_state_dict__excludes_buffer_unless_persistent() -> None:
    assert TeacherQueue(4, 3).state_dict() == {}
    keys = set(TeacherQueue(4, 3, persistent=True).state_dict())
    assert keys == {"buffer", "pointer", "count"}


def test_queue_state__round_trip_preserves_order() -> None:
    queue = TeacherQueue(size=5, dim=4)
    for z in _batches([3, 4], dim=4):
        queue.enqueue(z)
    restored = TeacherQueue(size=5, dim=4)
    restored.load_queue_state(queue.queue_state())
    torch.testing.assert_close(restored.entries(), queue.entries())
    z = torch.randn(2, 4)
    queue.enqueue(z)
    restored.enqueue(z)
    torch.testing.assert_close(restored.entries(), queue.entries())


def test_load_queue_state__rejects_other_size() -> None:
    state = TeacherQueue(size=5, dim=4).queue_state()
    with pytest.raises(ValueError, match="size=5"):
        TeacherQueue(size=6, dim=4).load_queue_state(state)


def test_reset__empties() -> None:
    queue = TeacherQueue(size=5, dim=4)
    queue.enqueue(torch.randn(7, 4))
    queue.reset()
    assert len(queue) == 0 and queue.entries().shape == (0, 4)

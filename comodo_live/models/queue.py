"""FIFO queue of L2-normalised teacher embeddings (the COMODO memory bank)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TeacherQueue(nn.Module):
    """A first-in-first-out bank of the most recent ``size`` teacher embeddings.

    Entries are stored L2-normalised. The bank wraps around for any batch size (no divisibility
    requirement); a batch larger than the queue keeps its newest ``size`` rows. The buffers stay
    out of ``state_dict()`` unless ``persistent=True``; checkpoints that need the queue use
    :meth:`queue_state` / :meth:`load_queue_state` explicitly.

    Args:
        size: number of entries K (>= 1).
        dim: embedding dimension D (>= 1).
        persistent: include the buffers in ``state_dict()``.

    Shape:
        - enqueue input: (B, D)
        - :meth:`entries` output: (K_filled, D), oldest first.
    """

    buffer: torch.Tensor
    pointer: torch.Tensor
    count: torch.Tensor

    def __init__(self, size: int = 4096, dim: int = 128, persistent: bool = False) -> None:
        super().__init__()
        if int(size) != size or size < 1:
            raise ValueError(f"size must be an integer >= 1, got {size!r}")
        if int(dim) != dim or dim < 1:
            raise ValueError(f"dim must be an integer >= 1, got {dim!r}")
        self.size = int(size)
        self.dim = int(dim)
        self.register_buffer(
            "buffer", torch.zeros(self.size, self.dim), persistent=persistent
        )  # (K, D)
        self.register_buffer("pointer", torch.zeros((), dtype=torch.long), persistent=persistent)
        self.register_buffer("count", torch.zeros((), dtype=torch.long), persistent=persistent)

    def __len__(self) -> int:
        return int(self.count.item())

    @property
    def fill(self) -> float:
        """Fraction of the queue holding real entries, in [0, 1]."""
        return len(self) / self.size

    @property
    def is_full(self) -> bool:
        return len(self) == self.size

    @torch.no_grad()
    def enqueue(self, z: torch.Tensor) -> None:
        """Append a batch of embeddings (normalised here; gradients are never kept).

        Args:
            z: (B, D) embeddings; B may be anything, including larger than the queue.
        """
        if z.dim() != 2 or z.shape[1] != self.dim:
            raise ValueError(f"z must have shape (B, {self.dim}), got {tuple(z.shape)}")
        batch = z.shape[0]
        if batch == 0:
            return
        z = F.normalize(z.detach().to(self.buffer), dim=1)  # (B, D)
        if batch >= self.size:
            self.buffer.copy_(z[-self.size :])  # oldest of the kept rows first
            self.pointer.fill_(0)
            self.count.fill_(self.size)
            return
        start = int(self.pointer.item())
        index = (start + torch.arange(batch, device=self.buffer.device)) % self.size  # (B,)
        self.buffer[index] = z
        self.pointer.fill_((start + batch) % self.size)
        self.count.fill_(min(len(self) + batch, self.size))

    def entries(self) -> torch.Tensor:
        """The filled part of the queue in FIFO order (oldest first), shape (K_filled, D)."""
        filled = len(self)
        if filled < self.size:
            return self.buffer[:filled]  # never wrapped yet: slots 0..filled-1 in order
        start = int(self.pointer.item())  # the oldest entry sits where the next write goes
        return torch.cat([self.buffer[start:], self.buffer[:start]], dim=0)  # (K, D)

    @torch.no_grad()
    def reset(self) -> None:
        """Empty the queue."""
        self.buffer.zero_()
        self.pointer.zero_()
        self.count.zero_()

    def queue_state(self) -> dict[str, torch.Tensor | int]:
        """Plain-tensor snapshot for checkpoints (``torch.load(weights_only=True)`` safe)."""
        return {
            "size": self.size,
            "dim": self.dim,
            "buffer": self.buffer.detach().cpu().clone(),
            "pointer": int(self.pointer.item()),
            "count": len(self),
        }

    @torch.no_grad()
    def load_queue_state(self, state: dict[str, torch.Tensor | int]) -> None:
        """Restore a snapshot written by :meth:`queue_state` (sizes must match)."""
        missing = {"size", "dim", "buffer", "pointer", "count"} - set(state)
        if missing:
            raise ValueError(f"queue state lacks keys {sorted(missing)}")
        if state["size"] != self.size or state["dim"] != self.dim:
            raise ValueError(
                f"queue state is for size={state['size']}, dim={state['dim']}; "
                f"this queue has size={self.size}, dim={self.dim}"
            )
        buffer = state["buffer"]
        if not isinstance(buffer, torch.Tensor) or tuple(buffer.shape) != (self.size, self.dim):
            raise ValueError(f"queue state buffer must be a ({self.size}, {self.dim}) tensor")
        pointer, count = int(state["pointer"]), int(state["count"])
        if not (0 <= pointer < self.size and 0 <= count <= self.size):
            raise ValueError(f"queue state pointer={pointer} / count={count} out of range")
        self.buffer.copy_(buffer.to(self.buffer))
        self.pointer.fill_(pointer)
        self.count.fill_(count)

    def extra_repr(self) -> str:
        return f"size={self.size}, dim={self.dim}, filled={len(self)}"

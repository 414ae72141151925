"""The COMODO distillation loss (queue-based soft-target cross-entropy)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from comodo_live.models.queue import TeacherQueue

DEFAULT_TAU_T = 0.1
DEFAULT_TAU_S = 0.05


def _check_temperature(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def comodo_loss(
    z_x: torch.Tensor,
    z_v: torch.Tensor,
    queue_entries: torch.Tensor,
    tau_t: float = DEFAULT_TAU_T,
    tau_s: float = DEFAULT_TAU_S,
) -> torch.Tensor:
    """COMODO loss: the student matches the teacher's similarity distribution over a bank.

    The bank is ``[queue_entries; z_v]`` (queue first, then this batch's teacher embeddings).
    The target ``softmax(z_v · bankᵀ / tau_t)`` carries no gradient; the student's
    ``log_softmax(z_x · bankᵀ / tau_s)`` does. The result is the cross-entropy averaged over the
    batch. Inputs are expected L2-normalised (the student and the teacher projection do it);
    the loss does not renormalise them.

    Args:
        z_x: (B, D) student embeddings.
        z_v: (B, D) teacher embeddings (detached here).
        queue_entries: (K, D) queued teacher embeddings; K may be 0.
        tau_t: teacher temperature (> 0).
        tau_s: student temperature (> 0).

    Returns:
        Scalar loss tensor.

    Shape:
        z_x, z_v: (B, D); queue_entries: (K, D); output: ().
    """
    _check_temperature("tau_t", tau_t)
    _check_temperature("tau_s", tau_s)
    if z_x.dim() != 2 or z_x.shape != z_v.shape:
        raise ValueError(
            f"z_x and z_v must both be (B, D); got {tuple(z_x.shape)} and {tuple(z_v.shape)}"
        )
    if z_x.shape[0] == 0:
        raise ValueError("z_x must hold at least one row")
    if queue_entries.dim() != 2 or queue_entries.shape[1] != z_x.shape[1]:
        raise ValueError(
            f"queue_entries must be (K, {z_x.shape[1]}), got {tuple(queue_entries.shape)}"
        )
    z_v = z_v.detach()
    bank = torch.cat([queue_entries.detach().to(z_v), z_v], dim=0)  # (K + B, D)
    with torch.no_grad():
        target = F.softmax(z_v @ bank.T / tau_t, dim=1)  # (B, K + B)
    log_student = F.log_softmax(z_x @ bank.T.to(z_x) / tau_s, dim=1)  # (B, K + B)
    return -(target.to(log_student) * log_student).sum(dim=1).mean()


class ComodoLoss(nn.Module):
    """COMODO loss bundled with its teacher queue.

    ``forward`` computes the loss against the current queue and does **not** change it. The
    trainer calls :meth:`enqueue` with the same ``z_v`` after ``optimizer.step()``, as in the
    paper (FIFO update after each step)::

        loss = criterion(student(x), z_v)
        loss.backward(); optimizer.step()
        criterion.enqueue(z_v)

    Args:
        queue_size: number of queued teacher embeddings.
        dim: embedding dimension.
        tau_t: teacher temperature.
        tau_s: student temperature.
        persistent_queue: keep the queue in ``state_dict()`` (see :class:`TeacherQueue`).
    """

    def __init__(
        self,
        queue_size: int = 4096,
        dim: int = 128,
        tau_t: float = DEFAULT_TAU_T,
        tau_s: float = DEFAULT_TAU_S,
        persistent_queue: bool = False,
    ) -> None:
        super().__init__()
        _check_temperature("tau_t", tau_t)
        _check_temperature("tau_s", tau_s)
        self.tau_t = float(tau_t)
        self.tau_s = float(tau_s)
        self.queue = TeacherQueue(queue_size, dim, persistent=persistent_queue)

    def forward(self, z_x: torch.Tensor, z_v: torch.Tensor) -> torch.Tensor:
        """Loss of (B, D) student embeddings against (B, D) teacher embeddings and the queue."""
        return comodo_loss(z_x, z_v, self.queue.entries(), self.tau_t, self.tau_s)

    @torch.no_grad()
    def enqueue(self, z_v: torch.Tensor) -> None:
        """FIFO-append this step's (B, D) teacher embeddings; call after ``optimizer.step()``."""
        self.queue.enqueue(z_v)

    def extra_repr(self) -> str:
        return f"tau_t={self.tau_t}, tau_s={self.tau_s}"

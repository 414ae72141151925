"""Cheap per-step diagnostics of the teacher embedding space (shown live in the GUI).

Both are cheap enough for every step with a 4096-entry queue, without subsampling:
:func:`target_entropy` costs one (B, K + B) similarity matrix (~34 M multiply-adds for
B = 64, K = 4096, D = 128 — the same product the loss computes), and
:func:`mean_pairwise_cosine` is exact in O(K·D) via ``‖Σz‖² = K + Σ_{i≠j} cos(z_i, z_j)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from comodo_live.models.loss import DEFAULT_TAU_T


@torch.no_grad()
def target_entropy(z_v: torch.Tensor, queue: torch.Tensor, tau_t: float = DEFAULT_TAU_T) -> float:
    """Mean entropy of COMODO's soft targets as a fraction of its maximum, in [0, 1].

    The targets are ``softmax(z_v · bankᵀ / tau_t)`` over the loss's bank ``[queue; z_v]``
    (K + B entries), so the maximum is ``log(K + B)``. Near 1: targets almost uniform, the
    teacher tells the student little (e.g. uncentred EfficientNet features, ~0.99).

    Args:
        z_v: (B, D) teacher embeddings.
        queue: (K, D) queued teacher embeddings (K may be 0).
        tau_t: teacher temperature (> 0).
    """
    if not tau_t > 0:
        raise ValueError(f"tau_t must be > 0, got {tau_t!r}")
    if z_v.dim() != 2 or queue.dim() != 2 or queue.shape[1] != z_v.shape[1]:
        raise ValueError(
            f"need z_v (B, D) and queue (K, D); got {tuple(z_v.shape)}, {tuple(queue.shape)}"
        )
    bank = torch.cat([queue.to(z_v), z_v], dim=0)  # (K + B, D)
    if bank.shape[0] < 2 or z_v.shape[0] == 0:
        return 0.0
    log_p = F.log_softmax(z_v @ bank.T / tau_t, dim=1)  # (B, K + B)
    entropy = -(log_p.exp() * log_p).sum(dim=1).mean()
    return float(entropy / math.log(bank.shape[0]))


@torch.no_grad()
def mean_pairwise_cosine(entries: torch.Tensor) -> float:
    """Mean cosine similarity over all pairs i ≠ j of (K, D) embeddings (exact, O(K·D)).

    Near 1: all embeddings parallel (a collapsed teacher space); near 0: spread out. Returns
    NaN for fewer than two entries.
    """
    if entries.dim() != 2:
        raise ValueError(f"entries must be (K, D), got {tuple(entries.shape)}")
    count = entries.shape[0]
    if count < 2:
        return float("nan")
    unit = F.normalize(entries.double(), dim=1)  # (K, D)
    total = unit.sum(dim=0)  # (D,)
    return float((total @ total - count) / (count * (count - 1)))

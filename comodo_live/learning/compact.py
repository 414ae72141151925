"""Smaller, private session checkpoints: what is stored compactly, once, or not at all.

A session checkpoint used to be ~28 MB for a 0.5 M-parameter student (default config). Where
the bytes went, and what is stored now:

- the frozen teacher projection's weights (~11.5 MB): rebuilt from its seed on resume; the
  checkpoint keeps only the config and a SHA-256 of the weights, checked on resume so that a
  torch version that initialises differently is refused instead of silently mixing spaces;
- the projection's feature mean / variance (raw teacher-feature averages, F values each):
  **not stored** — the mean of a session's teacher features recovers what the camera saw. On
  resume the statistics are re-estimated from the first clips (``teacher.stats_warmup_clips``);
- replay pairs (IMU windows, teacher embeddings) and the teacher queue: float16 (relative error
  ~5e-4, below IMU sensor noise; embeddings are unit vectors); only the filled part of the queue;
- AdamW moments: bfloat16 (same range as float32; the moments are running averages);
- the labelled windows are stored once (``labels.windows``), not also flattened.

The student, its EMA and the labelled windows stay float32.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch

PROJECTION_WEIGHTS_PREFIX = "mlp."


def projection_digest(projection_state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the frozen projection's weights (not its feature statistics)."""
    digest = hashlib.sha256()
    for key in sorted(projection_state):
        if key.startswith(PROJECTION_WEIGHTS_PREFIX):
            tensor = projection_state[key].detach().cpu().contiguous()
            digest.update(key.encode())
            digest.update(str(tensor.dtype).encode())
            digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def compact_trainer_state(state: dict[str, Any]) -> dict[str, Any]:
    """Return ``state`` (from ``TrainerWorker.state``) with replay/queue/moments narrowed."""
    out = dict(state)
    replay = state.get("replay")
    if isinstance(replay, dict):
        out["replay"] = {k: _narrow(v, torch.float16) for k, v in replay.items()}
    queue = state.get("queue")
    if isinstance(queue, dict) and isinstance(queue.get("buffer"), torch.Tensor):
        buffer = queue["buffer"]  # (K, D)
        count, pointer = int(queue["count"]), int(queue["pointer"])
        if count < buffer.shape[0] and pointer == count:  # not yet wrapped: rows [0, count)
            buffer = buffer[:count]
        out["queue"] = {**queue, "buffer": _narrow(buffer.clone(), torch.float16)}
    optimizer = state.get("optimizer")
    if isinstance(optimizer, dict) and isinstance(optimizer.get("state"), dict):
        out["optimizer"] = {
            **optimizer,
            "state": {
                index: {k: _narrow(v, torch.bfloat16, min_dim=1) for k, v in moments.items()}
                for index, moments in optimizer["state"].items()
            },
        }
    return out


def expand_trainer_state(state: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`compact_trainer_state` (float32 again; the queue padded to size)."""
    out = dict(state)
    replay = state.get("replay")
    if isinstance(replay, dict):
        out["replay"] = {k: _widen(v) for k, v in replay.items()}
    queue = state.get("queue")
    if isinstance(queue, dict) and isinstance(queue.get("buffer"), torch.Tensor):
        buffer = _widen(queue["buffer"])  # (count or K, D)
        size, dim = int(queue["size"]), int(queue["dim"])
        if buffer.ndim == 2 and buffer.shape[0] < size and buffer.shape[1] == dim:
            padded = torch.zeros(size, dim)  # (K, D)
            padded[: buffer.shape[0]] = buffer
            buffer = padded
        out["queue"] = {**queue, "buffer": buffer}
    optimizer = state.get("optimizer")
    if isinstance(optimizer, dict) and isinstance(optimizer.get("state"), dict):
        out["optimizer"] = {
            **optimizer,
            "state": {
                index: {k: _widen(v) for k, v in moments.items()}
                for index, moments in optimizer["state"].items()
            },
        }
    return out


def strip_video_data(state: dict[str, Any]) -> dict[str, Any]:
    """Drop every teacher-derived value: replay pairs, the teacher queue, labelled windows'
    teacher embeddings (``session.keep_video_data = "none"``). The student, its EMA, the
    classifier and the labelled IMU windows stay: the session resumes without its replay."""
    out = dict(state)
    replay = state.get("replay")
    if isinstance(replay, dict):
        out["replay"] = {  # (0, ...) each; counters stay
            k: v[:0].clone() if isinstance(v, torch.Tensor) else v for k, v in replay.items()
        }
    queue = state.get("queue")
    if isinstance(queue, dict):
        dim = int(queue["dim"])
        out["queue"] = {**queue, "buffer": torch.zeros(0, dim), "pointer": 0, "count": 0}
    labels = state.get("labels")
    if isinstance(labels, dict):
        out["labels"] = {**labels, "teacher": {}}
    out["video_data"] = "none"
    return out


def _narrow(value: Any, dtype: torch.dtype, min_dim: int = 0) -> Any:
    if isinstance(value, torch.Tensor) and value.dtype == torch.float32 and value.ndim >= min_dim:
        return value.to(dtype)
    return value


def _widen(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.dtype in (torch.float16, torch.bfloat16):
        return value.float()
    return value

"""The session checkpoint: everything needed to resume learning, and to export the model.

One atomic file (``checkpoints/latest.pt``, :mod:`comodo_live.training.checkpoint`, kind
``"session"``, loads with ``weights_only=True``) holding, at the top level:

- trainer state: ``step``, ``skipped_steps``, ``rollbacks``, ``train_seconds``,
  ``student_config``, ``student``, ``ema_student`` (state dicts, IMU channel normalisation in
  their ``channel_mean`` / ``channel_std`` buffers), ``queue``, ``optimizer``, ``replay``,
  ``imu_stats`` — replay, queue and optimiser moments narrowed (:mod:`.compact`);
- ``teacher`` (name), ``teacher_config``, ``teacher_projection`` {``config``, ``sha256``} — the
  frozen projection is rebuilt from its seed and checked against the digest; its feature
  statistics (a raw teacher-feature average) are never stored;
- ``labels`` {``activities``, ``windows`` {name: (M, C, N)}, ``teacher`` {name: (M, D)}},
  ``labelled_counts``;
- ``classifier``: the predictor's head (:meth:`comodo_live.head.HeadSpec.to_dict`, plain lists)
  with the config's ``unknown_threshold`` and ``smoothing_alpha``, or None before any label;
- ``preprocessing`` (channels, units, rate_hz, window_s, window_samples, hop_s), ``config`` (the
  whole AppConfig as a dict) and model-card facts (``queue_size``, ``agreement``,
  ``labelled_accuracy``);
- ``personalisation``: None, or the last fine-tune of the student on the labelled windows
  (:mod:`comodo_live.learning.personalise`: steps, activities, windows, trainer step, labelled
  accuracy before/after, time). Its weights are already in ``student`` / ``ema_student``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from comodo_live.config import AppConfig, as_dict
from comodo_live.head import HeadSpec, unknown_threshold
from comodo_live.learning import compact
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.teacher import TeacherWorker
from comodo_live.learning.trainer import TrainerWorker
from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from comodo_live.training.checkpoint import load_checkpoint, save_checkpoint

KIND = "session"


def to_plain(value: Any) -> Any:
    """numpy arrays → tensors, numpy scalars → Python, recursively (weights_only-safe)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def labels_state(labels: LabelStore) -> dict[str, Any]:
    raw = labels.state()
    windows: dict[str, list[np.ndarray]] = raw["windows"]  # type: ignore[assignment]
    teacher: dict[str, list[np.ndarray]] = raw["teacher"]  # type: ignore[assignment]
    return {
        "activities": list(raw["activities"]),  # type: ignore[call-overload]
        "windows": {n: torch.from_numpy(np.stack(w)) for n, w in windows.items() if w},
        "teacher": {n: torch.from_numpy(np.stack(z)) for n, z in teacher.items() if z},
    }


def build_state(
    config: AppConfig,
    trainer: TrainerWorker,
    teacher: TeacherWorker,
    labels: LabelStore,
    head: HeadSpec | None,
    agreement: float = math.nan,
    labelled_accuracy: float | None = None,
    personalisation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Compose the session checkpoint payload (see the module doc)."""
    state = compact.compact_trainer_state(trainer.state())
    classifier = None
    if head is not None:
        classifier = replace(
            head,
            unknown_threshold=unknown_threshold(  # the rule for this head's K, as exported
                len(head.activities),
                config.predictor.confidence_threshold,
                config.predictor.unknown_margin,
            ),
            smoothing_alpha=config.predictor.smoothing_alpha,
        ).to_dict()
    state.update(
        {
            "teacher": config.teacher.name,
            "teacher_config": dict(teacher.teacher.config),
            "teacher_projection": {
                "config": teacher.projection.config,
                "sha256": compact.projection_digest(teacher.projection_state()),
            },
            "labels": labels_state(labels),
            "labelled_counts": labels.counts(),
            "classifier": classifier,
            "preprocessing": {
                "channels": list(IMU_CHANNELS),
                "units": list(IMU_UNITS),
                "rate_hz": config.window.rate_hz,
                "window_s": config.window.window_s,
                "window_samples": config.window.samples,
                "hop_s": config.window.hop_s,
            },
            "config": as_dict(config),
            "queue_size": config.trainer.queue_size,
            "agreement": None if math.isnan(agreement) else float(agreement),
            "labelled_accuracy": labelled_accuracy,
            "personalisation": personalisation,
        }
    )
    return to_plain(state)


def save_state(path: str | Path, state: dict[str, Any]) -> Path:
    """Write atomically (temp file + rename)."""
    return save_checkpoint(path, state, KIND)


def load_state(path: str | Path) -> dict[str, Any]:
    """Load a session checkpoint (``weights_only``); CheckpointError if foreign/corrupt."""
    return load_checkpoint(path, KIND)


def restore(
    state: dict[str, Any], trainer: TrainerWorker, teacher: TeacherWorker, labels: LabelStore
) -> None:
    """Load a checkpoint into freshly built workers (before they start).

    Raises:
        ValueError: the checkpoint was made with a different student or teacher projection.
    """
    if state["student_config"] != trainer.student.config:
        raise ValueError(
            f"checkpoint student {state['student_config']} differs from the configured "
            f"student {trainer.student.config}; resume with the session's own config"
        )
    samples = int(state["preprocessing"]["window_samples"])
    if samples != trainer.replay.shape[1]:
        raise ValueError(
            f"checkpoint windows have {samples} samples; the configured window has "
            f"{trainer.replay.shape[1]}; resume with the session's own window settings"
        )
    projection = state["teacher_projection"]
    if projection["config"] != teacher.projection.config:
        raise ValueError(
            f"checkpoint teacher projection {projection['config']} differs from the configured "
            f"one {teacher.projection.config}; resume with the session's own config"
        )
    if "state" in projection:  # older checkpoints: weights and feature statistics stored
        trainer.load_state(compact.expand_trainer_state(state))
        teacher.load_projection_state(projection["state"])
    else:
        digest = compact.projection_digest(teacher.projection_state())
        if projection.get("sha256") != digest:
            raise ValueError(
                "the teacher projection rebuilt from its seed differs from the checkpoint's "
                f"(sha256 {digest[:12]} vs {str(projection.get('sha256'))[:12]}; another torch "
                "version?); resume with the torch version that wrote it"
            )
        trainer.load_state(compact.expand_trainer_state(state))
    saved = state["labels"]
    labels.load_state(
        {
            "activities": saved["activities"],
            "windows": {n: list(w.numpy()) for n, w in saved["windows"].items()},
            "teacher": {n: list(z.numpy()) for n, z in saved["teacher"].items()},
        }
    )

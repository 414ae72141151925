"""Export a live-engine session folder: its newest checkpoint → a model package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from comodo_live.export.card import CardInfo
from comodo_live.head import HeadError, HeadSpec, fit_head

CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_NAMES = ("latest.pt", "session.pt")
CHECKPOINT_KIND = "session"
_NESTED = ("trainer", "labels", "predictor", "stats")


class SessionExportError(RuntimeError):
    """A session that cannot be exported (no checkpoint, no student, no labelled activity)."""


@dataclass(frozen=True, eq=False)
class SessionModel:
    """What a session checkpoint holds for export.

    Attributes:
        student: EMA student, eval mode.
        head: the predictor's classifier.
        preprocessing: rate_hz, window_samples, hop_s.
        card: model-card facts.
        windows: (M, C, N) labelled (or recorded) raw windows, or None.
        labels: M activity names of ``windows`` (labelled only), or None.
        windows_source: ``"labelled"`` / ``"recorded"``.
    """

    student: nn.Module
    head: HeadSpec
    preprocessing: dict[str, Any]
    card: CardInfo
    windows: np.ndarray | None
    labels: list[str] | None
    windows_source: str


def find_checkpoint(session_dir: Path) -> Path:
    """``checkpoints/latest.pt`` (the engine's), else the newest ``checkpoints/*.pt``."""
    folder = session_dir / CHECKPOINT_DIR
    for name in CHECKPOINT_NAMES:
        if (folder / name).is_file():
            return folder / name
    candidates = (
        sorted(folder.glob("*.pt"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    )
    if not candidates:
        raise SessionExportError(
            f"session {session_dir} has no checkpoint (expected {folder / CHECKPOINT_NAMES[0]}); "
            "let the engine train until its first checkpoint is written"
        )
    return candidates[-1]


def _lookup(state: Mapping[str, Any], key: str) -> Any:
    if key in state:
        return state[key]
    for part in _NESTED:
        nested = state.get(part)
        if isinstance(nested, Mapping) and key in nested:
            return nested[key]
    return None


def _config_tree(state: Mapping[str, Any], session_dir: Path) -> dict[str, Any]:
    from comodo_live.config import as_dict, load_config

    tree = state.get("config")
    if isinstance(tree, Mapping):
        return {k: dict(v) for k, v in tree.items() if isinstance(v, Mapping)}
    path = session_dir / "config.toml"
    return as_dict(load_config(path if path.is_file() else None))


def _student(state: Mapping[str, Any]) -> nn.Module:
    from comodo_live.models.student import build_student

    # The student the app served: the EMA student, unless the guard rolled it back.
    served = _lookup(state, "served_student")
    weights = served if isinstance(served, Mapping) else _lookup(state, "ema_student")
    config = _lookup(state, "student_config")
    if not isinstance(config, Mapping) or not isinstance(weights, Mapping):
        raise SessionExportError(
            "checkpoint holds no 'student_config' + 'ema_student' (EMA weights)"
        )
    student = build_student(dict(config))
    student.load_state_dict(dict(weights))
    return student.eval()


def _labelled(state: Mapping[str, Any]) -> tuple[np.ndarray | None, list[str]]:
    """Labelled windows (M, C, N) + M names: ``labelled_windows``/``labelled_labels``, else
    ``labels.windows`` {name: (M, C, N)}."""
    flat, names_flat = state.get("labelled_windows"), state.get("labelled_labels")
    if flat is not None and names_flat is not None and len(names_flat) == len(flat) > 0:
        return np.asarray(flat, np.float32), [str(n) for n in names_flat]
    labels = state.get("labels")
    per_activity = labels.get("windows") if isinstance(labels, Mapping) else None
    if not isinstance(per_activity, Mapping):
        return None, []
    windows, names = [], []
    for name, items in per_activity.items():
        for item in items:
            windows.append(np.asarray(item, np.float32))
            names.append(str(name))
    return (np.stack(windows), names) if windows else (None, [])


def _teacher_name(state: Mapping[str, Any], tree: Mapping[str, Any]) -> str | None:
    name = state.get("teacher")
    if isinstance(name, str):
        return name
    return tree.get("teacher", {}).get("name")


def _embed(student: nn.Module, windows: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        chunks = [
            student.encode(torch.from_numpy(windows[i : i + 256]))  # type: ignore[operator]
            for i in range(0, len(windows), 256)
        ]
    return torch.cat(chunks).numpy()  # (M, E)


def read_session(session_dir: str | Path) -> SessionModel:
    """Load a session's newest checkpoint (weights_only) into export inputs.

    Raises:
        SessionExportError: missing/foreign checkpoint, no student or no labelled activity.
    """
    from comodo_live.training.checkpoint import CheckpointError, load_checkpoint

    session_dir = Path(session_dir)
    if not session_dir.is_dir():
        raise SessionExportError(f"session folder {session_dir} does not exist")
    path = find_checkpoint(session_dir)
    try:
        state = load_checkpoint(path, CHECKPOINT_KIND)
    except CheckpointError as exc:
        raise SessionExportError(str(exc)) from exc
    tree = _config_tree(state, session_dir)
    predictor = tree.get("predictor", {})
    window = {**tree.get("window", {}), **dict(state.get("preprocessing") or {})}
    student = _student(state)
    windows, names = _labelled(state)
    options = {
        "unknown_threshold": float(predictor.get("confidence_threshold", 0.5)),
        "smoothing_alpha": float(predictor.get("smoothing_alpha", 0.5)),
    }
    classifier = _lookup(state, "classifier")
    if isinstance(classifier, Mapping):
        try:
            head = HeadSpec.from_dict({**options, **classifier})
        except HeadError as exc:
            raise SessionExportError(f"{path.name}: classifier: {exc}") from exc
    elif windows is not None:
        fitted = fit_head(
            _embed(student, windows),
            names,
            tuple(dict.fromkeys(names)),
            min_windows=int(predictor.get("min_windows_per_activity", 4)),
            c=float(predictor.get("classifier_c", 1.0)),
            anchor_temperature=float(predictor.get("anchor_temperature", 0.1)),
        )
        assert fitted is not None  # windows exist, so at least one activity is present
        head = replace(
            fitted,
            unknown_threshold=options["unknown_threshold"],
            smoothing_alpha=options["smoothing_alpha"],
        )
    else:
        raise SessionExportError(
            f"session {session_dir} has no classifier and no labelled windows: label at least "
            "one activity before exporting"
        )
    source = "labelled"
    if windows is None:
        replay = _lookup(state, "replay")
        recorded = replay.get("imu") if isinstance(replay, Mapping) else None
        windows = (
            np.asarray(recorded, np.float32) if recorded is not None and len(recorded) else None
        )
        source = "recorded"
    known = [n in head.activities for n in names]
    card = CardInfo.from_mapping(
        {
            "session": session_dir.name,
            "train_seconds": _lookup(state, "train_seconds"),
            "steps": _lookup(state, "step"),
            "queue_size": _lookup(state, "queue_size") or tree.get("trainer", {}).get("queue_size"),
            "teacher": _teacher_name(state, tree),
            "agreement": _lookup(state, "agreement"),
            "labelled_accuracy": _lookup(state, "labelled_accuracy"),
            "labelled_windows": {a: names.count(a) for a in dict.fromkeys(names)},
            "student": dict(getattr(student, "config", {})),
            "personalisation": _lookup(state, "personalisation"),
            "distillation_gain": (_lookup(state, "guard") or {}).get("summary"),
        }
    )
    return SessionModel(
        student=student,
        head=head,
        preprocessing={
            "rate_hz": float(window.get("rate_hz", 50.0)),
            "window_s": float(window.get("window_s", 2.0)),
            "hop_s": float(window.get("hop_s", 0.5)),
            **(
                {"window_samples": int(window["window_samples"])}
                if "window_samples" in window
                else {}
            ),
        },
        card=card,
        windows=windows,
        labels=names if source == "labelled" and all(known) else None,
        windows_source=source,
    )

"""The model card: a short, human-readable account of how an exported model was made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from comodo_live.head import HeadSpec
from comodo_live.runtime.package import Preprocessing


@dataclass(frozen=True)
class CardInfo:
    """Facts about the training run (None where unknown).

    Attributes:
        session: session name (folder).
        train_seconds: wall time the trainer ran, seconds.
        steps: optimiser steps.
        queue_size: teacher queue entries (K of the COMODO loss).
        teacher: teacher model used for distillation.
        agreement: student–teacher agreement over recent camera-on windows, [0, 1].
        labelled_accuracy: student accuracy on the labelled stretches, [0, 1].
        labelled_accuracy_note: where ``labelled_accuracy`` was measured.
        labelled_windows: activity → labelled windows used for the classifier.
        student: student architecture summary (e.g. its config).
        personalisation: the engine's record of the last fine-tune of the student on the labelled
            windows (steps, activities, windows, labelled accuracy before/after), or None.
        distillation_gain: the student guard's figure ("distillation gain on your labels:
            +x points (n windows)" or "... no labels yet"; learning/guard.py), "" if unknown.
        notes: free text.
    """

    session: str | None = None
    train_seconds: float | None = None
    steps: int | None = None
    queue_size: int | None = None
    teacher: str | None = None
    agreement: float | None = None
    labelled_accuracy: float | None = None
    labelled_accuracy_note: str = ""
    labelled_windows: dict[str, int] = field(default_factory=dict)
    student: dict[str, Any] = field(default_factory=dict)
    personalisation: dict[str, Any] | None = None
    distillation_gain: str = ""
    notes: str = ""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> CardInfo:
        """Build from a dict, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (values or {}).items() if k in known and v is not None})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _fmt(value: Any, unit: str = "", percent: bool = False) -> str:
    if value is None:
        return "not recorded"
    if percent:
        return f"{100 * float(value):.1f} %"
    if isinstance(value, float):
        return f"{value:.4g}{unit}"
    return f"{value}{unit}"


def _student(config: Mapping[str, Any]) -> str:
    if not config:
        return "not recorded"
    return ", ".join(f"{k}={v}" for k, v in config.items())


def _personalisation(record: Mapping[str, Any] | None) -> str:
    if not record:
        return "none (classifier only; the student was not fine-tuned on the labels)"
    before = _fmt(record.get("labelled_accuracy_before"), percent=True)
    after = _fmt(record.get("labelled_accuracy_after"), percent=True)
    return (
        f"student fine-tuned for {_fmt(record.get('steps'))} steps on "
        f"{_fmt(record.get('windows'))} labelled windows; labelled accuracy {before} → {after}"
    )


def render_model_card(
    info: CardInfo, head: HeadSpec, pre: Preprocessing, parity: Mapping[str, Any], created: str
) -> str:
    """Markdown text of ``model_card.md``."""
    trained = "not recorded"
    if info.train_seconds is not None:
        trained = f"{info.train_seconds / 60.0:.1f} min ({info.train_seconds:.0f} s)"
    labelled = ", ".join(f"{a}: {n}" for a, n in info.labelled_windows.items()) or "none recorded"
    anchors = [a for a, m in zip(head.activities, head.anchor_mask, strict=True) if m]
    onnx_diff = max(parity["onnxruntime"]["batched"]["max_abs_diff"].values())
    ts_diff = max(parity["torchscript"]["batched"]["max_abs_diff"].values())
    return "\n".join(
        [
            f"# Model card — comodo-live IMU activity model ({info.session or 'unnamed session'})",
            "",
            f"Exported {created}. An IMU student distilled on-line from a frozen video teacher",
            "(COMODO) and a light classifier on its embeddings, personalised on this user's",
            "labelled activities. It needs only the IMU: no camera at inference.",
            "",
            "## Training",
            f"- Training time: {trained}; optimiser steps: {_fmt(info.steps)}",
            f"- Teacher: {_fmt(info.teacher)}; queue size: {_fmt(info.queue_size)}",
            f"- Student: {_student(info.student)} (EMA weights exported)",
            f"- Student–teacher agreement: {_fmt(info.agreement, percent=True)}",
            f"- {(info.distillation_gain or 'distillation gain on your labels: not recorded').capitalize()}",
            f"- Accuracy on labelled stretches: {_fmt(info.labelled_accuracy, percent=True)}"
            + (f" ({info.labelled_accuracy_note})" if info.labelled_accuracy_note else ""),
            f"- Labelled windows per activity: {labelled}",
            f"- Personalisation: {_personalisation(info.personalisation)}",
            "",
            "## Activities",
            f"- {len(head.activities)} classes: {', '.join(head.activities)}",
            f"- Scored by prototype anchors (too few labels): {', '.join(anchors) or 'none'}",
            f"- 'unknown' below smoothed confidence {head.unknown_threshold:g}; "
            f"smoothing alpha {head.smoothing_alpha:g}",
            "",
            "## Input",
            f"- {len(pre.channels)} channels {', '.join(pre.channels)} in "
            f"{', '.join(sorted(set(pre.units)))}",
            f"- {pre.window_samples} samples at {pre.rate_hz:g} Hz ({pre.window_s:g} s), "
            f"a prediction every {pre.hop_s:g} s; normalisation inside the graph",
            "",
            "## Parity at export",
            f"- {parity['windows']} {parity['source']} windows; max |difference| vs PyTorch: "
            f"ONNX Runtime {onnx_diff:.2g}, TorchScript {ts_diff:.2g} "
            f"(allowed {parity['atol']:g}); passed: {parity['passed']}",
            "",
            "## Limits",
            "- Trained on one person's sessions; other bodies, sensor placements or mountings",
            "  will need re-personalisation. Activities outside the listed classes are forced",
            "  into one of them unless the confidence falls below the 'unknown' threshold.",
            *(["", "## Notes", info.notes] if info.notes else []),
            "",
        ]
    )

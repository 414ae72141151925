"""Build ``report.html`` for a session folder or an offline distillation run folder."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from comodo_live.report import figures
from comodo_live.report.html import Section, render
from comodo_live.report.session_data import (
    SessionData,
    distillation_gain,
    is_session_folder,
    labelled_pairs,
    load_session,
    truth_pairs,
)

REPORT_NAME = "report.html"
DISTILL_CHECKPOINT = "student.pt"
PROBE_NAME = "probe.json"


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of a session folder or a distillation run folder.

    Args:
        folder: ``recordings/<session>`` (``metrics.jsonl``, ``session.xdf``) or a
            ``comodo-live distill --out`` folder (``student.pt``, ``probe.json``).
        out: the HTML file to write (default ``<folder>/report.html``).

    Returns:
        The path written.

    Raises:
        FileNotFoundError: ``folder`` is neither kind of folder.
        ValueError: a distillation run's ``student.pt`` is unreadable or foreign.
    """
    path = Path(folder)
    if path.is_dir() and (path / DISTILL_CHECKPOINT).is_file() and not is_session_folder(path):
        page = distill_report(path)
    else:
        page = session_report(load_session(path))
    target = Path(out) if out is not None else path / REPORT_NAME
    partial = target.with_name(target.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(target)
    return target


def _stamp() -> str:
    return f"written {time.strftime('%Y-%m-%d %H:%M:%S')} by comodo-live report"


def session_report(data: SessionData) -> str:
    """The session report's HTML."""
    last = data.metrics[-1] if data.metrics else {}
    sections = [Section("Session", table=_summary(data, last), paragraphs=list(data.notes))]
    curves = Section("Learning curves")
    if data.metrics:
        curves.images.append(("learning curves", figures.learning_curves(data.metrics)))
    else:
        curves.paragraphs.append("not recorded (no metrics lines)")
    sections.append(curves)
    sections.append(_gain_section(data))
    sections.append(_confusion_section(data))
    timeline = Section("Predictions against labels")
    if data.predictions or data.labels:
        timeline.images.append(("prediction timeline", figures.timeline(data)))
    else:
        timeline.paragraphs.append("no prediction recorded (label an activity to get predictions)")
    sections.append(timeline)
    health = Section("Stream health")
    if data.streams:
        health.paragraphs.append(
            "Samples per second of each recorded stream in 1-s bins (from session.xdf), against "
            "its nominal rate; red bars count samples holding a NaN."
        )
        health.images.append(("stream health", figures.stream_health(data.streams, data.t0)))
    else:
        health.paragraphs.append("not recorded (no session.xdf)")
    sections.append(health)
    return render(f"comodo-live session {data.folder.name}", _stamp(), sections)


def _summary(data: SessionData, last: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [("folder", str(data.folder))]
    wall = [r["wall_time"] for r in data.metrics if isinstance(r.get("wall_time"), (int, float))]
    if len(wall) > 1:
        rows.append(("duration", f"{wall[-1] - wall[0]:.0f} s"))
    for key, label in (
        ("step", "optimiser steps"),
        ("windows", "IMU windows"),
        ("predictions", "predictions"),
        ("teacher_encoded", "teacher clips encoded"),
        ("rollbacks", "rollbacks"),
    ):
        if key in last:
            rows.append((label, str(last[key])))
    counts = last.get("labelled")
    if isinstance(counts, dict) and counts:
        rows.append(("labelled windows", ", ".join(f"{k} {v}" for k, v in counts.items())))
    rows.append(("labelled stretches (markers)", str(len(data.labels))))
    return rows


def _gain_section(data: SessionData) -> Section:
    section = Section("Distillation gain on your labels")
    gains = distillation_gain(data)
    if gains:
        _, points, windows = gains[-1]
        section.paragraphs.append(
            f"latest: {points:+.1f} percentage points on {windows} labelled windows (the distilled "
            "student's accuracy minus the starting student's, on held-out labelled stretches)"
        )
        section.images.append(("distillation gain", figures.gain_curve(gains)))
    else:
        section.paragraphs.append("not recorded in this session's metrics")
    return section


def _confusion_section(data: SessionData) -> Section:
    section = Section("Labelled windows: confusion matrix")
    for pairs, title, what in (
        (
            labelled_pairs(data),
            "Windows you labelled",
            "predictions inside your labelled stretches",
        ),
        (truth_pairs(data), "Demo ground truth", "every prediction against the demo script"),
    ):
        if pairs:
            png, accuracy = figures.confusion(pairs, title)
            section.paragraphs.append(
                f"{what}: {len(pairs)} windows, accuracy {100 * accuracy:.1f} %"
            )
            section.images.append((title, png))
    if not section.images:
        section.paragraphs.append("no prediction fell in a labelled stretch")
    return section


def distill_report(folder: Path) -> str:
    """The report of an offline distillation run (``student.pt`` history, ``probe.json``)."""
    from comodo_live.training.checkpoint import CheckpointError, load_checkpoint

    try:
        state = load_checkpoint(folder / DISTILL_CHECKPOINT)
    except CheckpointError as exc:
        raise ValueError(f"report: {exc}") from exc
    history: dict[str, list[float]] = state.get("history", {})
    settings = state.get("distill", {})
    table = [("folder", str(folder)), ("teacher", str(state.get("teacher", "?")))]
    table += [(str(k), str(v)) for k, v in settings.items()]
    sections = [Section("Run", table=table)]
    curves = Section("Learning curves")
    if history.get("step"):
        curves.images.append(("distillation curves", figures.distill_curves(history)))
    else:
        curves.paragraphs.append("not recorded (no history in student.pt)")
    sections.append(curves)
    probe = Section("Linear probe on the test subjects")
    if (folder / PROBE_NAME).is_file():
        results = json.loads((folder / PROBE_NAME).read_text())
        for k, acc in results.items():
            scores = ", ".join(f"{name} {value:.1f} %" for name, value in acc.items())
            probe.table.append((f"k = {k} labelled per class and subject", scores))
    else:
        probe.paragraphs.append(f"not recorded (no {PROBE_NAME})")
    sections.append(probe)
    return render(f"comodo-live distillation run {folder.name}", _stamp(), sections)

"""The report's pictures, drawn with matplotlib's Agg canvas (no pyplot, no display, no Qt).

Each function returns PNG bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from comodo_live.report.session_data import LabelSpan, SessionData, StreamTrace

DPI = 100
CAMERA_OFF_COLOUR = "#d9d9d9"


def to_png(figure: Figure) -> bytes:
    """Render a figure to PNG bytes."""
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def _series(records: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    """(N,) float64 of one metrics field, NaN where missing or null."""
    values = [r.get(key) for r in records]
    return np.array(
        [float(v) if isinstance(v, (int, float)) else np.nan for v in values], dtype=np.float64
    )


def _shade_camera_off(axis: Any, t: np.ndarray, camera_on: np.ndarray) -> None:
    """Grey spans where the camera was off. ``t`` (N,) seconds, ``camera_on`` (N,) bool."""
    start = None
    for i in range(t.size):
        if not camera_on[i] and start is None:
            start = t[i]
        if (camera_on[i] or i == t.size - 1) and start is not None:
            axis.axvspan(start, t[i], color=CAMERA_OFF_COLOUR, zorder=0, lw=0)
            start = None


def _note_if_empty(axis: Any, *series: np.ndarray) -> None:
    if not any(np.isfinite(values).any() for values in series):
        axis.text(0.5, 0.5, "not recorded yet", ha="center", va="center", transform=axis.transAxes)


def learning_curves(metrics: Sequence[dict[str, Any]]) -> bytes:
    """Loss and teacher-target statistics against steps; speed and agreement against time."""
    figure = Figure(figsize=(10, 6), dpi=DPI, layout="constrained")
    axes = figure.subplots(2, 2)
    wall = _series(metrics, "wall_time")
    minutes = (wall - np.nanmin(wall)) / 60.0 if wall.size else wall  # (N,)
    steps = _series(metrics, "step")
    camera = np.array([bool(r.get("camera_on", True)) for r in metrics])
    loss_axis, target_axis, speed_axis, agree_axis = axes.ravel()
    loss = _series(metrics, "loss")
    loss_axis.plot(steps, loss, color="C0", marker=".", ms=3)
    _note_if_empty(loss_axis, loss)
    loss_axis.set(xlabel="optimiser step", ylabel="COMODO loss (nats)", title="Learning curve")
    entropy, cosine = _series(metrics, "target_entropy"), _series(metrics, "mean_cosine")
    target_axis.plot(steps, entropy, label="target entropy", color="C1")
    target_axis.plot(steps, cosine, label="teacher mean cosine", color="C2")
    _note_if_empty(target_axis, entropy, cosine)
    target_axis.set(xlabel="optimiser step", title="Teacher targets")
    target_axis.legend(loc="best", fontsize=8)
    for axis in (speed_axis, agree_axis):
        _shade_camera_off(axis, minutes, camera)
    speed_axis.plot(minutes, _series(metrics, "steps_per_s"), label="train steps/s", color="C0")
    speed_axis.plot(
        minutes, _series(metrics, "teacher_clips_per_s"), label="teacher clips/s", color="C3"
    )
    speed_axis.set(xlabel="minutes (grey: camera off)", ylabel="per second", title="Throughput")
    speed_axis.legend(loc="best", fontsize=8)
    agree_axis.plot(minutes, _series(metrics, "agreement"), color="C4")
    agree_axis.set(
        xlabel="minutes (grey: camera off)",
        ylabel="fraction",
        ylim=(-0.05, 1.05),
        title="Student agrees with teacher",
    )
    return to_png(figure)


def confusion(pairs: Sequence[tuple[str, str]], title: str) -> tuple[bytes, float]:
    """Confusion matrix (rows: the true activity, columns: the prediction), row-normalised
    colours with counts written in; returns the PNG and the accuracy in [0, 1]."""
    truths = sorted({t for t, _ in pairs})
    predicted = truths + sorted({p for _, p in pairs} - set(truths))
    counts = np.zeros((len(truths), len(predicted)), dtype=np.int64)  # (T, P)
    for t, p in pairs:
        counts[truths.index(t), predicted.index(p)] += 1
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)  # (T, P)
    accuracy = float(np.mean([t == p for t, p in pairs])) if pairs else float("nan")
    size = 1.6 + 0.7 * max(len(predicted), 3)
    figure = Figure(
        figsize=(size + 1.5, 0.7 * max(len(truths), 3) + 1.8), dpi=DPI, layout="constrained"
    )
    axis = figure.subplots()
    image = axis.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                colour = "white" if shares[i, j] > 0.6 else "black"
                axis.text(j, i, str(counts[i, j]), ha="center", va="center", color=colour)
    axis.set_xticks(range(len(predicted)), predicted, rotation=30, ha="right")
    axis.set_yticks(range(len(truths)), truths)
    axis.set(xlabel="predicted", ylabel="true", title=f"{title}: accuracy {100 * accuracy:.1f} %")
    figure.colorbar(image, ax=axis, label="share of the row")
    return to_png(figure), accuracy


def timeline(data: SessionData) -> bytes:
    """Predicted activity over time against the user's labels (and the demo's ground truth)."""
    t0 = data.t0
    preds = data.predictions
    names = sorted(
        {str(p["label"]) for p in preds}
        | {s.activity for s in data.labels}
        | {str(p["truth"]) for p in preds if p.get("truth") is not None}
    )
    row = {name: i for i, name in enumerate(names)}
    figure = Figure(figsize=(11, 1.2 + 0.45 * max(len(names), 2)), dpi=DPI, layout="constrained")
    axis = figure.subplots()
    t = np.array([p["t"] - t0 for p in preds], dtype=np.float64)  # (N,)
    if t.size:
        _shade_camera_off(axis, t, np.array([bool(p.get("camera_on", True)) for p in preds]))
    _label_bars(axis, data.labels, row, t0)
    truth = [(p["t"] - t0, row[str(p["truth"])]) for p in preds if p.get("truth") is not None]
    if truth:
        tt, rows = zip(*truth, strict=True)
        axis.step(tt, rows, where="post", color="C2", lw=1.2, label="ground truth (demo script)")
    if t.size:
        confidence = np.array([float(p.get("confidence") or 0.0) for p in preds])  # (N,)
        axis.scatter(
            t,
            [row[str(p["label"])] for p in preds],
            c=confidence,
            cmap="viridis",
            vmin=0.0,
            vmax=1.0,
            s=9,
            label="student prediction (colour: confidence)",
            zorder=3,
        )
    axis.set_yticks(range(len(names)), names)
    axis.set_ylim(-0.7, len(names) - 0.3)
    axis.set(xlabel="seconds since the session started (grey: camera off)", title="Predictions")
    if names:
        figure.legend(loc="outside lower center", ncols=3, fontsize=8)
    return to_png(figure)


def _label_bars(axis: Any, spans: Sequence[LabelSpan], row: dict[str, int], t0: float) -> None:
    for i, span in enumerate(spans):
        axis.barh(
            row[span.activity],
            span.t_end - span.t_start,
            left=span.t_start - t0,
            height=0.8,
            color="C1",
            alpha=0.35,
            label="user label" if i == 0 else None,
        )


def stream_health(streams: Sequence[StreamTrace], t0: float) -> bytes:
    """Each recorded stream's measured rate over time against its nominal rate; NaN samples."""
    shown = [s for s in streams if s.bin_t.size]
    figure = Figure(figsize=(10, 1.0 + 1.9 * max(len(shown), 1)), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(figure.subplots(max(len(shown), 1), 1, sharex=True))
    for axis, stream in zip(axes, shown, strict=False):
        t = stream.bin_t - t0  # (B,)
        axis.plot(t, stream.rate_hz, color="C0", drawstyle="steps-post", label="measured")
        if stream.nominal_rate_hz > 0:
            axis.axhline(stream.nominal_rate_hz, color="k", ls="--", lw=0.8, label="nominal")
        if stream.nan_samples.any():
            axis.bar(
                t, stream.nan_samples, width=0.9, align="edge", color="C3", label="NaN samples"
            )
        rate = "irregular" if stream.nominal_rate_hz == 0 else f"{stream.nominal_rate_hz:g} Hz"
        axis.set_title(
            f"{stream.name} ({stream.type}, {rate}, {stream.samples} samples)", fontsize=9
        )
        axis.set_ylabel("samples/s")
        axis.legend(loc="lower right", fontsize=7)
    axes[-1].set_xlabel("seconds since the session started")
    if not shown:
        axes[0].text(0.5, 0.5, "no stream recorded", ha="center", va="center")
    return to_png(figure)


def gain_curve(gains: Sequence[tuple[float, float, int]]) -> bytes:
    """Distillation gain on the user's labels over time: ``(wall_time, points, windows)``."""
    wall = np.array([g[0] for g in gains], dtype=np.float64)  # (N,)
    minutes = (wall - wall[0]) / 60.0
    figure = Figure(figsize=(10, 3), dpi=DPI, layout="constrained")
    axis = figure.subplots()
    axis.axhline(0.0, color="k", lw=0.8)
    axis.plot(minutes, [g[1] for g in gains], color="C0", marker=".", ms=4)
    axis.set(xlabel="minutes", ylabel="percentage points", title="Distillation gain on your labels")
    return to_png(figure)


def distill_curves(history: dict[str, list[float]]) -> bytes:
    """An offline distillation run's history: loss, target entropy, mean cosine and lr."""
    figure = Figure(figsize=(10, 6), dpi=DPI, layout="constrained")
    axes = figure.subplots(2, 2).ravel()
    step = np.asarray(history.get("step", []), dtype=np.float64)  # (N,)
    for axis, (key, label) in zip(
        axes,
        (
            ("loss", "loss (nats)"),
            ("target_entropy", "target entropy"),
            ("mean_cosine", "teacher mean cosine"),
            ("lr", "learning rate"),
        ),
        strict=True,
    ):
        values = np.asarray(history.get(key, []), dtype=np.float64)
        if values.ndim > 1:  # per-component entries: their mean
            values = values.mean(axis=tuple(range(1, values.ndim)))
        if values.size and values.size == step.size:
            axis.plot(step, values, color="C0")
        axis.set(xlabel="optimiser step", title=label)
    return to_png(figure)

"""What a session folder holds, read for the report: ``metrics.jsonl`` and the session's XDF.

Everything here is torch-free: the learning curves and predictions come from the metrics log,
the user's labels and the stream timing from the recording (``label:start:<name>`` /
``label:stop`` markers, every stream's sample times).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from comodo_live.metrics import read_metrics
from comodo_live.streams.names import MARKER_LABEL_START, MARKER_LABEL_STOP, MARKER_TYPE

logger = logging.getLogger(__name__)

METRICS_NAME = "metrics.jsonl"
HEALTH_BIN_S = 1.0  # stream-rate bins, seconds


@dataclass(frozen=True)
class LabelSpan:
    """One stretch the user labelled: ``[t_start, t_end)`` LSL seconds, activity name."""

    t_start: float
    t_end: float
    activity: str


@dataclass(frozen=True)
class StreamTrace:
    """One recorded stream's timing, in ``HEALTH_BIN_S`` bins.

    Attributes:
        name, type: the LSL stream's identity.
        nominal_rate_hz: declared rate, Hz (0: irregular).
        bin_t: (B,) bin starts, LSL seconds.
        rate_hz: (B,) samples per second in each bin.
        nan_samples: (B,) samples holding at least one NaN in each bin (numeric streams).
        samples: total samples recorded.
    """

    name: str
    type: str
    nominal_rate_hz: float
    bin_t: np.ndarray
    rate_hz: np.ndarray
    nan_samples: np.ndarray
    samples: int


@dataclass
class SessionData:
    """The report's inputs from one session folder (empty lists where a file is missing).

    Attributes:
        folder: the session folder.
        metrics: ``{"type": "metrics", ...}`` records (wall-clock ``wall_time``), in order.
        predictions: ``{"type": "prediction", "t": LSL s, "label", "confidence",
            "camera_on", "truth"}`` records, in order.
        labels: the user's labelled stretches, from the recording's markers.
        streams: per recorded stream, its rate and NaN counts over time.
        notes: what could not be read, as text for the report.
    """

    folder: Path
    metrics: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    labels: list[LabelSpan] = field(default_factory=list)
    streams: list[StreamTrace] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def t0(self) -> float:
        """The session's first LSL time (recording or prediction), for relative time axes."""
        starts = [s.bin_t[0] for s in self.streams if s.bin_t.size]
        starts += [p["t"] for p in self.predictions[:1]]
        starts += [span.t_start for span in self.labels[:1]]
        return float(min(starts)) if starts else 0.0


def is_session_folder(path: Path) -> bool:
    """A session folder has a metrics log or a session XDF."""
    return (path / METRICS_NAME).is_file() or any(path.glob("session*.xdf"))


def load_session(folder: str | Path) -> SessionData:
    """Read ``metrics.jsonl`` and ``session*.xdf`` of a session folder.

    Raises:
        FileNotFoundError: ``folder`` is not a session folder (neither file is there).
    """
    path = Path(folder)
    if not path.is_dir() or not is_session_folder(path):
        raise FileNotFoundError(
            f"report: {path} is not a session folder (expected {METRICS_NAME} or session.xdf)"
        )
    data = SessionData(folder=path)
    if (path / METRICS_NAME).is_file():
        for record in read_metrics(path / METRICS_NAME):
            if record.get("type") == "prediction" and _finite(record.get("t")):
                data.predictions.append(record)
            elif record.get("type") == "metrics":
                data.metrics.append(record)
    else:
        data.notes.append(f"no {METRICS_NAME}: learning curves and predictions not recorded")
    xdfs = sorted(path.glob("session*.xdf"))
    if not xdfs:
        data.notes.append("no session.xdf (recording off): labels and stream health not recorded")
    for xdf in xdfs:
        try:
            _read_xdf(xdf, data)
        except Exception as exc:  # a torn or foreign file: the rest of the report still helps
            logger.warning("report: cannot read %s: %s", xdf, exc)
            data.notes.append(f"{xdf.name} could not be read: {exc}")
    return data


def _finite(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _read_xdf(path: Path, data: SessionData) -> None:
    import pyxdf

    streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    for stream in streams:
        info = stream["info"]
        name = str(info["name"][0])
        kind = str(info["type"][0])
        times = np.asarray(stream["time_stamps"], dtype=np.float64)  # (N,)
        if kind == MARKER_TYPE or info["channel_format"][0] == "string":
            markers = [str(row[0]) for row in stream["time_series"]]
            data.labels.extend(label_spans(times, markers))
            continue
        values = np.asarray(stream["time_series"])
        data.streams.append(
            stream_trace(name, kind, float(info["nominal_srate"][0]), times, values)
        )
    data.labels.sort(key=lambda span: span.t_start)


def label_spans(times: np.ndarray, markers: list[str]) -> list[LabelSpan]:
    """User label stretches from one marker stream: each ``label:start:<name>`` runs to the
    next ``label:start``/``label:stop`` (an unclosed one to the stream's last marker)."""
    spans = []
    current: tuple[float, str] | None = None
    for t, text in zip(times.tolist(), markers, strict=True):
        if text.startswith(MARKER_LABEL_START) or text == MARKER_LABEL_STOP:
            if current is not None and t > current[0]:
                spans.append(LabelSpan(current[0], t, current[1]))
            current = None
            if text.startswith(MARKER_LABEL_START):
                current = (t, text[len(MARKER_LABEL_START) :])
    if current is not None and times.size and times[-1] > current[0]:
        spans.append(LabelSpan(current[0], float(times[-1]), current[1]))
    return spans


def stream_trace(
    name: str, kind: str, nominal_rate_hz: float, times: np.ndarray, values: np.ndarray
) -> StreamTrace:
    """Samples per second and NaN samples of one stream in ``HEALTH_BIN_S`` bins.

    Args:
        times: (N,) sample times, LSL seconds.
        values: (N, C) samples (any numeric dtype).
    """
    if times.size == 0:
        empty = np.zeros(0)
        return StreamTrace(name, kind, nominal_rate_hz, empty, empty, empty, 0)
    span_s = float(times[-1] - times[0])
    full = int(span_s // HEALTH_BIN_S)  # whole bins only: a partial last bin reads as a drop
    if full >= 1:
        width = HEALTH_BIN_S
        edges = times[0] + HEALTH_BIN_S * np.arange(full + 1)  # (B+1,)
    else:
        width = max(span_s, 1e-9)
        edges = np.array([times[0], times[0] + width])
    inside = times < edges[-1] if full >= 1 else np.ones(times.size, dtype=bool)  # half-open bins
    counts, _ = np.histogram(times[inside], edges)  # (B,)
    nan_rows = np.zeros(times.size, dtype=bool)
    if values.dtype.kind == "f":
        nan_rows = np.isnan(values.reshape(times.size, -1)).any(axis=1)  # (N,)
    nans, _ = np.histogram(times[nan_rows & inside], edges)  # (B,)
    return StreamTrace(
        name=name,
        type=kind,
        nominal_rate_hz=nominal_rate_hz,
        bin_t=edges[:-1],
        rate_hz=counts / width,
        nan_samples=nans,
        samples=int(times.size),
    )


def labelled_pairs(data: SessionData) -> list[tuple[str, str]]:
    """``(labelled activity, predicted label)`` for every prediction whose window ended inside
    a stretch the user labelled."""
    pairs = []
    for pred in data.predictions:
        for span in data.labels:
            if span.t_start <= pred["t"] < span.t_end:
                pairs.append((span.activity, str(pred["label"])))
                break
    return pairs


def truth_pairs(data: SessionData) -> list[tuple[str, str]]:
    """``(ground truth, predicted label)`` where the session knows the truth (the demo script)."""
    return [
        (str(p["truth"]), str(p["label"])) for p in data.predictions if p.get("truth") is not None
    ]


def distillation_gain(data: SessionData) -> list[tuple[float, float, int]]:
    """``(wall_time, gain in percentage points, labelled windows scored)`` from the metrics lines
    that record the distillation gain on the user's labels (``distillation_gain_points``: the
    distilled student's accuracy minus the starting student's), oldest first; [] if none does."""
    out = []
    for record in data.metrics:
        points, wall = record.get("distillation_gain_points"), record.get("wall_time")
        if _finite(points) and _finite(wall):
            windows = record.get("distillation_gain_windows")
            out.append((float(wall), float(points), int(windows) if _finite(windows) else 0))
    return out

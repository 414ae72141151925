"""Labels that come with a recording: a label CSV, and marker streams in another vocabulary.

Label CSV (one labelled interval per row, a header row naming the columns)::

    start,stop,activity
    12.0,40.5,walking
    41.0,75.0,sitting

``start`` / ``stop`` (also ``start_s`` / ``stop_s``, ``end`` / ``end_s``) are seconds **relative
to the recording's start**, never wall-clock (Unix) times:

- ``comodo-live import``: seconds from the video's first frame — the clock of the IMU CSV's
  ``time_s`` column (and of a camera's embedded IMU);
- a replay (``--replay FILE --labels FILE.csv``): seconds from the recording's first IMU sample.

Each row becomes two markers of the app's vocabulary, ``label:start:<activity>`` at ``start``
and ``label:stop`` at ``stop``. Activity names are checked with the app's own sanitiser
(:func:`~comodo_live.learning.labels.check_activity_name`: printable, at most 64 characters);
a bad row is an error that names the file, line and value.

A marker stream written by other software in its own vocabulary is mapped marker by marker
(``--label-map 'walk_start=label:start:walk'``, repeatable, or a file of such lines): a marker
whose whole text is a mapped name is replaced, every other marker is kept as it is.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comodo_live.learning.labels import check_activity_name, shown
from comodo_live.streams.names import MARKER_LABEL_START, MARKER_LABEL_STOP, MARKER_TYPE

EPOCH_LIKE_S = 1e6  # a label time beyond ~11.6 days is a wall-clock (epoch) time
MAX_ROWS = 100_000  # label intervals one file may hold
MAX_MARKER_CHARS = 1024  # a mapped marker's text, characters
_START = ("start", "start_s", "t_start", "begin")
_STOP = ("stop", "stop_s", "end", "end_s", "t_stop", "t_end")
_ACTIVITY = ("activity", "label", "name")

Marker = tuple[float, str]  # (time, s; text)


@dataclass(frozen=True)
class LabelInterval:
    """One labelled interval; times in seconds relative to the recording's start."""

    start_s: float
    stop_s: float
    activity: str


def _column(header: list[str], names: Sequence[str], path: Path) -> int:
    keys = [h.strip().lower() for h in header]
    for name in names:
        if name in keys:
            return keys.index(name)
    raise ValueError(
        f"{path}: the header {header} has no {names[0]!r} column (accepted: {list(names)}); "
        "a label file needs start,stop,activity"
    )


def read_label_csv(path: str | Path) -> list[LabelInterval]:
    """The intervals of a label CSV (see the module doc), in file order.

    Raises:
        ValueError: missing columns, a time that is not a finite number, an epoch-like time,
            ``stop <= start``, an invalid activity name, or more than ``MAX_ROWS`` rows — each
            naming the file and line.
        OSError: the file cannot be read.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ValueError(f"{path}: empty label file (needs a header start,stop,activity)")
    header = rows[0]
    cols = (_column(header, _START, path), _column(header, _STOP, path))
    col_activity = _column(header, _ACTIVITY, path)
    if len(rows) - 1 > MAX_ROWS:
        raise ValueError(f"{path}: {len(rows) - 1} label rows; at most {MAX_ROWS}")
    out: list[LabelInterval] = []
    for line, row in enumerate(rows[1:], start=2):
        where = f"{path}, line {line}"
        if len(row) <= max(*cols, col_activity):
            raise ValueError(f"{where}: expected start,stop,activity, got {shown(','.join(row))}")
        times = []
        for col in cols:
            try:
                value = float(row[col])
            except ValueError:
                raise ValueError(f"{where}: {shown(row[col])} is not a number of seconds") from None
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{where}: times must be finite and >= 0 s, got {value}")
            if value > EPOCH_LIKE_S:
                raise ValueError(
                    f"{where}: {value:.0f} s looks like a wall-clock (Unix epoch) time; label "
                    "times are seconds from the recording's start"
                )
            times.append(value)
        start, stop = times
        if stop <= start:
            raise ValueError(f"{where}: stop ({stop} s) must be after start ({start} s)")
        try:
            activity = check_activity_name(row[col_activity])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        out.append(LabelInterval(start, stop, activity))
    return out


def interval_markers(intervals: Iterable[LabelInterval], origin_s: float = 0.0) -> list[Marker]:
    """``label:start:<activity>`` / ``label:stop`` markers at ``origin_s`` + the intervals'
    times, in time order (a stop and the next start at the same time: the stop first)."""
    markers: list[tuple[float, int, str]] = []
    for item in intervals:
        markers.append((origin_s + item.start_s, 1, MARKER_LABEL_START + item.activity))
        markers.append((origin_s + item.stop_s, 0, MARKER_LABEL_STOP))
    markers.sort(key=lambda m: (m[0], m[1]))
    return [(t, text) for t, _, text in markers]


def parse_label_map(specs: Iterable[str]) -> dict[str, str]:
    """``FROM=TO`` pairs (or paths of files holding one pair per line, ``#`` comments) → a map.

    ``TO`` must be in the app's vocabulary: ``label:start:<activity>`` (a valid activity name)
    or ``label:stop``.

    Raises:
        ValueError: a pair without ``=``, an empty ``FROM``, or a ``TO`` outside the vocabulary.
    """
    mapping: dict[str, str] = {}
    for spec in specs:
        path = Path(spec)
        if "=" not in spec and path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            entries = [(f"{path}, line {n}", s.strip()) for n, s in enumerate(lines, 1)]
        else:
            entries = [("--label-map", spec)]
        for where, entry in entries:
            if not entry or entry.startswith("#"):
                continue
            source, sep, target = entry.partition("=")
            source, target = source.strip(), target.strip()
            if not sep or not source:
                raise ValueError(
                    f"{where}: {shown(entry)} must be FROM=TO, e.g. 'walk_start=label:start:walk' "
                    "(or the path of a file of such lines)"
                )
            if target.startswith(MARKER_LABEL_START):
                name = check_activity_name(target[len(MARKER_LABEL_START) :])
                target = MARKER_LABEL_START + name
            elif target != MARKER_LABEL_STOP:
                raise ValueError(
                    f"{where}: {shown(target)} must be 'label:start:<activity>' or 'label:stop'"
                )
            mapping[source] = target
    return mapping


def map_markers(markers: Iterable[Marker], mapping: dict[str, str]) -> list[Marker]:
    """Markers with each text found in ``mapping`` replaced (others kept, cut to 1024 chars)."""
    return [(t, mapping.get(text, text[:MAX_MARKER_CHARS])) for t, text in markers]


def marker_stream(markers: Sequence[Marker], name: str, source_id: str) -> dict[str, Any]:
    """A string marker stream in the shape ``pyxdf.load_xdf`` returns (for the replay player)."""
    info = {
        "name": [name],
        "type": [MARKER_TYPE],
        "source_id": [source_id],
        "channel_format": ["string"],
        "channel_count": ["1"],
        "nominal_srate": ["0"],
        "stream_id": -1,
    }
    return {
        "info": info,
        "time_stamps": [t for t, _ in markers],
        "time_series": [[text] for _, text in markers],
    }


def replay_markers(
    markers: Sequence[Marker], origin_s: float, labels: str, label_map: Sequence[str]
) -> tuple[list[Marker], list[Marker]]:
    """A replay's markers with ``label_map`` applied, and the label file's markers.

    Args:
        markers: the recording's own markers, ``(t, text)`` on its clock.
        origin_s: the recording's start (its first IMU sample), on its clock.
        labels: a label CSV path ('' for none), times relative to ``origin_s``.
        label_map: ``--label-map`` specs (see :func:`parse_label_map`).

    Returns:
        ``(mapped recording markers, label-file markers)``, each in time order.
    """
    mapping = parse_label_map(label_map)
    mapped = map_markers(markers, mapping) if mapping else list(markers)
    extra = interval_markers(read_label_csv(labels), origin_s) if labels else []
    return mapped, extra

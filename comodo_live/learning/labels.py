"""Activities and their labelled IMU windows, editable at any time from any thread.

Labels arrive as intervals on the LSL clock (``start_label`` / ``stop_label`` from the API or
``label:start:<name>`` / ``label:stop`` markers). A window is labelled with an activity when it
lies entirely inside one of that activity's intervals. Each activity keeps at most
``max_per_activity`` windows (oldest dropped), plus the teacher embeddings of labelled windows
seen while the camera was on (the teacher's own anchors). Every window remembers its *stretch*
(consecutive windows of one activity without a gap: one labelled interval or trial), so that
cross-validation on the labels (``learning/guard.py``) never splits overlapping neighbours.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

UNKNOWN = "unknown"
MAX_NAME_CHARS = 64
MAX_ACTIVITIES = 100  # activities a session holds (markers from other programs included)
SHOWN_CHARS = 80  # characters of a refused name shown in an error message
# a labelled window starting later than this (s) after the previous one opens a new stretch
STRETCH_GAP_S = 1.5


def shown(text: object, limit: int = SHOWN_CHARS) -> str:
    """``text`` safe to print or log: control and other non-printable characters escaped
    (``\\x1b``, ``\\n``), cut to ``limit`` characters (``…`` marks the cut), quoted."""
    text = str(text)
    cut = text[:limit]
    safe = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return f"'{safe}{'…' if len(text) > limit else ''}'"


def check_activity_name(name: str) -> str:
    """Strip and validate an activity name; returns the stripped name.

    Raises:
        ValueError: empty, too long, not printable text (control characters, escapes, line
            breaks), or the reserved name ``"unknown"``. The message shows the name escaped.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"activity name must be a non-empty string, got {shown(name)}")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise ValueError(
            f"activity name must be <= {MAX_NAME_CHARS} characters, got {len(name)}: {shown(name)}"
        )
    if not name.isprintable():
        raise ValueError(
            f"activity name must be printable text (no control characters, escapes or line "
            f"breaks), got {shown(name)}"
        )
    if name == UNKNOWN:
        raise ValueError(f"activity name {UNKNOWN!r} is reserved for low-confidence predictions")
    return name


@dataclass
class _Interval:
    name: str
    t_start: float
    t_end: float = math.inf


class LabelStore:
    """Thread-safe activities, label intervals and bounded labelled windows.

    Args:
        max_per_activity: labelled windows (and teacher embeddings) kept per activity.
        activities: initial activity names.
    """

    def __init__(self, max_per_activity: int = 120, activities: tuple[str, ...] = ()) -> None:
        if max_per_activity < 1:
            raise ValueError(f"max_per_activity must be >= 1, got {max_per_activity}")
        self.max_per_activity = int(max_per_activity)
        self._lock = threading.Lock()
        self._activities: list[str] = []
        self._windows: dict[str, deque[np.ndarray]] = {}
        self._teacher: dict[str, deque[np.ndarray]] = {}
        self._stretch_of: dict[str, deque[int]] = {}  # stretch id of each stored window
        self._stretch = 0
        # stretch id -> its rank among its activity's stretches (0 = the activity's first)
        self._ordinal: dict[int, int] = {}
        self._opened: dict[str, int] = {}  # stretches opened per activity, ever
        self._last_window: tuple[str, float | None] | None = None
        self._intervals: deque[_Interval] = deque(maxlen=64)
        self._version = 0
        for name in activities:
            self.add_activity(name)

    # --- activities -------------------------------------------------------------------------
    @property
    def activities(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._activities)

    @property
    def version(self) -> int:
        """Increments whenever activities or labelled windows change (classifier refit cue)."""
        return self._version

    def add_activity(self, name: str) -> str:
        """Add an activity (no-op if it exists); returns the stored name.

        Raises:
            ValueError: an invalid name (:func:`check_activity_name`) or ``MAX_ACTIVITIES``
                activities already.
        """
        name = check_activity_name(name)
        with self._lock:
            if name not in self._activities:
                if len(self._activities) >= MAX_ACTIVITIES:
                    raise ValueError(
                        f"activity {shown(name)} not added: a session holds at most "
                        f"{MAX_ACTIVITIES} activities; delete one first"
                    )
                self._activities.append(name)
                self._windows[name] = deque(maxlen=self.max_per_activity)
                self._teacher[name] = deque(maxlen=self.max_per_activity)
                self._stretch_of[name] = deque(maxlen=self.max_per_activity)
                self._version += 1
        return name

    def rename_activity(self, old: str, new: str) -> None:
        """Rename ``old`` to ``new``, keeping its windows and label intervals.

        Raises:
            KeyError: ``old`` is not an activity. ValueError: ``new`` invalid or taken.
        """
        new = check_activity_name(new)
        with self._lock:
            if old not in self._activities:
                raise KeyError(f"no activity {old!r}; activities: {self._activities}")
            if new == old:
                return
            if new in self._activities:
                raise ValueError(f"activity {new!r} already exists")
            self._activities[self._activities.index(old)] = new
            self._windows[new] = self._windows.pop(old)
            self._teacher[new] = self._teacher.pop(old)
            self._stretch_of[new] = self._stretch_of.pop(old)
            self._opened[new] = self._opened.pop(old, 0)
            for interval in self._intervals:
                if interval.name == old:
                    interval.name = new
            self._version += 1

    def delete_activity(self, name: str) -> None:
        """Delete an activity with its windows and label intervals (KeyError if absent)."""
        with self._lock:
            if name not in self._activities:
                raise KeyError(f"no activity {name!r}; activities: {self._activities}")
            self._activities.remove(name)
            del self._windows[name], self._teacher[name], self._stretch_of[name]
            self._opened.pop(name, None)
            kept = [i for i in self._intervals if i.name != name]
            self._intervals.clear()
            self._intervals.extend(kept)
            self._version += 1

    # --- label intervals --------------------------------------------------------------------
    def start_label(self, name: str, t: float) -> str:
        """Start labelling ``name`` (added if new) from LSL time ``t``; closes any open label."""
        name = self.add_activity(name)
        with self._lock:
            self._close_open(t)
            self._intervals.append(_Interval(name, float(t)))
            self._last_window = None  # a new interval is a new stretch
        return name

    def stop_label(self, t: float) -> None:
        """Stop labelling at LSL time ``t`` (no-op when nothing is being labelled)."""
        with self._lock:
            self._close_open(t)

    def _close_open(self, t: float) -> None:
        for interval in self._intervals:
            if interval.t_end == math.inf:
                interval.t_end = max(float(t), interval.t_start)

    @property
    def labelling(self) -> str | None:
        """The activity being labelled now, or None."""
        with self._lock:
            for interval in reversed(self._intervals):
                if interval.t_end == math.inf:
                    return interval.name
            return None

    def label_for(self, t_start: float, t_end: float) -> str | None:
        """The activity whose label interval contains ``[t_start, t_end]``, or None."""
        with self._lock:
            for interval in reversed(self._intervals):
                if interval.t_start <= t_start and t_end <= interval.t_end:
                    return interval.name
            return None

    # --- labelled data ----------------------------------------------------------------------
    def add_window(self, name: str, data: np.ndarray, t: float | None = None) -> int | None:
        """Store a (C, N) labelled IMU window; returns its stretch id (>= 1), or None if
        ``name`` is gone or ``data`` not finite.

        ``t``: the window's start time (s); a window of another activity than the previous one,
        or starting more than ``STRETCH_GAP_S`` after it, opens a new stretch.
        """
        if data.ndim != 2 or not np.isfinite(data).all():
            return None
        with self._lock:
            if name not in self._windows:
                return None
            last = self._last_window
            if (
                last is None
                or last[0] != name
                or (t is not None and (last[1] is None or abs(t - last[1]) > STRETCH_GAP_S))
            ):
                self._stretch += 1
                self._ordinal[self._stretch] = self._opened.get(name, 0)
                self._opened[name] = self._opened.get(name, 0) + 1
            self._last_window = (name, None if t is None else float(t))
            self._windows[name].append(np.array(data, dtype=np.float32, copy=True))
            self._stretch_of[name].append(self._stretch)
            self._version += 1
            return self._stretch

    def add_teacher_embedding(self, name: str, embedding: np.ndarray) -> bool:
        """Store the (D,) teacher embedding of a labelled window (for teacher anchors)."""
        with self._lock:
            if name not in self._teacher or not np.isfinite(embedding).all():
                return False
            self._teacher[name].append(np.array(embedding, dtype=np.float32, copy=True).ravel())
        return True

    def counts(self) -> dict[str, int]:
        """Activity → labelled windows stored."""
        with self._lock:
            return {name: len(self._windows[name]) for name in self._activities}

    def windows(self) -> tuple[np.ndarray, list[str]]:
        """All labelled windows as ((M, C, N) float32, M activity names); M may be 0."""
        with self._lock:
            names = [n for n in self._activities for _ in self._windows[n]]
            data = [w for n in self._activities for w in self._windows[n]]
        if not data:
            return np.zeros((0, 0, 0), np.float32), []
        return np.stack(data), names

    def ordinal(self, stretch: int) -> int:
        """Rank of stretch id ``stretch`` among its activity's stretches (0: the first)."""
        with self._lock:
            return self._ordinal.get(int(stretch), 0)

    def windows_by_stretch(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """:meth:`windows` plus the (M,) int64 stretch id of each window."""
        with self._lock:
            names = [n for n in self._activities for _ in self._windows[n]]
            data = [w for n in self._activities for w in self._windows[n]]
            groups = [g for n in self._activities for g in self._stretch_of[n]]
        if not data:
            return np.zeros((0, 0, 0), np.float32), [], np.zeros(0, np.int64)
        return np.stack(data), names, np.asarray(groups, np.int64)

    def teacher_anchors(self) -> tuple[tuple[str, ...], np.ndarray]:
        """Activities with teacher embeddings and their L2-normalised mean embeddings (K, D)."""
        with self._lock:
            pairs = [
                (n, np.mean(self._teacher[n], axis=0)) for n in self._activities if self._teacher[n]
            ]
        if not pairs:
            return (), np.zeros((0, 0), np.float32)
        anchors = np.stack([p[1] for p in pairs]).astype(np.float32)  # (K, D)
        anchors /= np.maximum(np.linalg.norm(anchors, axis=1, keepdims=True), 1e-12)
        return tuple(p[0] for p in pairs), anchors

    # --- checkpoint state -------------------------------------------------------------------
    def state(self) -> dict[str, object]:
        """Plain lists/arrays for checkpoints (activities, windows, teacher embeddings)."""
        with self._lock:
            return {
                "activities": list(self._activities),
                "windows": {n: [w.copy() for w in self._windows[n]] for n in self._activities},
                "teacher": {n: [z.copy() for z in self._teacher[n]] for n in self._activities},
                "stretches": {n: list(self._stretch_of[n]) for n in self._activities},
                "ordinals": {str(k): v for k, v in self._ordinal.items()},
            }

    def load_state(self, state: dict[str, object]) -> None:
        """Replace activities and labelled data with a :meth:`state` snapshot."""
        activities = [check_activity_name(str(a)) for a in state["activities"]]  # type: ignore[attr-defined]
        windows = state.get("windows", {})
        teacher = state.get("teacher", {})
        assert isinstance(windows, dict) and isinstance(teacher, dict)
        with self._lock:
            self._activities = activities
            self._windows = {
                n: deque(map(np.asarray, windows.get(n, [])), maxlen=self.max_per_activity)
                for n in activities
            }
            self._teacher = {
                n: deque(map(np.asarray, teacher.get(n, [])), maxlen=self.max_per_activity)
                for n in activities
            }
            stretches = state.get("stretches")
            self._stretch_of = {}
            for n in activities:
                count = len(self._windows[n])
                ids = stretches.get(n) if isinstance(stretches, dict) else None
                if ids is None or len(ids) != count:  # older checkpoints: chunks of 8 windows
                    self._stretch += 1
                    ids = [self._stretch + i // 8 for i in range(count)]
                    self._stretch += count // 8 + 1
                self._stretch_of[n] = deque(map(int, ids), maxlen=self.max_per_activity)
            self._stretch = max(
                [self._stretch, *(max(d, default=0) for d in self._stretch_of.values())]
            )
            ordinals = state.get("ordinals")
            self._ordinal, self._opened = {}, {}
            for n in activities:  # older checkpoints: rank by order of the stored stretch ids
                for rank, g in enumerate(dict.fromkeys(self._stretch_of[n])):
                    saved = ordinals.get(str(g)) if isinstance(ordinals, dict) else None
                    self._ordinal[g] = int(saved) if saved is not None else rank
                self._opened[n] = max(
                    (self._ordinal[g] + 1 for g in self._stretch_of[n]), default=0
                )
            self._last_window = None
            self._intervals.clear()
            self._version += 1

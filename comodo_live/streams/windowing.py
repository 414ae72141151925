"""IMU windows on the common LSL clock, paired with the frames captured in the same interval.

:class:`Windower` is polled (``poll()``) by the engine every few hundred milliseconds. Each
window of ``window_s`` is resampled onto a regular ``rate_hz`` grid by
:func:`comodo_live.signal.resample` — low-pass (anti-aliasing) filtered when the stream is
faster than ``rate_hz``, the same filter as the exported model's runtime — after its channels
are put into contract order and units (m/s², rad/s) by the stream's
:class:`~comodo_live.units.ChannelMap`; windows are ``hop_s`` apart, and the newest one ends at the newest sample
(``align_to_newest``, for the lowest latency) or on a fixed ``hop_s`` grid. A window is
dropped (and counted) when it overlaps a gap of the IMU stream, a camera on/off switch, or NaNs.
When the camera was on for the whole window, ``frames_per_clip`` frames are taken from the
:class:`~comodo_live.streams.frames.FrameBus` (nearest to evenly spaced times in the window).
The frames cover the window when no two are further apart than the largest frame gap
(``max_frame_gap_s``; 0 = auto: 2.5 of the camera's own median frame intervals, at least
0.2 s, so a 5 fps camera pairs as well as a 30 fps one).

Camera state comes from, in order of preference: a :class:`Timeline` the caller updates (the
engine calls ``camera.set(on)`` when it switches the camera), a ``camera:on`` / ``camera:off``
marker stream, a polled callable, or — with none of these — the frames themselves (a window
whose frames cover it is "on", one without frames "off", a partly covered one is dropped).
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pylsl

from comodo_live import signal as antialias
from comodo_live.records import ImuWindow, PairedWindow, VideoClip
from comodo_live.streams.dejitter import Dejitter, Gap
from comodo_live.streams.frames import Frame, FrameBus
from comodo_live.streams.names import (
    MARKER_ACTIVITY,
    MARKER_CAMERA_OFF,
    MARKER_CAMERA_ON,
    MARKER_LABEL_START,
    MARKER_LABEL_STOP,
)
from comodo_live.streams.reader import StreamReader
from comodo_live.units import ChannelMap

MIN_FRAME_GAP_S = 0.2  # auto frame-gap limit: never stricter than this, seconds
FRAME_GAP_INTERVALS = 2.5  # auto frame-gap limit: this many median frame intervals


class _TimeSpan(Protocol):
    def time_span(self) -> tuple[float, float] | None: ...


class ImuReader(Protocol):
    """What the windower reads: a :class:`StreamReader` on a 6-channel IMU stream, or a
    :class:`~comodo_live.streams.imu_door.JoinedImuReader` (accelerometer + gyroscope streams)."""

    @property
    def buffer(self) -> _TimeSpan | None: ...

    @property
    def dejitter(self) -> Dejitter | None: ...

    @property
    def description(self) -> Any: ...

    def between(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def gaps(self, since: float = ...) -> list[Gap]: ...


class Timeline:
    """A piecewise-constant state on the LSL clock, from change events.

    A change may be known only to lie somewhere in ``[t_lo, t]`` (e.g. noticed by polling); any
    interval overlapping that range "spans" the change.

    Args:
        initial: the value before the first change (None = unknown).
        capacity: changes kept (the oldest are forgotten).
    """

    def __init__(self, initial: Any = None, capacity: int = 4096) -> None:
        self.initial = initial
        self._capacity = capacity
        self._t: list[float] = []  # change times (upper bound), non-decreasing
        self._lo: list[float] = []  # lower bound of each change time
        self._values: list[Any] = []
        self._lock = threading.Lock()

    def set(self, value: Any, t: float | None = None, t_lo: float | None = None) -> None:
        """Record that the state became ``value`` at LSL time ``t`` (default: now)."""
        t = pylsl.local_clock() if t is None else float(t)
        t_lo = t if t_lo is None else min(float(t_lo), t)
        with self._lock:
            if self._t and t < self._t[-1]:
                t = self._t[-1]  # keep order; late reports count from the last change
            if self.value_at_locked(t) == value:
                return
            self._t.append(t)
            self._lo.append(t_lo)
            self._values.append(value)
            if len(self._t) > self._capacity:
                self.initial = self._values[0]
                del self._t[0], self._lo[0], self._values[0]

    def value_at_locked(self, t: float) -> Any:
        i = bisect.bisect_right(self._t, t)
        return self._values[i - 1] if i else self.initial

    def value_at(self, t: float) -> Any:
        with self._lock:
            return self.value_at_locked(t)

    def constant_over(self, t0: float, t1: float) -> tuple[bool, Any]:
        """``(True, value)`` if no change overlaps ``[t0, t1]``, else ``(False, None)``."""
        with self._lock:
            first = bisect.bisect_left(self._t, t0)  # changes ending at or after t0
            if any(lo <= t1 for lo in self._lo[first:]):
                return False, None
            return True, self.value_at_locked(t0)


@dataclass
class WindowerStats:
    """Counters since start (windows)."""

    emitted: int = 0
    paired: int = 0
    skipped_gap: int = 0
    skipped_switch: int = 0
    skipped_nan: int = 0
    skipped_incomplete: int = 0
    skipped_backlog: int = 0
    missing_frames: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Windower:
    """Cuts the IMU stream into paired windows; call :meth:`poll` regularly.

    Args:
        imu_reader: a started :class:`StreamReader` on a 6-channel IMU stream, or any
            :class:`ImuReader` (e.g. accelerometer + gyroscope streams joined).
        window_s: window length, seconds (> 0).
        hop_s: spacing of window ends, seconds (> 0).
        rate_hz: rate of the resampled window, Hz (> 0); ``round(window_s * rate_hz)`` samples.
        frame_source: the camera's :class:`FrameBus` (None: IMU-only windows).
        camera_state: a :class:`Timeline` of bools the caller updates, or a callable polled at
            each :meth:`poll`, or None (markers, else the frames decide).
        frames_per_clip: frames per clip, >= 1.
        markers: optional string-marker reader: ``camera:on/off`` switch times, user labels
            (``label:start:<name>`` / ``label:stop``) and ground-truth ``activity:<name>``.
        max_frame_gap_s: largest frame interval / distance from the window edges for the
            frames to count as covering the window, seconds; 0 = auto (``FRAME_GAP_INTERVALS``
            median frame intervals of the frames in the window, at least ``MIN_FRAME_GAP_S``).
        max_windows_per_poll: newest windows returned per poll; older pending ones are skipped.
        align_to_newest: the last window of each poll ends at the newest sample (its latency is
            then the time since that sample arrived, not up to ``hop_s`` more); windows are then
            at least ``hop_s`` apart (tolerating polls up to min(hop_s/2, 50 ms) early). False:
            window ends lie exactly on a ``hop_s`` grid.
        channel_map: the IMU stream's channel order and units
            (:func:`comodo_live.units.stream_channel_map`); None: already contract order, SI.
    """

    def __init__(
        self,
        imu_reader: ImuReader,
        window_s: float,
        hop_s: float,
        rate_hz: float,
        frame_source: FrameBus | None = None,
        camera_state: Timeline | Callable[[], bool] | None = None,
        frames_per_clip: int = 8,
        markers: StreamReader | None = None,
        max_frame_gap_s: float = 0.0,
        max_windows_per_poll: int = 16,
        align_to_newest: bool = True,
        channel_map: ChannelMap | None = None,
    ) -> None:
        for arg, value in (("window_s", window_s), ("hop_s", hop_s), ("rate_hz", rate_hz)):
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{arg} must be finite and > 0, got {value}")
        if frames_per_clip < 1:
            raise ValueError(f"frames_per_clip must be >= 1, got {frames_per_clip}")
        if not (max_frame_gap_s >= 0 and math.isfinite(max_frame_gap_s)):
            raise ValueError(f"max_frame_gap_s must be >= 0 (0 = auto), got {max_frame_gap_s}")
        if max_windows_per_poll < 1:
            raise ValueError(f"max_windows_per_poll must be >= 1, got {max_windows_per_poll}")
        self.n_samples = round(window_s * rate_hz)
        if self.n_samples < 2:
            raise ValueError(f"window_s * rate_hz must give >= 2 samples, got {window_s * rate_hz}")
        if imu_reader.buffer is None:
            raise ValueError(f"imu_reader must read a numeric stream, got {imu_reader.description}")
        self.reader = imu_reader
        self.window_s, self.hop_s, self.rate_hz = float(window_s), float(hop_s), float(rate_hz)
        self.frame_source = frame_source
        self.frames_per_clip = int(frames_per_clip)
        self.markers = markers
        self.max_frame_gap_s = float(max_frame_gap_s)
        self.channel_map = None if channel_map is None or channel_map.is_identity else channel_map
        # 0: irregular (or a duck-typed reader without a nominal rate), measured per window
        self.input_rate_hz = float(getattr(imu_reader, "nominal_srate", 0.0) or 0.0)
        margin_gap = 2.0 * imu_reader.dejitter.gap_s if imu_reader.dejitter else 1.0
        self._margin_s = max(margin_gap, antialias.half_length_s(self.rate_hz) + 0.05)
        self.max_windows_per_poll = int(max_windows_per_poll)
        self.align_to_newest = align_to_newest
        self._camera_callable = None if isinstance(camera_state, Timeline) else camera_state
        self.camera: Timeline | None = camera_state if isinstance(camera_state, Timeline) else None
        if self._camera_callable is not None:
            self.camera = Timeline(initial=bool(self._camera_callable()))
        self.labels = Timeline(initial=None)
        self.activities = Timeline(initial=None)
        self._marker_count = 0
        self._last_poll = pylsl.local_clock()
        self._next_end: float | None = None
        self.stats = WindowerStats()

    # -- state sources ---------------------------------------------------------------------
    def _update_states(self, now: float) -> None:
        if self._camera_callable is not None and self.camera is not None:
            on = bool(self._camera_callable())
            if on != self.camera.value_at(now):
                self.camera.set(on, t=now, t_lo=self._last_poll)  # switched since last poll
        self._last_poll = now
        if self.markers is None:
            return
        self._marker_count, new = self.markers.markers_after(self._marker_count)
        for t, text in new:
            if text in (MARKER_CAMERA_ON, MARKER_CAMERA_OFF):
                on = text == MARKER_CAMERA_ON
                if self.camera is None:  # first switch marker: it was the other way before
                    self.camera = Timeline(initial=not on)
                self.camera.set(on, t)
            elif text.startswith(MARKER_LABEL_START):
                self.labels.set(text[len(MARKER_LABEL_START) :], t)
            elif text == MARKER_LABEL_STOP:
                self.labels.set(None, t)
            elif text.startswith(MARKER_ACTIVITY):
                self.activities.set(text[len(MARKER_ACTIVITY) :], t)

    def activity_over(self, t0: float, t1: float) -> str | None:
        """Ground-truth activity (``activity:`` markers) constant over ``[t0, t1]``, or None."""
        constant, value = self.activities.constant_over(t0, t1)
        return value if constant else None

    # -- windows ---------------------------------------------------------------------------
    def poll(self) -> list[PairedWindow]:
        """Windows completed since the last call, oldest first (at most ``max_windows_per_poll``)."""
        now = pylsl.local_clock()
        self._update_states(now)
        span = self.reader.buffer.time_span() if self.reader.buffer is not None else None
        if span is None:
            return []
        oldest, newest = span
        if self._next_end is None:
            self._next_end = oldest + (self.n_samples - 1) / self.rate_hz
        early = min(0.5 * self.hop_s, 0.05) if self.align_to_newest else 1e-9
        if newest < self._next_end - early:
            return []
        count = max(1, math.floor((newest - self._next_end) / self.hop_s + 1e-9) + 1)
        ends = self._next_end + self.hop_s * np.arange(count)
        if self.align_to_newest:  # the newest window ends at the newest sample: lowest latency
            ends[-1] = newest
        self._next_end = float(ends[-1] + self.hop_s)
        if count > self.max_windows_per_poll:
            self.stats.skipped_backlog += count - self.max_windows_per_poll
            ends = ends[-self.max_windows_per_poll :]
        duration = (self.n_samples - 1) / self.rate_hz
        margin = self._margin_s
        ts, raw, received = self.reader.between(ends[0] - duration - margin, ends[-1] + margin)
        values = raw.astype(np.float64) if self.channel_map is None else self.channel_map.apply(raw)
        gaps = self.reader.gaps(since=ends[0] - duration)
        out: list[PairedWindow] = []
        for t1 in ends.tolist():
            window = self._make_window(t1 - duration, t1, ts, values, received, gaps)
            if window is not None:
                out.append(window)
        return out

    def _make_window(
        self,
        t0: float,
        t1: float,
        ts: np.ndarray,
        values: np.ndarray,
        received: np.ndarray,
        gaps: list[Any],
    ) -> PairedWindow | None:
        if len(ts) < 2 or ts[0] > t0 or ts[-1] < t1:
            self.stats.skipped_incomplete += 1
            return None
        if any(min(g.t0, g.t1) < t1 and max(g.t0, g.t1) > t0 for g in gaps):
            self.stats.skipped_gap += 1
            return None
        grid = np.linspace(t0, t1, self.n_samples)  # (N,)
        hi = int(np.searchsorted(ts, t1, side="left")) + 1
        in_rate = self.input_rate_hz or antialias.median_rate(ts)
        if antialias.needs_lowpass(in_rate, self.rate_hz):  # context on both sides, if there
            half = antialias.half_length_s(self.rate_hz)
            lo = int(np.searchsorted(ts, t0 - half, side="left"))
            top = int(np.searchsorted(ts, t1 + half, side="right"))
        else:
            lo, top = int(np.searchsorted(ts, t0, side="right")) - 1, hi
        data = antialias.resample(ts[lo:top], values[lo:top], grid, self.rate_hz, in_rate)
        if not np.isfinite(data).all():  # (C, N)
            self.stats.skipped_nan += 1
            return None
        t_last_push = float(received[hi - 1])
        clip: VideoClip | None = None
        camera_on, status = self._camera_over(t0, t1)
        if status == "switch":
            self.stats.skipped_switch += 1
            return None
        if camera_on and self.frame_source is not None:
            clip = self._clip(t0, t1)
            if clip is None:
                self.stats.missing_frames += 1
                camera_on = False
        label_constant, label = self.labels.constant_over(t0, t1)
        imu = ImuWindow(
            data=data.astype(np.float32),
            t_start=t0,
            t_end=t1,
            rate_hz=self.rate_hz,
            camera_on=camera_on,
            t_last_push=t_last_push,
        )
        self.stats.emitted += 1
        self.stats.paired += clip is not None
        return PairedWindow(imu=imu, clip=clip, label=label if label_constant else None)

    def _camera_over(self, t0: float, t1: float) -> tuple[bool, str]:
        if self.camera is not None:
            constant, on = self.camera.constant_over(t0, t1)
            return (bool(on), "ok") if constant else (False, "switch")
        if self.frame_source is None:
            return False, "ok"
        frames = self.frame_source.between(t0, t1)
        if not frames:
            return False, "ok"
        return (True, "ok") if self._covers(frames, t0, t1) else (False, "switch")

    def frame_gap_limit(self, stamps: np.ndarray) -> float:
        """Largest tolerated frame gap for frames at (F,) ``stamps``, seconds."""
        if self.max_frame_gap_s > 0:
            return self.max_frame_gap_s
        if len(stamps) < 2:
            return MIN_FRAME_GAP_S
        interval = float(np.median(np.diff(stamps)))
        return max(MIN_FRAME_GAP_S, FRAME_GAP_INTERVALS * interval)

    def _covers(self, frames: list[Frame], t0: float, t1: float) -> bool:
        stamps = np.array([f.timestamp for f in frames])
        tol = self.frame_gap_limit(stamps)
        gaps_ok = len(stamps) < 2 or float(np.diff(stamps).max()) <= tol
        return bool(stamps[0] <= t0 + tol and stamps[-1] >= t1 - tol and gaps_ok)

    def _clip(self, t0: float, t1: float) -> VideoClip | None:
        assert self.frame_source is not None
        frames = self.frame_source.between(t0, t1)
        if not frames or not self._covers(frames, t0, t1):
            return None
        stamps = np.array([f.timestamp for f in frames])  # (F,)
        targets = t0 + (np.arange(self.frames_per_clip) + 0.5) * (t1 - t0) / self.frames_per_clip
        nearest = np.abs(stamps[None, :] - targets[:, None]).argmin(axis=1)  # (T,)
        chosen = [frames[i] for i in nearest.tolist()]
        try:
            rgb = np.stack([f.rgb for f in chosen])  # (T, H, W, 3)
        except ValueError:  # frame size changed inside the window
            return None
        return VideoClip(
            frames=rgb,
            timestamps=np.array([f.timestamp for f in chosen], dtype=np.float64),
            frame_indices=np.array([f.index for f in chosen], dtype=np.int64),
        )

"""One reader thread per LSL stream: clock-corrected, dejittered samples in a ring buffer.

A :class:`StreamReader` owns an inlet and a thread that pulls chunks with
``pull_chunk(timeout, min_samples=1)`` (returns as soon as one sample is there: ~0.1 ms on
loopback). Every chunk is

1. shifted by the inlet's ``time_correction()`` (so all streams share this machine's LSL
   clock). The first call blocks ~0.6 s: the thread makes it before its first pull (samples
   wait in the inlet, none is lost, all get the same offset); later refreshes every
   ``time_correction_interval_s`` return liblsl's cached estimate in ~40 µs,
2. dejittered when the stream is regular (:class:`~comodo_live.streams.dejitter.Dejitter`:
   running linear fit of timestamp vs. sample count, reset on every gap),
3. checked for gaps (raw interval > ``gap_factor`` nominal periods) and NaNs (counted, kept),
4. appended to a :class:`~comodo_live.streams.ringbuffer.RingBuffer` (string streams: a
   bounded deque of ``(timestamp, text)``) and handed to the optional ``on_chunk`` hook.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pylsl

from comodo_live.streams.dejitter import Dejitter, Gap
from comodo_live.streams.resolve import StreamDescription, resolve_stream
from comodo_live.streams.ringbuffer import RingBuffer
from comodo_live.worker import Worker

logger = logging.getLogger(__name__)

MAX_MARKER_CHARS = 1024  # longer string samples are cut (label names are <= 64 characters)
RATE_WINDOW_S = 2.0  # the measured rate covers the chunks of this many seconds, s

_NUMPY_DTYPES: dict[int, type] = {
    pylsl.cf_float32: np.float32,
    pylsl.cf_double64: np.float64,
    pylsl.cf_int8: np.int8,
    pylsl.cf_int16: np.int16,
    pylsl.cf_int32: np.int32,
    pylsl.cf_int64: np.int64,
}

ChunkHook = Callable[[np.ndarray, "np.ndarray | list[str]"], None]


@dataclass(frozen=True)
class StreamHealth:
    """Counters for the GUI's health light.

    Attributes:
        samples: samples received since start.
        rate_hz: measured rate over the last ~2 s of data, Hz (0 when unknown or when no chunk
            arrived in the last ~2 s).
        seconds_since_data: age of the newest data, ``local_clock()`` seconds (inf before the
            first chunk): since the last chunk arrived or, for a regular stream, since its newest
            sample's own (clock-corrected) time stamp when that is older: a stream that keeps
            sending samples stamped 20 s ago is 20 s stale.
        gaps: gaps detected since start.
        nan_samples: samples containing at least one NaN (kept in the buffer, never dropped).
        time_offset_s: clock correction added to the stream's timestamps, seconds.
        error: the exception that stopped the reader thread, as text, or None.
    """

    samples: int
    rate_hz: float
    seconds_since_data: float
    gaps: int
    nan_samples: int
    time_offset_s: float
    error: str | None


class StreamReader(Worker):
    """Reads one LSL stream in its own thread (a :class:`~comodo_live.worker.Worker`) into a
    bounded buffer.

    Args:
        stream: a resolved ``pylsl.StreamInfo``, or a ``source_id`` to resolve.
        buffer_s: seconds of samples kept (irregular streams: ``irregular_capacity`` samples).
        resolve_timeout_s: how long to look for ``stream`` when it is a source_id, seconds.
        max_buflen_s: inlet-side buffer, seconds (keep it small for video); default 2×buffer_s.
        dejitter: fit regular timestamps (default: yes for regular numeric streams).
        gap_factor: interval > this many nominal periods is a gap (regular streams only).
        min_gap_s: shortest interval that counts as a gap, seconds.
        chunk_timeout_s: longest single wait in ``pull_chunk``, seconds (bounds stop latency).
        on_chunk: called in the reader thread with ``(timestamps (n,), samples)`` per chunk;
            keep it fast. Numeric samples are ``(n, C)`` arrays, string samples a list of str.
        irregular_capacity: samples kept for irregular (nominal rate 0) streams.
        time_correction_interval_s: how often the clock offset is refreshed, seconds.
        open_timeout_s: how long :meth:`start` waits to open the stream and read its full info,
            seconds.

    Use ``with StreamReader(...) as reader:`` or ``start()`` / ``stop()``. A failure in the
    thread stops the reader and is kept in :attr:`error` (and :meth:`health`).
    """

    def __init__(
        self,
        stream: pylsl.StreamInfo | str,
        buffer_s: float = 30.0,
        *,
        resolve_timeout_s: float = 5.0,
        max_buflen_s: float | None = None,
        dejitter: bool | None = None,
        gap_factor: float = 5.0,
        min_gap_s: float = 0.05,
        chunk_timeout_s: float = 0.1,
        on_chunk: ChunkHook | None = None,
        irregular_capacity: int = 4096,
        time_correction_interval_s: float = 5.0,
        open_timeout_s: float = 5.0,
    ) -> None:
        if not (buffer_s > 0 and math.isfinite(buffer_s)):
            raise ValueError(f"buffer_s must be finite and > 0, got {buffer_s}")
        if not (0 < chunk_timeout_s <= 5):
            raise ValueError(f"chunk_timeout_s must be in (0, 5], got {chunk_timeout_s}")
        if not (open_timeout_s > 0 and math.isfinite(open_timeout_s)):
            raise ValueError(f"open_timeout_s must be finite and > 0 s, got {open_timeout_s}")
        if isinstance(stream, str):
            stream = resolve_stream(source_id=stream, timeout_s=resolve_timeout_s)
        self._resolved = stream
        self.description = StreamDescription.from_info(stream)
        super().__init__(f"lsl-reader-{self.description.name}")
        self._open_timeout = float(open_timeout_s)
        self.nominal_srate = float(stream.nominal_srate())
        self.is_string = stream.channel_format() == pylsl.cf_string
        self.channel_count = int(stream.channel_count())
        self.buffer_s = float(buffer_s)
        self._max_buflen = max_buflen_s if max_buflen_s is not None else 2 * buffer_s
        self._chunk_timeout = chunk_timeout_s
        self._on_chunk = on_chunk
        self._tc_interval = time_correction_interval_s
        regular = self.nominal_srate > 0
        self.dejitter: Dejitter | None = None
        if regular:
            self.dejitter = Dejitter(
                self.nominal_srate,
                gap_factor=gap_factor,
                min_gap_s=min_gap_s,
                enabled=(not self.is_string) if dejitter is None else dejitter,
            )
        capacity = math.ceil(buffer_s * self.nominal_srate) + 1 if regular else irregular_capacity
        self.capacity = max(capacity, 16)
        self.buffer: RingBuffer | None = None
        self._strings: deque[tuple[float, str]] = deque(maxlen=self.capacity)
        self._string_total = 0
        self._max_samples = 1024
        if not self.is_string:
            dtype = np.dtype(_NUMPY_DTYPES[stream.channel_format()])
            self.buffer = RingBuffer(self.capacity, self.channel_count, dtype)
            # wide (video) samples: keep one pull's destination array under ~8 MB
            bytes_per_sample = dtype.itemsize * self.channel_count
            self._max_samples = int(np.clip(8_000_000 // bytes_per_sample, 1, 1024))
        self.info: pylsl.StreamInfo | None = None  # full info (with desc) once started
        self._gaps: deque[Gap] = deque(maxlen=256)
        self._lock = threading.Lock()
        self._inlet: pylsl.StreamInlet | None = None
        self._offset = 0.0
        self._ready = threading.Event()
        self._samples = 0
        self._nan_samples = 0
        self._gap_count = 0
        self._last_receipt = -math.inf
        self._recent: deque[tuple[float, float, int]] = deque(maxlen=512)  # per chunk: t0, t1, n

    # -- lifecycle (Worker: start/stop/running/with/error) ---------------------------------
    def start(self) -> StreamReader:
        """Open the inlet (errors raise here) and start the reader thread. Idempotent."""
        if self.running:
            return self
        return super().start()

    def _open(self) -> None:
        self._ready.clear()
        inlet = pylsl.StreamInlet(
            self._resolved,
            max_buflen=max(1, math.ceil(self._max_buflen)),
            recover=True,
        )
        self._inlet = inlet  # closed by _close, also when opening fails below
        inlet.open_stream(timeout=self._open_timeout)
        self.info = inlet.info(timeout=self._open_timeout)

    def _close(self) -> None:
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            inlet.close_stream()
            del inlet

    def wait_ready(self, timeout_s: float = 3.0) -> bool:
        """Wait until the first clock offset is known and samples flow (~0.6 s after start)."""
        return self._ready.wait(timeout_s)

    # -- thread bodies ---------------------------------------------------------------------
    def _warm_clock(self, inlet: pylsl.StreamInlet) -> None:
        """First clock offset (blocks ~0.6 s; data waits in the inlet meanwhile, nothing lost)."""
        try:
            self._offset = float(inlet.time_correction(timeout=2.0))
        except Exception as exc:  # e.g. timeout: offset 0 until a refresh succeeds
            logger.warning("time_correction for %s failed: %s", self.description, exc)
        finally:
            self._ready.set()

    def _refresh_offset(self, now: float, last: float) -> float:
        inlet = self._inlet
        if inlet is None or now - last < self._tc_interval:
            return last
        try:  # cheap after the first call: liblsl refreshes the estimate in the background
            self._offset = float(inlet.time_correction(timeout=0.05))
        except Exception as exc:
            logger.debug("time_correction refresh failed for %s: %s", self.description, exc)
        return now

    def _loop(self) -> None:
        inlet = self._inlet
        assert inlet is not None
        dest = None
        max_samples = self._max_samples
        if self.buffer is not None:
            dest = np.zeros((max_samples, self.channel_count), dtype=self.buffer.dtype)
        self._warm_clock(inlet)
        last_tc = pylsl.local_clock()
        while not self._stop_event.is_set():
            if self.is_string:
                samples, stamps = inlet.pull_chunk(
                    timeout=self._chunk_timeout, max_samples=max_samples, min_samples=1
                )
            else:
                samples, stamps = inlet.pull_chunk(
                    timeout=self._chunk_timeout,
                    max_samples=max_samples,
                    dest_obj=dest,
                    min_samples=1,
                    as_numpy=True,
                )
            if len(stamps) == 0:
                continue
            received = pylsl.local_clock()
            last_tc = self._refresh_offset(received, last_tc)
            self._ingest(np.asarray(stamps, dtype=np.float64), samples, received)

    def _ingest(self, stamps: np.ndarray, samples: object, received: float) -> None:
        stamps = stamps + self._offset
        gaps: list[Gap] = []
        if self.dejitter is not None:
            stamps, gaps = self.dejitter.process(stamps)
        if self.is_string:
            # a hostile 2 MB marker must not fill memory: markers are short commands and labels
            texts = [str(s[0])[:MAX_MARKER_CHARS] for s in samples]  # type: ignore[attr-defined]
            with self._lock:
                self._strings.extend(zip(stamps.tolist(), texts, strict=True))
                self._string_total += len(texts)
            payload: np.ndarray | list[str] = texts
        else:
            values = np.array(samples, copy=True)  # (n, C); ``samples`` is a view of dest
            assert self.buffer is not None
            if values.dtype.kind == "f":
                self._nan_samples += int(np.isnan(values).any(axis=1).sum())
            if any(gap.t1 < gap.t0 for gap in gaps):  # source clock jumped back
                logger.warning(
                    "timestamps of %s jumped backwards; buffer cleared", self.description
                )
                self.buffer.clear()
            self.buffer.push(stamps, values, received)
            payload = values
        with self._lock:
            self._samples += len(stamps)
            self._last_receipt = received
            self._recent.append((float(stamps[0]), float(stamps[-1]), len(stamps)))
            for gap in gaps:
                if gap.t0 > -math.inf:
                    self._gaps.append(gap)
                    self._gap_count += 1
        if self._on_chunk is not None:
            self._on_chunk(stamps, payload)

    # -- consumer API ----------------------------------------------------------------------
    def gaps(self, since: float = -math.inf) -> list[Gap]:
        """Recent gaps that end after ``since`` (LSL s), oldest first."""
        with self._lock:
            return [g for g in self._gaps if g.t1 > since]

    def markers(self, t0: float = -math.inf, t1: float = math.inf) -> list[tuple[float, str]]:
        """String samples ``(timestamp, text)`` with ``t0 <= timestamp <= t1`` (string streams)."""
        with self._lock:
            return [(t, s) for t, s in self._strings if t0 <= t <= t1]

    def markers_after(self, count: int) -> tuple[int, list[tuple[float, str]]]:
        """String samples received after the first ``count`` (for incremental consumers).

        Returns:
            ``(total, new)``: pass ``total`` as ``count`` next time; ``new`` holds the
            ``(timestamp, text)`` samples not seen yet that are still buffered.
        """
        with self._lock:
            total = self._string_total
            fresh = min(total - count, len(self._strings))
            new = list(self._strings)[len(self._strings) - fresh :] if fresh > 0 else []
            return total, new

    def newest(self, n: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Newest ``n`` numeric samples: ``(timestamps (k,), samples (k, C), received (k,))``."""
        if self.buffer is None:
            raise TypeError(f"{self.description} is a string stream; use markers()")
        return self.buffer.newest(n)

    def between(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Numeric samples with ``t0 <= timestamp <= t1`` (see :meth:`newest`)."""
        if self.buffer is None:
            raise TypeError(f"{self.description} is a string stream; use markers()")
        return self.buffer.between(t0, t1)

    @property
    def time_offset_s(self) -> float:
        return self._offset

    def health(self) -> StreamHealth:
        now = pylsl.local_clock()
        with self._lock:
            recent = list(self._recent)
            samples, last = self._samples, self._last_receipt
            gaps, nans = self._gap_count, self._nan_samples
        rate = 0.0
        age = now - last
        if recent and self.nominal_srate > 0:  # stale samples: stamped long before they came
            age = max(age, now - recent[-1][1])
        if recent and now - last <= RATE_WINDOW_S:
            t_end = recent[-1][1]
            window = [c for c in recent if c[1] >= t_end - RATE_WINDOW_S]  # the last ~2 s
            count = sum(n for _, _, n in window)
            span = t_end - min(t for t, _, _ in window)
            if count > 1 and span > 0:
                rate = (count - 1) / span
        return StreamHealth(
            samples=samples,
            rate_hz=rate,
            seconds_since_data=age,
            gaps=gaps,
            nan_samples=nans,
            time_offset_s=self._offset,
            error=None if self.error is None else repr(self.error),
        )

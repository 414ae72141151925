"""Record LSL streams into one XDF file with the LabRecorder engine (``labrecorder`` package).

The engine runs in a child process (:mod:`comodo_live.recording._engine`): destroying a
``labrecorder.Recording`` — the moment it writes footers and closes the file — holds the GIL for
several seconds, and its C++ code prints to stdout. Its output is forwarded to this module's
logger at INFO (a session's ``session.log`` keeps it). The child runs in its own session (process
group): signals sent to the app's group (Ctrl+C in a terminal, ``timeout``, a closed terminal)
never reach it; only a ``stop`` line from the app, or its stdin closing (the app died), ends it,
and it finalises the file either way. If the child itself is killed, pyxdf still loads the file
(no footers, last ~0.5 s lost).

Stop order for callers: stop the recorder *before* the sources. LabRecorder writes data about
0.5 s late, so :meth:`SessionRecorder.stop` keeps recording ``flush_s`` (0.6 s) after the request
— sources must still be pushing then — and returns once the footers are on disk.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import pylsl

from comodo_live.recording._engine import STATUS
from comodo_live.recording.xdf_cut import cut_after_last_chunk
from comodo_live.streams.resolve import StreamDescription, resolve_source_ids
from comodo_live.worker import StartStop, Worker

logger = logging.getLogger(__name__)

_STARTED_LINE = "Started data collection for stream"


class RecorderError(RuntimeError):
    """The recording engine failed to start or to finalise; the message has its last output."""


def footer_count(path: Path, tail_bytes: int = 4_000_000) -> int:
    """Number of LabRecorder stream footers near the end of an XDF file (0 = not finalised)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - tail_bytes))
        return f.read().count(b"<sample_count>")


def _disk_full(folder: Path, below_bytes: int = 2**20) -> bool:
    """True when the volume holding ``folder`` has less than ``below_bytes`` free."""
    try:
        return shutil.disk_usage(folder).free < below_bytes
    except OSError:
        return False


class _OutputPump(Worker):
    """Forwards the engine's output lines to ``on_line`` until the engine closes its output.

    The thread blocks in ``readline``, so the stop event cannot end it: it ends when the engine
    exits (or closes stdout). :meth:`stop` therefore first closes the engine's stdin — the
    engine then finalises the file and exits, as it does when this process dies — and joins.
    """

    def __init__(
        self,
        proc: subprocess.Popen[str],
        on_line: Callable[[str], None],
        on_end: Callable[[], None],
    ) -> None:
        super().__init__("recorder-output")
        self._proc = proc
        self._on_line = on_line
        self._on_end = on_end

    def stop(self, timeout_s: float = 5.0) -> None:
        stdin = self._proc.stdin
        if self.running and stdin is not None and self._proc.poll() is None:
            with contextlib.suppress(OSError):
                stdin.close()
        super().stop(timeout_s)

    def _loop(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            for raw in stdout:
                self._on_line(raw.rstrip())
        finally:
            self._on_end()


class SessionRecorder(StartStop):
    """Records the given streams (resolved by source_id) into ``path``.

    Args:
        path: the ``.xdf`` file to write (must not exist; parent folders are created).
        stream_infos: streams to record: resolved ``pylsl.StreamInfo`` objects or source_ids.
            Pass only streams found by a unique source_id: a vanished foreign stream in the
            list makes LabRecorder hang.
        watchfor: LSL predicates of streams to pick up when they appear later (e.g.
            ``["type='Markers'"]``); the engine re-resolves them every 5 s.
        flush_s: how long the engine keeps recording after a stop request, seconds.
        start_timeout_s: how long to wait for every stream's data connection, seconds.
        finalise_timeout_s: how long :meth:`wait` waits for the footers, seconds.
    """

    def __init__(
        self,
        path: Path,
        stream_infos: Sequence[pylsl.StreamInfo | str],
        watchfor: Sequence[str] | None = None,
        *,
        flush_s: float = 0.6,
        start_timeout_s: float = 10.0,
        finalise_timeout_s: float = 20.0,
        resolve_timeout_s: float = 5.0,
    ) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() != ".xdf":
            raise ValueError(f"path must end in .xdf, got {self.path}")
        if not stream_infos and not watchfor:
            raise ValueError("stream_infos is empty and nothing to watch for: nothing to record")
        if not (0 <= flush_s <= 10 and math.isfinite(flush_s)):
            raise ValueError(f"flush_s must be in [0, 10] seconds, got {flush_s}")
        wanted = [s for s in stream_infos if isinstance(s, str)]
        resolved = iter(resolve_source_ids(wanted, resolve_timeout_s))
        infos = [next(resolved) if isinstance(s, str) else s for s in stream_infos]
        self.streams = [StreamDescription.from_info(i) for i in infos]
        self._xml = [i.as_xml() for i in infos]
        self._watchfor = list(watchfor or [])
        self._flush_s = float(flush_s)
        self._start_timeout = start_timeout_s
        self._finalise_timeout = finalise_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._pump: _OutputPump | None = None
        self._output: deque[str] = deque(maxlen=50)
        self._started_streams = 0
        self._started = threading.Event()
        self._finalised = threading.Event()
        self._failed: str | None = None
        self._ready = False
        self._stop_requested = False

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True from start() until the engine has exited."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def finalised(self) -> bool:
        """True once the engine wrote the footers and closed the file."""
        return self._finalised.is_set()

    @property
    def pid(self) -> int | None:
        """Process id of the engine (for crash tests), or None before start."""
        return None if self._proc is None else self._proc.pid

    @property
    def bytes_written(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def start(self) -> SessionRecorder:
        """Start the engine and wait until every stream's data connection is open."""
        if self._proc is not None:
            raise RuntimeError(f"recorder for {self.path} was already started (one use only)")
        if self.path.exists():
            raise FileExistsError(f"will not overwrite existing recording {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "comodo_live.recording._engine", str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(os.environ),
            # Its own session and process group: Ctrl+C in a terminal, ``timeout``, systemd or a
            # closed terminal signal the app's whole group; only the app may end the recording.
            start_new_session=True,
        )
        # The pump holds no file; if this process exits without stop(), the pump's stop at exit
        # (or the process's death) closes the engine's stdin and it finalises the file itself.
        self._pump = _OutputPump(self._proc, self._on_output, self._started.set).start()
        config = {"streams": self._xml, "watchfor": self._watchfor, "flush_s": self._flush_s}
        self._send(json.dumps(config))
        self._started.wait(self._start_timeout)
        if not self._ready:
            self._kill()
            raise RecorderError(
                f"recording engine did not connect to all {len(self._xml)} streams within "
                f"{self._start_timeout} s ({self._failed or 'timeout'}); output: {self._tail()}"
            )
        return self

    def request_stop(self) -> None:
        """Ask the engine to finish (returns at once; see :meth:`wait`). Idempotent."""
        if self._proc is None or self._stop_requested:
            return
        self._stop_requested = True
        self._send("stop")

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until the file is finalised; kill the engine after ``timeout_s``.

        Returns:
            True when the footers are on disk (False: killed; the file still loads).
        """
        if self._proc is None:
            return False
        timeout = self._finalise_timeout + self._flush_s if timeout_s is None else timeout_s
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.error(
                "recording engine for %s did not finish in %s s; killed", self.path, timeout
            )
            self._kill()
        if self._pump is not None:
            self._pump.stop()
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        if self._finalised.is_set() and self.path.exists():
            return footer_count(self.path) >= len(self._xml)
        return False

    def stop(self, timeout_s: float | None = None) -> Path:
        """Stop recording and wait until the file is finalised. Idempotent.

        Raises:
            RecorderError: the engine failed or had to be killed (the file still loads).
        """
        if self._proc is None:
            return self.path
        self.request_stop()
        if not self.wait(timeout_s):
            if _disk_full(self.path.parent):
                # the file ends inside a chunk (a cut footer fails pyxdf): keep the whole ones
                cut = cut_after_last_chunk(self.path) if self.path.exists() else 0
                raise RecorderError(
                    f"recording {self.path} was not finalised: no space left on "
                    f"{self.path.parent} (cut after its last whole chunk, {cut} bytes dropped: "
                    "it loads up to where the disk filled)"
                )
            raise RecorderError(f"recording {self.path} was not finalised; output: {self._tail()}")
        return self.path

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.stop()
        else:  # do not mask the original error
            self.request_stop()
            self.wait()

    # -- engine I/O ------------------------------------------------------------------------
    def _send(self, line: str) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        try:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            logger.warning("recording engine for %s is gone: %s", self.path, exc)

    def _on_output(self, line: str) -> None:
        """One line of the engine's output (in the pump's thread)."""
        self._output.append(line)
        logger.info("recording engine: %s", line)  # in session.log
        # The engine's C++ threads print concurrently (one write per ``<<``), so lines can
        # interleave: look for the phrases anywhere in a line.
        found = line.count(_STARTED_LINE)
        if found:
            self._started_streams += found
            if self._started_streams >= len(self._xml):
                self._ready = True
                self._started.set()
        if STATUS in line:
            status = line.split(STATUS, 1)[1].strip()
            if status == "finalised":
                self._finalised.set()
            elif status.startswith("error"):
                self._failed = status
                self._started.set()
            elif status == "started" and not self._xml:
                self._ready = True
                self._started.set()

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5.0)
        if self._pump is not None:
            self._pump.stop()  # from the pump's own thread: returns without joining

    def _tail(self) -> str:
        return " | ".join(list(self._output)[-8:]) or "(none)"

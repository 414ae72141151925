"""Child process that runs the LabRecorder engine for :class:`~.recorder.SessionRecorder`.

Why a child process: destroying a ``labrecorder.Recording`` (which is when it writes the XDF
footers and closes the file) holds the GIL for ~3–6 s, freezing every Python thread of the
process, and its C++ code prints to stdout. Here it freezes nobody, its output is captured by
the parent, and a crash of the engine cannot take the app down.

Protocol (text lines): the parent writes one JSON line ``{"streams": [xml, ...], "watchfor":
[...], "flush_s": s}`` on stdin, then ``stop`` (or closes stdin: the parent died) to finish.
The child echoes LabRecorder's own lines and reports ``@@recorder <status>`` lines:
``started``, ``finalised`` or ``error <text>``.

Signals: the parent starts it in its own session, so signals to the app's process group do not
reach it. One sent to the child itself (SIGINT, SIGTERM, SIGHUP) counts as ``stop``: the file is
still finalised; further signals during finalisation are ignored.
"""

from __future__ import annotations

import contextlib
import gc
import json
import signal
import sys
import time
from types import FrameType

STATUS = "@@recorder"


class _XmlInfo:
    """What ``labrecorder.Recording`` needs of a stream info: its XML."""

    def __init__(self, xml: str) -> None:
        self._xml = xml

    def as_xml(self) -> str:
        return self._xml


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _StopSignal(Exception):
    """A stop signal arrived while waiting for ``stop``."""


class _Signals:
    """Stop signals: noted while the engine starts, raised into the wait for ``stop``."""

    def __init__(self) -> None:
        self.seen = False
        self.waiting = False
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.seen = True
        if self.waiting:
            self.waiting = False
            raise _StopSignal(signum)

    def wait_for_stop(self) -> None:
        """Block until ``stop``, EOF (the parent is gone) or a stop signal; then ignore them."""
        try:
            self.waiting = True
            if not self.seen:
                sys.stdin.readline()
        except _StopSignal:
            pass
        finally:
            self.waiting = False
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_IGN)  # finalisation is never interrupted


def _status(text: str) -> None:
    with contextlib.suppress(OSError):  # the parent is gone (its pipe is closed): finish anyway
        print(f"{STATUS} {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m comodo_live.recording._engine FILE.xdf", file=sys.stderr)
        return 2
    signals = _Signals()
    config = json.loads(sys.stdin.readline() or "{}")
    import labrecorder  # after comodo_live: its liblsl reads LSLAPICFG once

    try:
        recording = labrecorder.Recording(
            args[0],
            [_XmlInfo(x) for x in config.get("streams", [])],
            watchfor=list(config.get("watchfor", [])),
        )
    except Exception as exc:
        _status(f"error {exc!r}")
        return 1
    _status("started")
    signals.wait_for_stop()  # "stop", EOF (the parent is gone) or a signal: finish the file
    time.sleep(float(config.get("flush_s", 0.6)))  # its last ~0.5 s are written only if we wait
    recording.stop()
    del recording  # writes the footers and closes the file (blocks a few seconds)
    gc.collect()
    _status("finalised")
    with contextlib.suppress(OSError):
        sys.stdout.close()  # a closed pipe is reported here, not as "Exception ignored" at exit
    return 0


if __name__ == "__main__":
    sys.exit(main())

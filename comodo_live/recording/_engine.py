"""Child process that runs the LabRecorder engine for :class:`~.recorder.SessionRecorder`.

Why a child process: destroying a ``labrecorder.Recording`` (which is when it writes the XDF
footers and closes the file) holds the GIL for ~3–6 s, freezing every Python thread of the
process, and its C++ code prints to stdout. Here it freezes nobody, its output is captured by
the parent, and a crash of the engine cannot take the app down.

Protocol (text lines): the parent writes one JSON line ``{"streams": [xml, ...], "watchfor":
[...], "flush_s": s}`` on stdin, then ``stop`` (or closes stdin: the parent died) to finish.
The child echoes LabRecorder's own lines and reports ``@@recorder <status>`` lines:
``started``, ``finalised`` or ``error <text>``.
"""

from __future__ import annotations

import gc
import json
import sys
import time

STATUS = "@@recorder"


class _XmlInfo:
    """What ``labrecorder.Recording`` needs of a stream info: its XML."""

    def __init__(self, xml: str) -> None:
        self._xml = xml

    def as_xml(self) -> str:
        return self._xml


def _status(text: str) -> None:
    print(f"{STATUS} {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m comodo_live.recording._engine FILE.xdf", file=sys.stderr)
        return 2
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
    sys.stdin.readline()  # "stop", or EOF when the parent is gone: finish the file either way
    time.sleep(float(config.get("flush_s", 0.6)))  # its last ~0.5 s are written only if we wait
    recording.stop()
    del recording  # writes the footers and closes the file (blocks a few seconds)
    gc.collect()
    _status("finalised")
    return 0


if __name__ == "__main__":
    sys.exit(main())

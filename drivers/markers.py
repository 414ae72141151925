"""String marker stream for activity labels and mode changes (camera on/off).

Vocabulary (:mod:`comodo_live.streams.names`): ``label:start:<activity>``, ``label:stop``,
``activity:<name>`` (synthetic ground truth), ``camera:on``, ``camera:off``; and from the camera
driver ``video:start:<file name>`` / ``video:stop:<file name>`` (:data:`VIDEO_START`,
:data:`VIDEO_STOP`). Labels from other lab software arrive the same way: any LSL string stream
of type ``Markers``.

CLI: ``python -m drivers.markers --send label:start:walking --send label:stop``.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import logging
import sys
import threading
import time
import uuid

import pylsl

from comodo_live.streams import names
from comodo_live.worker import StartStop

from ._lsl import make_stream_info

logger = logging.getLogger(__name__)

VIDEO_START = "video:start:"  # + video file name: frame-index values now count frames of that file
VIDEO_STOP = "video:stop:"  # + video file name: the file was finished

_EXACT = (names.MARKER_LABEL_STOP, names.MARKER_CAMERA_ON, names.MARKER_CAMERA_OFF)
_PREFIXES = (names.MARKER_LABEL_START, names.MARKER_ACTIVITY, VIDEO_START, VIDEO_STOP)


def known_marker(text: str) -> bool:
    """Whether ``text`` belongs to comodo-live's marker vocabulary."""
    if text in _EXACT:
        return True
    return any(text.startswith(p) and len(text) > len(p) for p in _PREFIXES)


class MarkerOutlet(StartStop):
    """An irregular LSL string stream of type ``Markers``.

    No thread of its own: ``start()`` creates the outlet, ``stop()`` destroys it. Pushing is
    thread-safe (the camera driver and the synthetic script push from their threads).

    Args:
        source_id: unique LSL source id.
        name: stream name.
    """

    def __init__(self, source_id: str, name: str = "Markers") -> None:
        if not source_id:
            raise ValueError(f"source_id must be a non-empty string, got {source_id!r}")
        self.source_id = source_id
        self.name = name
        self._outlet: pylsl.StreamOutlet | None = None
        self._lock = threading.Lock()
        self.pushed = 0

    @property
    def running(self) -> bool:
        return self._outlet is not None

    def start(self) -> MarkerOutlet:
        with self._lock:
            if self._outlet is None:
                info = make_stream_info(
                    self.name,
                    names.MARKER_TYPE,
                    self.source_id,
                    rate_hz=0.0,
                    channel_format=pylsl.cf_string,
                    labels=("marker",),
                    meta={"vocabulary": " ".join((*_EXACT, *(p + "<name>" for p in _PREFIXES)))},
                )
                self._outlet = pylsl.StreamOutlet(info)
        return self

    def stop(self) -> None:
        with self._lock:
            self._outlet = None

    def push(self, text: str, timestamp: float | None = None) -> float:
        """Push one marker; returns its LSL timestamp (``timestamp`` or now)."""
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty string, got {text!r}")
        stamp = pylsl.local_clock() if timestamp is None else float(timestamp)
        with self._lock:
            if self._outlet is None:
                raise RuntimeError("MarkerOutlet.push() before start()")
            self._outlet.push_sample([text], stamp)
            self.pushed += 1
        return stamp

    def wait_for_consumers(self, timeout: float) -> bool:
        """Block until an inlet is connected (or ``timeout`` s passed)."""
        outlet = self._outlet
        return outlet is not None and bool(outlet.wait_for_consumers(timeout))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.markers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--send", action="append", default=[], help="marker text (repeatable)")
    parser.add_argument("--stdin", action="store_true", help="push each line read from stdin")
    parser.add_argument("--source-id", default=f"comodo-markers-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--name", default="Markers")
    parser.add_argument(
        "--wait-consumers",
        type=float,
        default=5.0,
        metavar="S",
        help="wait up to S seconds for a reader before sending (default 5)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=1.0,
        metavar="S",
        help="keep the outlet open S seconds after sending (default 1)",
    )
    args = parser.parse_args(argv)
    if not args.send and not args.stdin:
        parser.error("give --send TEXT and/or --stdin")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with MarkerOutlet(args.source_id, args.name) as outlet:
        print(f"marker stream source_id={args.source_id}", flush=True)
        if not outlet.wait_for_consumers(args.wait_consumers):
            logger.warning("no reader connected within %.1f s; sending anyway", args.wait_consumers)
        lines = list(args.send)
        for text in lines:
            if not known_marker(text):
                logger.warning("%r is not in comodo-live's marker vocabulary", text)
            print(f"{outlet.push(text):.6f} {text}", flush=True)
        if args.stdin:
            for line in sys.stdin:
                if line.strip():
                    print(f"{outlet.push(line.strip()):.6f} {line.strip()}", flush=True)
        time.sleep(max(0.0, args.duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())

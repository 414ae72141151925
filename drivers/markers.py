"""String marker stream for activity labels and mode changes (camera on/off).

The outlet and its vocabulary live in the core (:mod:`comodo_live.streams.markers`, the engine
has a marker stream of its own); re-exported here for the drivers and this CLI.

CLI: ``python -m drivers.markers --send label:start:walking --send label:stop``.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import logging
import sys
import time
import uuid

from comodo_live.streams.markers import VIDEO_START as VIDEO_START
from comodo_live.streams.markers import VIDEO_STOP as VIDEO_STOP
from comodo_live.streams.markers import MarkerOutlet as MarkerOutlet
from comodo_live.streams.markers import known_marker as known_marker

logger = logging.getLogger(__name__)


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

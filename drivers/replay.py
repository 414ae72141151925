"""Replay a recorded session (``.xdf`` file or session folder) as live LSL streams.

Every stream is re-published with its original relative timing (jitter and gaps kept) and
metadata under a new unique source_id; the session video's frames are served on the local frame
bus of the replayed frame-index stream (in-process consumers only).

CLI: ``python -m drivers.replay SESSION [--speed 2] [--loop] [--duration S]``.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import logging
import sys
import time
from pathlib import Path

from comodo_live.recording.frameserver import FrameServer
from comodo_live.recording.player import XdfPlayer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.replay", description=__doc__.split("\n")[0]
    )
    parser.add_argument("session", type=Path, help="an .xdf file or a session folder")
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed factor (default 1)")
    parser.add_argument("--loop", action="store_true", help="start over at the end")
    parser.add_argument("--suffix", default=None, help="source_id suffix (default: random)")
    parser.add_argument("--no-frames", action="store_true", help="do not decode the session video")
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="S",
        help="stop after S seconds (0 = at the end, or never with --loop)",
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    # "--suffix -x": argparse would take "-x" for an option; a suffix may start with a dash.
    for i in range(len(argv) - 1):
        if argv[i] == "--suffix":
            argv[i : i + 2] = [f"--suffix={argv[i + 1]}"]
            break
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        player = XdfPlayer(
            args.session,
            speed=args.speed,
            loop=args.loop,
            source_id_suffix=args.suffix,
            frames=not args.no_frames,
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not any(len(track) for track in player.tracks):
        print(
            f"warning: {args.session} holds no samples ({len(player.tracks)} stream header(s)): "
            "nothing to replay",
            file=sys.stderr,
            flush=True,
        )
    for track in player.tracks:
        print(
            f"{track.name!r} type={track.type!r} samples={len(track)} "
            f"source_id={track.source_id!r}",
            flush=True,
        )
    server = player.frame_server
    if server is not None:
        origin = (
            server.video.name
            if isinstance(server, FrameServer)
            else f"stream {server.track.name!r}"
        )
        print(
            f"serving frames of {origin} on frame bus {server.source_id!r} "
            "(in-process consumers only)",
            flush=True,
        )
    print(f"duration {player.duration_s:.2f} s at speed {args.speed}", flush=True)
    deadline = time.monotonic() + args.duration if args.duration > 0 else float("inf")
    with player:
        try:
            while time.monotonic() < deadline and not player.wait(0.1):
                pass
        except KeyboardInterrupt:
            pass
    pushed = sum(t.pushed for t in player.tracks)
    print(f"pushed {pushed} samples in {player.passes + 1} pass(es)", flush=True)
    return 1 if player.error is not None else 0


if __name__ == "__main__":
    sys.exit(main())

"""``python app.py [options]``: a session in the desktop window, or headless.

    python app.py --headless --demo --duration 60
    python app.py --headless --replay recordings/<session>/session.xdf --camera-off-after 30
    python app.py --headless --replay recordings/<session>/ --speed max   # deterministic fast replay
    python app.py --demo                  # the window (gui.app.run)
    python app.py --config my.toml --set window.hop_s=0.25 --set session.name=alice
    python app.py --headless --resume exported/    # continue from an exported model package
    python app.py --markers my-lab-markers         # labels from another program's LSL markers
    python app.py --lsl-lan --demo                 # LSL visible on the local network (warned)

Headless: prints a status line every few seconds (camera state, steps/s, loss, teacher clips/s
and skipped clips, current prediction), writes the session folder, and stops cleanly on
Ctrl+C / SIGTERM / SIGHUP (any number, to it or its process group: one clean stop within
15 s, see :mod:`comodo_app.signals`) or after ``--duration`` seconds (or at the end of a
non-looping replay).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comodo_app.checks import input_problem
from comodo_app.signals import ShutdownSignals, close_video_of
from comodo_live.config import AppConfig, ConfigError, load_config
from comodo_live.learning.seed import is_package
from comodo_live.session.demo_labeller import DemoLabeller
from comodo_live.session.snapshot import EngineSnapshot, streams_summary
from comodo_live.worker import Worker

if TYPE_CHECKING:  # the controller (torch) and pylsl load only once the flags are applied
    from comodo_live.session.controller import Controller

REPLAY_DRAIN_S = 3.0  # after a replay ends, let the last windows through


def replay_speed(text: str) -> float:
    """``--speed``: a factor > 0, or ``max`` (returned as ``math.inf``: fast replay)."""
    if text.strip().lower() == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--speed must be a number > 0 or 'max', got {text!r}"
        ) from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"--speed must be a number > 0 or 'max', got {text!r}")
    return value


def seconds(text: str) -> float:
    """A duration option: a finite number of seconds >= 0 (``nan`` would never stop)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="comodo-live run",
        description="comodo-live: continual video→IMU distillation, IMU-only recognition.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--demo", action="store_true", help="run on the synthetic demo session")
    source.add_argument(
        "--replay", metavar="FILE.xdf", help="replay a recorded session (file or folder)"
    )
    parser.add_argument("--headless", action="store_true", help="no window: status lines on stdout")
    parser.add_argument(
        "--duration", type=seconds, default=None, metavar="S", help="stop after S seconds"
    )
    parser.add_argument(
        "--camera-off-after",
        type=seconds,
        default=None,
        metavar="S",
        help="switch the camera off (privacy mode) after S seconds",
    )
    parser.add_argument(
        "--config", metavar="FILE.toml", help="configuration file (default: built-in defaults)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value (repeatable), e.g. --set window.hop_s=0.25",
    )
    parser.add_argument("--name", help="session name (session.name)")
    parser.add_argument("--root", help="folder for session folders (session.root)")
    parser.add_argument(
        "--resume",
        metavar="latest|PATH",
        help="resume learning from a session checkpoint ('latest': the newest session whose "
        "checkpoint reads back; unreadable newer ones are skipped and named; none at all is an "
        "error, exit 2), or start from an exported model package folder (checked against its "
        "manifest hashes: integrity, not authenticity)",
    )
    parser.add_argument(
        "--markers",
        action="append",
        default=[],
        metavar="SOURCE_ID",
        help="also follow this LSL marker stream (repeatable; a source_id or e.g. "
        "'type=Markers,name=X'; optional: joins when it appears): label:start:<name> / "
        "label:stop from other lab software label windows (session.marker_source_ids)",
    )
    parser.add_argument(
        "--lsl-lan",
        action="store_true",
        help="open LSL to the local network (multi-machine setups; default: this machine only). "
        "Streams become visible, unauthenticated and unencrypted, to every machine on the LAN",
    )
    parser.add_argument(
        "--no-record", action="store_true", help="do not record XDF/video (session.record=false)"
    )
    parser.add_argument(
        "--speed",
        type=replay_speed,
        help="replay speed factor (source.replay_speed), or 'max': deterministic fast replay "
        "of every window and clip in lockstep, as fast as the machine allows (--headless)",
    )
    parser.add_argument("--loop", action="store_true", help="loop the replay (source.replay_loop)")
    parser.add_argument(
        "--labels",
        metavar="FILE.csv",
        help="replay only: label file, start,stop,activity rows in seconds from the recording's "
        "first IMU sample (source.replay_labels)",
    )
    parser.add_argument(
        "--label-map",
        action="append",
        default=[],
        metavar="FROM=TO",
        help="replay only: map the recording's markers of another vocabulary, e.g. "
        "'walk_start=label:start:walk' or 'walk_end=label:stop' (repeatable), or a file of such "
        "lines (source.replay_label_map)",
    )
    parser.add_argument(
        "--status-every", type=seconds, default=5.0, metavar="S", help="headless status period, s"
    )
    parser.add_argument(
        "--demo-labels",
        type=seconds,
        metavar="S",
        help="demo only: label each scripted activity once for S seconds, from the script's "
        "ground truth (as a user pressing the activity buttons would)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    return parser


def config_from_args(args: argparse.Namespace) -> AppConfig:
    """Defaults ← ``--config`` ← ``--set`` ← the main flags."""
    overrides: dict[str, Any] = {}
    if args.demo:
        overrides["source.mode"] = "demo"
    if args.replay:
        overrides["source.mode"] = "replay"
        overrides["source.replay_path"] = args.replay
    for flag, key in (
        ("name", "session.name"),
        ("root", "session.root"),
        ("resume", "session.resume"),
        ("speed", "source.replay_speed"),
    ):
        if flag == "speed" and args.speed == math.inf:
            continue  # --speed max: fast replay (comodo_live/session/fast_replay.py)
        if getattr(args, flag) is not None:
            overrides[key] = getattr(args, flag)
    if args.no_record:
        overrides["session.record"] = False
    if args.loop:
        overrides["source.replay_loop"] = True
    if args.labels is not None:
        overrides["source.replay_labels"] = args.labels
    if args.label_map:
        overrides["source.replay_label_map"] = tuple(args.label_map)
    config = load_config(args.config, args.set)
    if args.markers:
        ids = (*config.session.marker_source_ids, *args.markers)
        overrides["session.marker_source_ids"] = tuple(dict.fromkeys(ids))
    return config.replace(overrides) if overrides else config


def replay_labels_problem(config: AppConfig) -> str | None:
    """Why ``source.replay_labels`` / ``replay_label_map`` cannot be read, or None."""
    from comodo_live.recording.labels_in import parse_label_map, read_label_csv

    src = config.source
    try:
        if src.replay_labels:
            read_label_csv(src.replay_labels)
        parse_label_map(src.replay_label_map)
    except (OSError, ValueError) as exc:
        return f"--labels / --label-map: {exc}"
    return None


LAN_WARNING = (
    "--lsl-lan: LSL discovery opened to the local network; the session's streams (IMU, markers, "
    "frame index) are visible to every machine on the LAN, without authentication or encryption"
)


def open_lsl_to_lan(config: AppConfig) -> Path:
    """``--lsl-lan``: write a LAN-scoped liblsl config under ``session.root`` and point
    ``LSLAPICFG`` at it. Must run before pylsl is imported (``app.py`` and this module import
    no pylsl at import time).

    Raises:
        RuntimeError: pylsl (or labrecorder) is already imported in this process.
    """
    from comodo_live.lslconfig import use_lan_config

    path = use_lan_config(Path(config.session.root))
    print(f"warning: {LAN_WARNING} (config: {path})", file=sys.stderr, flush=True)
    return path


def status_line(elapsed_s: float, snap: EngineSnapshot) -> str:
    """One human-readable line of the engine's state."""
    train = snap.train
    learning = snap.waiting or "waiting for pairs"
    if train is not None:
        learning = f"step {train.step}, {train.steps_per_s:4.1f} steps/s, loss {train.loss:.3f}, queue {train.queue_fill:.0%}"
    prediction = "-"
    if snap.prediction is not None and snap.prediction.probabilities:
        prediction = f"{snap.prediction.label} ({snap.prediction.confidence:.2f})"
    elif not snap.activities:
        prediction = "- (no activity labelled yet)"
    teacher = ""
    if snap.teacher_prediction is not None and snap.teacher_prediction.probabilities:
        teacher = f" | teacher says {snap.teacher_prediction.label}"
    camera = "camera ON " if snap.camera_on else "camera OFF"
    errors = f" | errors: {len(snap.errors)}" if snap.errors else ""
    errors += "".join(f" | {warning}" for warning in snap.imu_warnings)
    errors += f" | {snap.disk_warning}" if snap.disk_warning else ""
    gain = f" | {snap.distillation_gain}" if snap.distillation_gain else ""
    streams = f" | streams: {streams_summary(snap.streams)}" if snap.streams else ""
    return (
        f"[{elapsed_s:7.1f} s] {camera} | {learning} | teacher {snap.teacher_clips_per_s:.1f} clips/s, "
        f"{snap.teacher_skipped} skipped | prediction {prediction}{teacher}{gain}{streams}{errors}"
    )


def run_headless(controller: Any, args: argparse.Namespace) -> int:
    """Run until the duration, a signal, or the end of the replay; returns the exit code.

    SIGINT / SIGTERM / SIGHUP (any number, to the app or its process group): one clean stop,
    never interrupted, with a hard deadline (:mod:`comodo_app.signals`).
    """
    stop = ShutdownSignals(emergency=close_video_of(controller)).install()
    try:
        try:
            controller.start()
        except Exception as exc:  # a bad file or setting found at start: nothing was kept
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 2
        print(f"session folder: {controller.session_dir}", flush=True)
        resumed = getattr(controller.pipeline, "resumed_from", None)
        if resumed is not None:
            print(f"resumed learning from {resumed}", flush=True)
        t0 = time.monotonic()
        next_status = t0 + args.status_every
        duration = args.duration if args.duration is not None else math.inf
        camera_off_at = args.camera_off_after if args.camera_off_after is not None else math.inf
        replay_done_at = math.inf
        while not stop.wait(0.1):
            elapsed = time.monotonic() - t0
            if elapsed >= camera_off_at and controller.camera_on:
                controller.set_camera(False)
                print(f"[{elapsed:7.1f} s] camera switched OFF (privacy mode)", flush=True)
            if time.monotonic() >= next_status:
                next_status += args.status_every
                print(status_line(elapsed, controller.snapshot()), flush=True)
            if getattr(controller.sources, "finished", False) and replay_done_at == math.inf:
                replay_done_at = elapsed
                print(f"[{elapsed:7.1f} s] replay finished", flush=True)
            if elapsed >= duration or elapsed >= replay_done_at + REPLAY_DRAIN_S:
                break
    finally:
        controller.stop()
        stop.close()  # after a signal, its handlers stay until the process exits
    snap = controller.snapshot()
    print(f"stopped; session folder: {controller.session_dir}", flush=True)
    for error in snap.errors:
        print(f"error: {error}", flush=True)
    return stop.finish(0)  # after a signal: exits now (the session is stopped and saved)


class _CameraOffLater(Worker):
    """GUI mode: privacy mode ``after_s`` seconds after the controller started running."""

    def __init__(self, controller: Any, after_s: float) -> None:
        super().__init__("camera-off-later")
        self.controller = controller
        self.after_s = after_s

    def _loop(self) -> None:
        deadline = time.monotonic() + 120.0
        while not self.controller.running and time.monotonic() < deadline:
            if self._stop_event.wait(0.05):
                return
        if not self._stop_event.wait(self.after_s) and self.controller.running:
            self.controller.set_camera(False)


def _load_package(path: str) -> Any:
    """Validate an exported package for ``--resume``; None (message printed) if refused."""
    from comodo_live.learning.seed import load_seed
    from comodo_live.runtime.package import PackageError

    try:
        package = load_seed(path)
    except (PackageError, OSError, ValueError) as exc:
        print(f"error: --resume {path}: package refused: {exc}", file=sys.stderr, flush=True)
        return None
    print(
        f"starting from package {path}: activities {list(package.activities)}",
        flush=True,
    )
    return package


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        parser.error(str(exc))
    if problem := input_problem(config, headless=args.headless):
        parser.error(problem)
    if (args.labels is not None or args.label_map) and not args.replay:
        parser.error("--labels and --label-map need --replay FILE (for a recording)")
    if problem := replay_labels_problem(config):
        parser.error(problem)
    if args.speed == math.inf:
        if not (args.headless and args.replay):
            parser.error("--speed max needs --headless and --replay FILE")
        from comodo_live.session.fast_replay import run_cli

        return run_cli(config, status_every_s=args.status_every)
    if args.lsl_lan:
        try:
            open_lsl_to_lan(config)
        except (RuntimeError, OSError) as exc:
            print(f"error: --lsl-lan: {exc}", file=sys.stderr, flush=True)
            return 2
    package = None
    if args.resume and is_package(args.resume):
        package = _load_package(args.resume)
        if package is None:
            return 2
    from comodo_live.session.controller import Controller
    from drivers.sources import make_sources

    controller = Controller(config, sources_factory=make_sources, package=package)
    labeller = None
    if args.demo_labels is not None:
        if config.source.mode != "demo":
            parser.error(
                "--demo-labels needs --demo (it labels from the demo script's ground truth)"
            )
        labeller = DemoLabeller(controller, label_s=args.demo_labels).start()
    try:
        if args.headless:
            try:
                return run_headless(controller, args)
            except BrokenPipeError:
                raise  # stdout closed (piped into head): comodo_app.main exits quietly
            except Exception as exc:
                print(f"error: {exc}", file=sys.stderr, flush=True)
                return 1
        return _run_window(controller, args)
    finally:
        if labeller is not None:
            labeller.stop()


def _run_window(controller: Controller, args: argparse.Namespace) -> int:
    from gui.app import run  # the window (Qt): imported only without --headless

    warnings = [LAN_WARNING] if args.lsl_lan else []

    stop = ShutdownSignals(emergency=close_video_of(controller)).install()
    try:  # the window closes (and stops the session) on the first signal; see comodo_app.signals
        if args.camera_off_after is None:
            code = int(run(controller, args.duration, lambda: stop.requested, warnings))
        else:
            with _CameraOffLater(controller, args.camera_off_after):  # joined on return
                code = int(run(controller, args.duration, lambda: stop.requested, warnings))
    finally:
        stop.close()
    return stop.finish(code)  # after a signal: exits now (the session is stopped and saved)

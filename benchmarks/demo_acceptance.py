"""Demo acceptance: camera-on distillation with one ~10 s label per activity, then IMU-only accuracy.

The whole app pipeline runs in real time on the synthetic demo session (drivers over LSL →
readers → windower → teacher → trainer → classifier → predictor, recording included):

1. camera on for ``--distill-s`` seconds; during the first pass through the script one stretch of
   ``--label-s`` seconds inside each activity is labelled (``start_label`` / ``stop_label``);
2. camera off (privacy mode) for ``--eval-s`` seconds: the app's own IMU-only predictions are
   scored against the script's ground truth (windows entirely inside one activity);
3. the same classifier (logistic regression on the same labelled windows, same smoothing and
   threshold) on an untrained student (the same initial weights, the same IMU normalisation)
   is scored on the very same camera-off windows; so is the final EMA student, offline.

Optionally (``--gopro``) the real GoPro walk (../shared/data/video_imu, converted to an XDF
session) is replayed through the same app pipeline and what it did is reported.

    python benchmarks/demo_acceptance.py            # ~7 min on 2 cores
    python benchmarks/demo_acceptance.py --gopro-only --gopro-s 60
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pylsl
import torch
from _machine import machine  # benchmarks/ is on sys.path when run as a script

from comodo_live.config import AppConfig, load_config
from comodo_live.head import Smoother, fit_head
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pipeline import build_student
from comodo_live.learning.refit import encode_windows
from comodo_live.learning.state import load_state
from comodo_live.metrics import read_metrics
from comodo_live.records import PairedWindow
from comodo_live.session.controller import Controller
from drivers.sources import make_sources

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED = Path(os.environ.get("COMODO_SHARED_DATA", ROOT.parent / "shared" / "data"))


class WindowTap:
    """Keeps the camera-off windows the engine sees (IMU data + times), for offline baselines."""

    def __init__(self) -> None:
        self.windows: list[tuple[float, float, np.ndarray]] = []
        self._lock = threading.Lock()

    def __call__(self, paired: PairedWindow) -> None:
        if not paired.imu.camera_on:
            with self._lock:
                self.windows.append((paired.imu.t_start, paired.imu.t_end, paired.imu.data.copy()))


def status(ctl: Controller, t0: float, note: str = "") -> None:
    from comodo_app.cli import status_line

    print(status_line(time.monotonic() - t0, ctl.snapshot()) + note, flush=True)


def score_offline(
    model: torch.nn.Module,
    config: AppConfig,
    labelled: np.ndarray,
    labels: list[str],
    activities: tuple[str, ...],
    windows: np.ndarray,
    truth: list[str | None],
) -> dict[str, float]:
    """Fit the predictor's head on ``labelled`` with ``model`` and score the smoothed sequence."""
    pc = config.predictor
    head = fit_head(
        encode_windows(model, labelled),
        labels,
        activities,
        pc.min_windows_per_activity,
        pc.classifier_c,
        pc.anchor_temperature,
    )
    assert head is not None
    probs = head.probabilities(encode_windows(model, windows))  # (W, K)
    smoother = Smoother(pc.smoothing_alpha, pc.confidence_threshold)
    strict, top1, n = 0, 0, 0
    for row, gt in zip(probs, truth, strict=True):
        pred = smoother(dict(zip(head.activities, map(float, row), strict=True)), 0.0, "student")
        if gt is None:
            continue
        n += 1
        strict += pred.label == gt
        top1 += max(pred.probabilities, key=pred.probabilities.__getitem__) == gt
    return {"accuracy": strict / max(n, 1), "top1_ignoring_unknown": top1 / max(n, 1), "windows": n}


def run_demo(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    config = load_config(
        args.config,
        [*args.set, "source.mode=demo", f"session.root={root}", "session.name=acceptance"],
    )
    ctl = Controller(config, sources_factory=make_sources)
    tap = WindowTap()
    ctl.add_window_listener(tap)
    t0 = time.monotonic()
    ctl.start()
    try:
        session = ctl.sources.session  # type: ignore[union-attr]
        motion = session.motion
        script = motion.script
        assert motion.t0 is not None
        label_plan = []
        for i, (activity, duration) in enumerate(script):
            start = motion.t0 + motion.segment_start(i) + (duration - args.label_s) / 2
            label_plan.append((activity, start, start + args.label_s))
        print(
            f"session {ctl.session_dir}; script {script}; labelling {args.label_s:.0f} s of each activity "
            f"in the first pass",
            flush=True,
        )
        pending = list(label_plan)
        next_status = time.monotonic() + 10
        distill_end = t0 + args.distill_s
        while time.monotonic() < distill_end:
            now = pylsl.local_clock()
            if pending and ctl.labels.labelling is None and now >= pending[0][1]:
                ctl.start_label(pending[0][0])
            if pending and ctl.labels.labelling is not None and now >= pending[0][2]:
                ctl.stop_label()
                pending.pop(0)
            if time.monotonic() >= next_status:
                next_status += 10
                status(ctl, t0)
            time.sleep(0.02)
        camera_snap = ctl.snapshot()
        ctl.set_camera(False)
        t_off = pylsl.local_clock()
        print(
            f"camera OFF at {time.monotonic() - t0:.0f} s; IMU-only evaluation for {args.eval_s:.0f} s",
            flush=True,
        )
        eval_end = time.monotonic() + args.eval_s
        while time.monotonic() < eval_end:
            time.sleep(1.0)
            if time.monotonic() >= next_status:
                next_status += 10
                status(ctl, t0)
        pipeline = ctl.pipeline
        assert pipeline is not None
        live = {
            "trainer_step": pipeline.trainer.step,
            "skipped_steps": pipeline.trainer.skipped_steps,
            "teacher_encoded": pipeline.teacher.stats().encoded,
            "teacher_skipped": pipeline.teacher.stats().skipped,
            "latency_p95_ms": pipeline.predictor.latency_p95_ms(),
            "agreement_camera_on": camera_snap.agreement_history[-1, 1]
            if len(camera_snap.agreement_history)
            else None,
            "labelled_windows": ctl.labels.counts(),
            "target_entropy": camera_snap.train.target_entropy if camera_snap.train else None,
            "mean_cosine": camera_snap.train.mean_cosine if camera_snap.train else None,
        }
        truth_of = ctl.streams.activity_over  # type: ignore[union-attr]
        eval_windows = [(a, b, d) for a, b, d in tap.windows if a > t_off]
        truth = [truth_of(a, b) for a, b, _ in eval_windows]
    finally:
        ctl.stop()
    session_dir = ctl.session_dir
    assert session_dir is not None
    records = [
        r for r in read_metrics(session_dir / "metrics.jsonl") if r.get("type") == "prediction"
    ]
    off = [r for r in records if not r["camera_on"] and r["t"] > t_off and r["truth"] is not None]
    live_acc = float(np.mean([r["label"] == r["truth"] for r in off])) if off else float("nan")
    confusion = Counter((r["truth"], r["label"]) for r in off)
    state = load_state(session_dir / "checkpoints" / "latest.pt")
    store = LabelStore()
    store.load_state(state["labels"])
    labelled, labels, _ = store.windows_by_stretch()  # (M, C, N), M names
    activities = tuple(store.activities)
    windows = np.stack([d for _, _, d in eval_windows])
    trained = build_student(config)
    trained.load_state_dict(state["ema_student"])
    untrained = build_student(config)
    untrained.set_channel_stats(state["imu_stats"]["mean"], state["imu_stats"]["std"])
    trained.eval()
    untrained.eval()
    offline_trained = score_offline(trained, config, labelled, labels, activities, windows, truth)
    offline_untrained = score_offline(
        untrained, config, labelled, labels, activities, windows, truth
    )
    return {
        "session_dir": str(session_dir),
        "activities": list(activities),
        "distill_s": args.distill_s,
        "eval_s": args.eval_s,
        "label_s": args.label_s,
        "live_imu_only_accuracy": live_acc,
        "live_predictions_scored": len(off),
        "live_confusion": {f"{t}->{p}": n for (t, p), n in sorted(confusion.items())},
        "offline_trained_ema": offline_trained,
        "offline_untrained_student": offline_untrained,
        "live": live,
        "targets": {"accuracy_min": 0.8, "above_untrained": True},
        "passed": bool(live_acc >= 0.8 and live_acc > offline_untrained["accuracy"]),
        "config": {
            k: v
            for k, v in json.loads(json.dumps(state["config"])).items()
            if k in ("window", "trainer", "teacher", "student", "predictor")
        },
    }


def run_gopro(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Replay the real GoPro walk (converted to an XDF session, looped) through the app pipeline."""
    video, csv = (
        SHARED / "video_imu" / "gopro_walk.mp4",
        SHARED / "video_imu" / "gopro_walk_imu.csv",
    )
    if not video.is_file():
        return {"skipped": f"{video} is absent"}
    from comodo_live.recording.convert import convert

    converted = root / "gopro_session"
    if not (converted / "session.xdf").exists():
        convert(video, csv, converted)
    config = load_config(
        args.config,
        [
            *args.set,
            "source.mode=replay",
            f"source.replay_path={converted}",
            "source.replay_loop=true",
            f"session.root={root}",
            "session.name=gopro",
        ],
    )
    ctl = Controller(config, sources_factory=make_sources)
    t0 = time.monotonic()
    ctl.start()
    try:
        ctl.start_label("walking")
        time.sleep(args.gopro_s / 2)
        ctl.stop_label()
        status(ctl, t0, " (camera on)")
        ctl.set_camera(False)
        time.sleep(args.gopro_s / 2)
        status(ctl, t0, " (camera off)")
        snap = ctl.snapshot()
        pipeline = ctl.pipeline
        assert pipeline is not None
        teacher = pipeline.teacher.stats()
        result = {
            "replayed": str(converted / "session.xdf"),
            "seconds": args.gopro_s,
            "trainer_step": pipeline.trainer.step,
            "loss": snap.train.loss if snap.train else None,
            "target_entropy": snap.train.target_entropy if snap.train else None,
            "mean_cosine": snap.train.mean_cosine if snap.train else None,
            "queue_fill": snap.train.queue_fill if snap.train else None,
            "teacher_clips_encoded": teacher.encoded,
            "teacher_skipped": teacher.skipped,
            "windows": pipeline.windows_seen,
            "predictions": pipeline.predictor.predicted,
            "labelled_windows": snap.labelled_windows,
            "last_prediction": None
            if snap.prediction is None
            else [snap.prediction.label, snap.prediction.confidence],
            "errors": list(snap.errors),
        }
    finally:
        ctl.stop()
    result["session_dir"] = str(ctl.session_dir)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--distill-s", type=float, default=180.0, help="camera-on distillation, s")
    parser.add_argument("--eval-s", type=float, default=120.0, help="camera-off evaluation, s")
    parser.add_argument(
        "--label-s", type=float, default=10.0, help="labelled stretch per activity, s"
    )
    parser.add_argument("--gopro", action="store_true", help="also replay the GoPro walk session")
    parser.add_argument("--gopro-only", action="store_true", help="only the GoPro replay")
    parser.add_argument("--gopro-s", type=float, default=60.0, help="GoPro replay duration, s")
    parser.add_argument("--config", help="config TOML (default: the built-in defaults)")
    parser.add_argument(
        "--set", action="append", default=[], help="config override section.key=value"
    )
    parser.add_argument("--root", help="session folders here (default: a temp dir)")
    parser.add_argument("--out", default=str(RESULTS / "demo_acceptance.json"))
    args = parser.parse_args(argv)
    root = Path(args.root) if args.root else Path(tempfile.mkdtemp(prefix="comodo-acceptance-"))
    started = time.monotonic()
    result: dict[str, Any] = {
        "schema": "demo_acceptance/1",
        "machine": machine(),
        "command": " ".join(sys.argv),
    }
    if not args.gopro_only:
        result["demo"] = run_demo(args, root)
        demo = result["demo"]
        print(
            json.dumps(
                {
                    k: demo[k]
                    for k in (
                        "live_imu_only_accuracy",
                        "offline_trained_ema",
                        "offline_untrained_student",
                        "passed",
                    )
                },
                indent=1,
            ),
            flush=True,
        )
    if args.gopro or args.gopro_only:
        result["gopro"] = run_gopro(args, root)
        print(json.dumps(result["gopro"], indent=1), flush=True)
    result["wall_s"] = time.monotonic() - started
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, default=float))
    print(f"wrote {args.out} ({result['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

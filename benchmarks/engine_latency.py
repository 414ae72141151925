"""Engine latency and throughput while the teacher and the trainer run (synthetic demo, real time).

Latency: from the local time the window's last IMU sample was received from LSL (≈ pushed:
loopback push→pull is ~0.1 ms) to the prediction being available, for every window after the
warm-up, with the default models, camera on (teacher encoding), trainer training, classifier
fitted on a few labelled windows. Throughput: optimiser steps/s of the trainer alongside the
teacher, and the teacher's clips/s, skipped clips and duty cycle.

    python benchmarks/engine_latency.py --seconds 90
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (first: sets LSLAPICFG before pylsl loads)

# isort: split
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from comodo_live.config import load_config
from comodo_live.metrics import read_metrics
from comodo_live.session.controller import Controller
from drivers.sources import make_sources

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_acceptance import RESULTS, machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=90.0, help="measured run after the warm-up, s"
    )
    parser.add_argument(
        "--warmup-s", type=float, default=30.0, help="labelling + first training, s"
    )
    parser.add_argument(
        "--set", action="append", default=[], help="config override section.key=value"
    )
    parser.add_argument("--out", default=str(RESULTS / "engine_latency.json"))
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="comodo-latency-"))
    config = load_config(
        overrides=[*args.set, "source.mode=demo", f"session.root={root}", "session.record=true"]
    )
    ctl = Controller(config, sources_factory=make_sources)
    started = time.monotonic()
    ctl.start()
    samples: list[dict[str, Any]] = []
    try:
        pipeline = ctl.pipeline
        assert pipeline is not None
        # label whatever the demo does now, twice, so the predictor has a fitted head
        for name in ("first", "second"):
            ctl.start_label(name)
            time.sleep(args.warmup_s / 4)
            ctl.stop_label()
            time.sleep(args.warmup_s / 4)
        start_predictions = pipeline.predictor.predicted
        t_measure = time.monotonic()
        while time.monotonic() - t_measure < args.seconds:
            time.sleep(1.0)
            snap = ctl.snapshot()
            teacher = pipeline.teacher.stats()
            samples.append(
                {
                    "steps_per_s": pipeline.trainer.steps_per_s(),
                    "teacher_clips_per_s": teacher.clips_per_s,
                    "teacher_duty": teacher.duty,
                    "camera_on": snap.camera_on,
                }
            )
        predicted = pipeline.predictor.predicted - start_predictions
        step_count = pipeline.trainer.step
        teacher = pipeline.teacher.stats()
        predictor_skipped = pipeline.predictor.skipped
    finally:
        ctl.stop()
    assert ctl.session_dir is not None
    records = read_metrics(ctl.session_dir / "metrics.jsonl")
    wall_measure = (
        [r for r in records if r.get("type") == "prediction"][-predicted:] if predicted else []
    )
    latencies = np.array([r["latency_ms"] for r in wall_measure], dtype=np.float64)
    steps = np.array([s["steps_per_s"] for s in samples[5:]])
    clips = np.array([s["teacher_clips_per_s"] for s in samples[5:]])
    duty = np.array([s["teacher_duty"] for s in samples[5:]])
    result = {
        "schema": "engine_latency/1",
        "machine": machine(),
        "command": " ".join(sys.argv),
        "config": {
            "window_s": config.window.window_s,
            "hop_s": config.window.hop_s,
            "rate_hz": config.window.rate_hz,
            "teacher": config.teacher.name,
            "teacher_frames": config.teacher.frames,
            "teacher_size_px": config.teacher.size_px,
            "student_width": config.student.width,
            "batch_size": config.trainer.batch_size,
            "torch_threads": config.trainer.torch_threads,
        },
        "predictions": int(latencies.size),
        "predictor_skipped_stale": predictor_skipped,
        "latency_ms": {
            "p50": float(np.percentile(latencies, 50)),
            "p95": float(np.percentile(latencies, 95)),
            "p99": float(np.percentile(latencies, 99)),
            "max": float(latencies.max()),
        },
        "trainer_steps_per_s": {"mean": float(steps.mean()), "min": float(steps.min())},
        "trainer_steps_total": step_count,
        "teacher_clips_per_s_mean": float(clips.mean()),
        "teacher_duty_mean": float(duty.mean()),
        "teacher_skipped": teacher.skipped,
        "teacher_encoded": teacher.encoded,
        "targets": {"latency_p95_ms_max": 50.0, "trainer_steps_per_s_min": 5.0},
        "passed": bool(np.percentile(latencies, 95) <= 50.0 and steps.mean() >= 5.0),
        "wall_s": time.monotonic() - started,
    }
    print(json.dumps(result, indent=1))
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

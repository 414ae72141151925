"""Speed of the default student and teacher on this machine.

Measures, for each torch thread count asked for:
- student batch-1 inference latency (eval, ``inference_mode``), median and p95 ms, 2 s windows
  @ 50 Hz (6 × 100): ``forward`` (with the projection head, what training uses) and ``encode``
  (backbone only, what the live classifier uses);
- student training steps/s at batch 64: forward + backward + AdamW step with the COMODO loss
  against a full 4096-entry queue, then the FIFO enqueue;
- EfficientNet-Lite0 teacher clips/s at the default settings (8 frames, 224², 4 segments),
  clips of 16 frames 240 × 320 uint8, 4 clips per call.

Prints the machine and saves ``benchmarks/results/student_speed.json``. The CPU may be shared
with other jobs: the load average before and after is recorded with the figures, and process
CPU time is recorded next to wall time (with one thread, CPU time per step approximates the
wall time on an otherwise idle core).

Usage: ``python benchmarks/student_speed.py [--threads 1 2] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from comodo_live.models import ComodoLoss, ImuStudent
from comodo_live.models.teachers import build_teacher

RESULTS = Path(__file__).resolve().parent / "results" / "student_speed.json"


def inference_latency_ms(student: ImuStudent, repeats: int, encode_only: bool) -> dict[str, float]:
    student.eval()
    model = student.encode if encode_only else student
    x = torch.randn(1, 6, 100)  # (1, C, N)
    times, cpu_times = [], []
    with torch.inference_mode():
        for _ in range(20):
            model(x)
        for _ in range(repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            model(x)
            times.append((time.perf_counter() - start) * 1e3)
            cpu_times.append((time.process_time() - cpu_start) * 1e3)
    return {
        "median_ms": float(np.median(times)),
        "p95_ms": float(np.percentile(times, 95)),
        "cpu_mean_ms": float(np.mean(cpu_times)),
    }


def train_steps_per_s(student: ImuStudent, steps: int) -> dict[str, float]:
    student.train()
    criterion = ComodoLoss(queue_size=4096, dim=128)
    criterion.enqueue(F.normalize(torch.randn(4096, 128), dim=1))
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3)
    x = torch.randn(64, 6, 100)  # (B, C, N)
    z_v = F.normalize(torch.randn(64, 128), dim=1)  # (B, D)
    for i in range(steps + 3):
        if i == 3:
            start, cpu_start = time.perf_counter(), time.process_time()
        loss = criterion(student(x), z_v)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        criterion.enqueue(z_v)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"steps_per_s": steps / wall, "cpu_s_per_step": cpu / steps}


def teacher_clips_per_s(calls: int) -> dict[str, float]:
    teacher = build_teacher("efficientnet-lite0")
    clips = np.random.default_rng(0).integers(0, 255, (4, 16, 240, 320, 3), dtype=np.uint8)
    teacher.embed(clips[:1])
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(calls):
        teacher.embed(clips)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "clips_per_s": 4 * calls / wall,
        "cpu_s_per_clip": cpu / (4 * calls),
        "frames_per_clip": teacher.num_frames,
        "input_size": teacher.input_size,
        "num_segments": teacher.num_segments,
        "normalisation": teacher.config["normalisation"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    machine = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "load_average_before": list(os.getloadavg()),
    }
    print("machine:", json.dumps(machine))
    student_probe = ImuStudent(seed=0)
    runs = []
    repeats = 100 if args.quick else 500
    for threads in args.threads:
        torch.set_num_threads(threads)
        student = ImuStudent(seed=0)
        run = {
            "torch_threads": threads,
            "inference_batch1_forward": inference_latency_ms(student, repeats, encode_only=False),
            "inference_batch1_encode": inference_latency_ms(student, repeats, encode_only=True),
            "train_batch64": train_steps_per_s(student, 10 if args.quick else 30),
            "teacher_efficientnet_lite0": teacher_clips_per_s(1 if args.quick else 3),
        }
        print(json.dumps(run))
        runs.append(run)
    machine["load_average_after"] = list(os.getloadavg())
    result = {
        "benchmark": "student_speed",
        "student_config": student_probe.config,
        "student_backbone_params": student_probe.backbone_parameters(),
        "student_total_params": sum(p.numel() for p in student_probe.parameters()),
        "window": {"channels": 6, "samples": 100, "rate_hz": 50},
        "machine": machine,
        "runs": runs,
        "note": "shared CPU: other jobs may have run at the same time (see load averages)",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()

"""Distillation over sessions: one process vs ``torchrun --nproc_per_node 2`` (gloo, CPU).

    python -m benchmarks.distill_ddp [--seeds 0 1 2] [--duration 40] [--out benchmarks/results/distill_ddp.json]

Records synthetic labelled sessions through the app's recording path (IMU with an
activity-specific rhythm, a camera whose picture changes with the activity, label markers),
then runs ``comodo-live distill --sessions`` on them with one process and with two ranks
(``torchrun``), each for several seeds, with the small engine settings of the tests, and
writes the linear-probe top-1 (leave-one-session-out) and timings of every run. The claim
checked: the two-rank student matches the one-process student within the seed-to-seed spread.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ACTIVITIES = ("walking", "waving", "sitting")
RATE_HZ = 50.0
FPS = 10.0
SIZE = (64, 48)
SETTINGS: dict[str, Any] = {  # tests/engine_fixtures.py FAST (the engine's small settings)
    "window.window_s": 1.0,
    "window.hop_s": 0.25,
    "window.rate_hz": 50.0,
    "camera.width_px": SIZE[0],
    "camera.height_px": SIZE[1],
    "teacher.frames": 2,
    "teacher.segments": 1,
    "teacher.size_px": 64,
    "teacher.proj_hidden": 256,
    "teacher.embed_dim": 32,
    "student.width": 8,
    "student.embed_dim": 16,
    "student.proj_hidden": 32,
    "trainer.batch_size": 16,
    "trainer.queue_size": 64,
    "trainer.replay_size": 1024,
}


def set_args(extra: dict[str, Any] | None = None) -> list[str]:
    values = {**SETTINGS, **(extra or {})}
    return [f"--set={k}={json.dumps(v) if isinstance(v, str) else v}" for k, v in values.items()]


def make_session(out: Path, seed: int, duration_s: float = 30.0, segment_s: float = 5.0) -> Path:
    """A labelled session in ``out`` (session.xdf + video.avi); activities cycle every
    ``segment_s`` seconds, each labelled from 0.5 s after its start to 0.5 s before its end."""
    from benchmarks.live_utd import record_session, write_video

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    imu_t = np.arange(int(duration_s * RATE_HZ)) / RATE_HZ
    kind = (imu_t // segment_s).astype(int) % len(ACTIVITIES)  # (N,)
    freq = np.array([2.0, 4.5, 0.3])[kind]  # Hz: the activity's rhythm
    amp = np.array([3.0, 1.5, 0.2])[kind]
    phase = 2 * np.pi * np.cumsum(freq) / RATE_HZ
    imu = rng.normal(0, 0.3, (imu_t.size, 6))
    imu[:, 0] += amp * np.sin(phase)
    imu[:, 2] += 9.81 + 0.5 * amp * np.cos(phase)
    imu[:, 3 + kind % 3] += amp * np.sin(2 * phase)  # a different gyro axis per activity
    frame_t = np.arange(int(duration_s * FPS)) / FPS
    colours = np.array([[200, 40, 40], [40, 200, 40], [40, 40, 200]], np.float64)

    def frames() -> Any:
        for t in frame_t:
            k = int(t // segment_s) % len(ACTIVITIES)
            base = np.tile(colours[k], (SIZE[1], SIZE[0], 1))
            stripe = (np.arange(SIZE[0]) + int(t * 10 * (k + 1))) % 16 < 8  # moving stripes
            base[:, stripe] *= 0.5
            noise = rng.normal(0, 20, base.shape)
            yield np.clip(base + noise, 0, 255).astype(np.uint8)

    video = out / "video.avi"
    write_video(video, frames(), FPS)
    markers: list[tuple[float, str]] = []
    for start in np.arange(0.0, duration_s - 1e-9, segment_s):
        k = int(start // segment_s) % len(ACTIVITIES)
        markers.append((float(start + 0.5), f"label:start:{ACTIVITIES[k]}"))
        markers.append((float(start + segment_s - 0.5), "label:stop"))
    record_session(out, imu_t, imu.astype(np.float32), frame_t, video, markers, RATE_HZ, FPS, SIZE)
    return out


def distill_command(
    sessions: list[Path], out: Path, nproc: int, seed: int, epochs: int, cache: Path
) -> list[str]:
    """The command line of one run (``torchrun`` for ``nproc`` > 1)."""
    args = [
        "distill",
        "--sessions",
        *map(str, sessions),
        "--out",
        str(out),
        "--seed",
        str(seed),
        "--epochs",
        str(epochs),
        "--cache-dir",
        str(cache),
        "--no-progress",
        *set_args(),
    ]
    if nproc == 1:
        return [sys.executable, str(ROOT / "app.py"), *args]
    torchrun = Path(sys.executable).with_name("torchrun")
    launcher = (
        [str(torchrun)] if torchrun.exists() else [sys.executable, "-m", "torch.distributed.run"]
    )
    return [
        *launcher,
        "--standalone",
        f"--nproc_per_node={nproc}",
        str(ROOT / "app.py"),
        *args,
    ]


def run_distill(
    sessions: list[Path], out: Path, nproc: int, seed: int, epochs: int, cache: Path
) -> dict[str, Any]:
    """Run once; returns ``distill.json`` plus the wall time. Raises on a failed run."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "LSLAPICFG": str(ROOT / "comodo_live" / "lsl_api.cfg"),
    }
    t0 = time.monotonic()
    done = subprocess.run(
        distill_command(sessions, out, nproc, seed, epochs, cache),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    wall = time.monotonic() - t0
    if done.returncode != 0:
        raise RuntimeError(
            f"distill (nproc {nproc}) failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    summary = json.loads((out / "distill.json").read_text())
    summary["wall_s"] = wall
    summary["epoch_lines"] = len(re.findall(r"^epoch ", (out / "train_log.txt").read_text(), re.M))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per session")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--work", type=Path, default=Path("/tmp/comodo-distill-ddp"))
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "distill_ddp.json"
    )
    args = parser.parse_args(argv)
    import shutil

    shutil.rmtree(args.work, ignore_errors=True)
    sessions = [
        make_session(args.work / f"session{i}", seed=i, duration_s=args.duration) for i in (1, 2)
    ]
    cache = args.work / "cache"
    runs: list[dict[str, Any]] = []
    for nproc in (1, 2):
        for seed in args.seeds:
            summary = run_distill(
                sessions, args.work / f"run-n{nproc}-s{seed}", nproc, seed, args.epochs, cache
            )
            probe = summary["probe"]["top1"] if summary.get("probe") else None
            print(
                f"nproc {nproc} seed {seed}: probe top-1 {probe}, loss {summary['loss'][-1]:.4f}, {summary['wall_s']:.1f} s",
                flush=True,
            )
            runs.append(
                {
                    "nproc": nproc,
                    "seed": seed,
                    "probe_top1": probe,
                    "final_loss": summary["loss"][-1],
                    "wall_s": summary["wall_s"],
                    "pairs": summary["pairs"],
                    "steps": summary["steps"],
                    "backend": summary["backend"],
                    "untrained_top1": (summary.get("probe_untrained") or {}).get("top1"),
                }
            )
    by = {n: [r["probe_top1"] for r in runs if r["nproc"] == n] for n in (1, 2)}
    result = {
        "what": "comodo-live distill --sessions: 1 process vs torchrun --nproc_per_node 2 (gloo, CPU); linear-probe top-1 (%) leave-one-session-out on the labelled windows",
        "sessions": len(sessions),
        "session_s": args.duration,
        "activities": list(ACTIVITIES),
        "epochs": args.epochs,
        "settings": SETTINGS,
        "runs": runs,
        "mean_top1": {str(n): float(np.mean(v)) for n, v in by.items()},
        "std_top1": {str(n): float(np.std(v)) for n, v in by.items()},
        "difference": float(np.mean(by[2]) - np.mean(by[1])),
        "chance_top1": 100.0 / len(ACTIVITIES),
        "command": "python -m benchmarks.distill_ddp " + " ".join(argv or sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("mean_top1", "std_top1", "difference")}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python app.py distill``: offline COMODO distillation on UTD-MHAD, then probe evaluation.

    python app.py distill --dataset utd-mhad --teacher skeleton --steps 1000 --seed 0 --out runs/skel

    python app.py distill --sessions recordings/a recordings/b --out runs/lab
    torchrun --nproc_per_node 2 app.py distill --sessions recordings/* --out runs/lab

Distils on the training subjects (1, 3, 5, 7; label-free), writes the student checkpoint
(``student.pt``, kind ``"student"``) and prints linear-probe top-1/3/5 on the test subjects at
k = 1, 2 and all labelled trials per class per training subject.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from comodo_live.data.splits import k_shot_indices, subject_split
from comodo_live.data.teacher_features import utd_depth_features, utd_skeleton_features
from comodo_live.data.utd_mhad import TEST_SUBJECTS, TRAIN_SUBJECTS, load_utd_mhad
from comodo_live.models.teachers import build_teacher
from comodo_live.training.augment import ImuAugment
from comodo_live.training.checkpoint import save_checkpoint
from comodo_live.training.distill import (
    DistillConfig,
    distill,
    fit_projection,
    new_student,
    teacher_embeddings,
)
from comodo_live.training.probe import embed, linear_probe

DATASETS = ("utd-mhad",)
CLI_TEACHERS = ("efficientnet-lite0", "skeleton")
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TEACHER_KWARGS: dict[str, dict[str, Any]] = {
    "efficientnet-lite0": {"frames": 8, "input_size": 160, "num_segments": 4},
    "skeleton": {},
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="app.py distill",
        description=__doc__.split("\n")[0],
        epilog="Over recorded sessions instead (data-parallel under torchrun): "
        "'app.py distill --sessions DIR [DIR ...] --out RUN'; options: "
        "'app.py distill --sessions x --help'.",
    )
    parser.add_argument("--dataset", choices=DATASETS, default="utd-mhad")
    parser.add_argument("--teacher", choices=CLI_TEACHERS, default="efficientnet-lite0")
    parser.add_argument("--method", choices=("comodo", "infonce"), default="comodo")
    parser.add_argument("--steps", type=int, default=1000, help="optimiser steps (>= 1)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-augment", action="store_true", help="disable IMU augmentation")
    parser.add_argument("--no-centre", action="store_true", help="disable teacher-feature centring")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("COMODO_SHARED_DATA", DEFAULT_DATA_DIR)),
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="feature cache (default ./.cache/features)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave default)")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the distillation command; returns a process exit code.

    With ``--sessions DIR ...``: distillation over recorded sessions, data-parallel under
    ``torchrun`` (:mod:`comodo_live.training.ddp`).
    """
    if argv is None:
        import sys

        argv = sys.argv[1:]
    if any(a == "--sessions" or a.startswith("--sessions=") for a in argv):
        from comodo_live.training.ddp import main as sessions_main

        return sessions_main(list(argv))
    args = build_parser().parse_args(argv)
    if args.steps < 1:
        raise SystemExit(f"--steps must be >= 1, got {args.steps}")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if not (args.data_dir / "utd_mhad.npz").is_file():
        raise SystemExit(f"UTD-MHAD not found: {args.data_dir / 'utd_mhad.npz'} (set --data-dir)")
    progress = not args.no_progress
    ds = load_utd_mhad(args.data_dir / "utd_mhad.npz")
    train, test = subject_split(ds.subjects, TRAIN_SUBJECTS, TEST_SUBJECTS)
    teacher = build_teacher(args.teacher, **TEACHER_KWARGS[args.teacher])
    if args.teacher == "skeleton":
        features = utd_skeleton_features(teacher, args.data_dir, args.cache_dir, progress)
    else:
        features = utd_depth_features(
            teacher, args.data_dir, cache_dir=args.cache_dir, progress=progress
        )
    projection = fit_projection(features[train], args.seed, centre=not args.no_centre)
    z_v = teacher_embeddings(projection, features)  # (n, D)
    student = new_student(ds.imu[train], args.seed)
    config = DistillConfig(
        method=args.method,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        augment=None if args.no_augment else ImuAugment(),
        seed=args.seed,
    )
    student, history = distill(student, ds.imu[train], z_v[train], config, progress=progress)
    emb = embed(student, ds.imu)  # (n, E)
    results: dict[str, dict[str, float]] = {}
    for k in (1, 2, None):
        idx = k_shot_indices(ds.labels, ds.subjects, train, k, args.seed)
        acc = linear_probe(emb[idx], ds.labels[idx], emb[test], ds.labels[test])
        results["all" if k is None else str(k)] = acc.as_dict()
        print(
            f"probe k={'all' if k is None else k}: top1 {acc.top1:.1f}  top3 {acc.top3:.1f}  top5 {acc.top5:.1f}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    state = {
        "student_config": {k: v for k, v in student.config.items() if v is not None},
        "student_state": student.state_dict(),
        "projection_config": projection.config,
        "projection_state": projection.state_dict(),
        "teacher": args.teacher,
        "teacher_config": teacher.config,
        "distill": {"method": args.method, "steps": args.steps, "seed": args.seed, "lr": args.lr},
        "history": {k: [float(x) for x in v] for k, v in history.as_dict().items()},
    }
    path = save_checkpoint(args.out / "student.pt", state, kind="student")
    (args.out / "probe.json").write_text(json.dumps(results, indent=1))
    print(
        f"final loss {history.loss[-1]:.3f}, target entropy {np.round(history.target_entropy[-1], 3)}"
    )
    print(f"wrote {path}")
    return 0

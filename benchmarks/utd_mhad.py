"""UTD-MHAD cross-subject benchmark of COMODO distillation (see benchmarks/results/README.md).

    python benchmarks/utd_mhad.py                       # full run: both teachers, 3 seeds
    python benchmarks/utd_mhad.py --quick               # smoke run (minutes)
    python benchmarks/utd_mhad.py --validate --variants "centre=1,augment=0;centre=1,augment=1"
    python benchmarks/utd_mhad.py --teachers skeleton --no-baselines --out part.json
    python benchmarks/utd_mhad.py --merge part1.json part2.json --out benchmarks/results/utd_mhad.json

Test protocol: train on odd subjects (1, 3, 5, 7), test on even. Distillation is label-free and
uses the training subjects' unlabelled trials: one distillation per (teacher, seed), then probes
at every k. ``--validate`` never touches the test subjects: distillation on the training
subjects, probes fitted on three of them and scored on the fourth (leave-one-subject-out).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _machine import machine  # benchmarks/ is on sys.path when run as a script

import comodo_live  # noqa: F401
from comodo_live.data.splits import k_shot_indices, leave_one_subject_out, subject_split
from comodo_live.data.teacher_features import utd_depth_features, utd_skeleton_features
from comodo_live.data.utd_mhad import (
    N_CLASSES,
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    UtdMhad,
    load_utd_mhad,
)
from comodo_live.models.loss import ComodoLoss
from comodo_live.models.teachers import build_teacher
from comodo_live.training.augment import ImuAugment
from comodo_live.training.checkpoint import load_checkpoint, save_checkpoint
from comodo_live.training.diagnostics import mean_pairwise_cosine, target_entropy
from comodo_live.training.distill import (
    DistillConfig,
    distill,
    fit_projection,
    new_student,
    teacher_embeddings,
)
from comodo_live.training.probe import embed, imu_summary_features, linear_probe, nearest_prototype
from comodo_live.training.supervised import SupervisedConfig, evaluate_classifier, train_classifier

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
STUDENT_CACHE = Path(".cache") / "students"
TEACHERS = ("skeleton", "efficientnet-lite0")
TEACHER_KWARGS: dict[str, dict[str, Any]] = {
    "efficientnet-lite0": {"frames": 8, "input_size": 160, "num_segments": 4},
    "skeleton": {},
}
# Settings chosen on the validation folds (see benchmarks/results/README.md).
DEFAULTS: dict[str, Any] = {
    "window": 100,
    "steps": 1000,
    "batch_size": 64,
    "lr": 3e-4,
    "schedule": "cosine",
    "queue_size": 4096,
    "centre": True,
    "augment": {"skeleton": True, "efficientnet-lite0": True},
    "sup_steps": 300,
    "sup_lr": 1e-3,
    "sup_augment": True,
    "ft_encoder_lr_scale": 1.0,
    # bf16 autocast: ~1.5x faster on the CPU of the first run (Nov 21), 16x slower on another
    # (2.2 s vs 0.13 s per step on the CPU of Nov 30): fp32 everywhere
    "bf16": False,
}
KS: tuple[int | None, ...] = (1, 2, None)


def k_name(k: int | None) -> str:
    return "all" if k is None else str(k)


def teacher_features(name: str, data_dir: Path, cache_dir: Path | None) -> np.ndarray:
    teacher = build_teacher(name, **TEACHER_KWARGS[name])
    if name == "skeleton":
        return utd_skeleton_features(teacher, data_dir, cache_dir)
    return utd_depth_features(teacher, data_dir, cache_dir=cache_dir)


class Recorder:
    """Collects result records: one per (split, method, teacher, k, seed)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def add(
        self,
        split: str,
        method: str,
        teacher: str | None,
        k: int | None,
        seed: int,
        acc: Any,
        **extra: Any,
    ) -> None:
        record = {
            "split": split,
            "method": method,
            "teacher": teacher,
            "k": k_name(k),
            "seed": seed,
        }
        record.update(acc.as_dict())
        record.update(extra)
        self.records.append(record)
        print(
            f"  {split:8s} {method:28s} {teacher or '-':18s} k={k_name(k):3s} seed={seed} top1={acc.top1:5.1f}",
            flush=True,
        )


def evaluation_splits(
    ds: UtdMhad, validate: bool
) -> tuple[np.ndarray, list[tuple[str, np.ndarray, np.ndarray]]]:
    """(distillation pool, [(split name, labelled pool, evaluation indices)])."""
    train, test = subject_split(ds.subjects, TRAIN_SUBJECTS, TEST_SUBJECTS)
    splits = [("test", train, test)]
    if validate:
        folds = leave_one_subject_out(ds.subjects, train)
        splits += [(f"val-s{s}", fit, val) for s, fit, val in folds]
    return train, splits


def probe_all(
    rec: Recorder,
    method: str,
    teacher: str | None,
    emb: np.ndarray,
    ds: UtdMhad,
    splits: list,
    seed: int,
    ks: tuple,
    proto: bool = False,
) -> None:
    for split, pool, evaluate in splits:
        for k in ks:
            idx = k_shot_indices(ds.labels, ds.subjects, pool, k, seed)
            rec.add(
                split,
                method,
                teacher,
                k,
                seed,
                linear_probe(emb[idx], ds.labels[idx], emb[evaluate], ds.labels[evaluate]),
                n_labelled=int(idx.size),
            )
            if proto:
                acc = nearest_prototype(
                    emb[idx], ds.labels[idx], emb[evaluate], ds.labels[evaluate]
                )
                rec.add(
                    split,
                    method.replace("_probe", "_prototype"),
                    teacher,
                    k,
                    seed,
                    acc,
                    n_labelled=int(idx.size),
                )


def supervised_all(
    rec: Recorder,
    method: str,
    teacher: str | None,
    student: Any,
    ds: UtdMhad,
    splits: list,
    seed: int,
    ks: tuple,
    cfg: SupervisedConfig,
) -> None:
    for split, pool, evaluate in splits:
        for k in ks:
            idx = k_shot_indices(ds.labels, ds.subjects, pool, k, seed)
            model = train_classifier(
                student, ds.imu[idx], ds.labels[idx], N_CLASSES, replace(cfg, seed=seed)
            )
            rec.add(
                split,
                f"{method}_head",
                teacher,
                k,
                seed,
                evaluate_classifier(model, ds.imu[evaluate], ds.labels[evaluate]),
                n_labelled=int(idx.size),
            )
            emb = embed(model, ds.imu)
            rec.add(
                split,
                f"{method}_probe",
                teacher,
                k,
                seed,
                linear_probe(emb[idx], ds.labels[idx], emb[evaluate], ds.labels[evaluate]),
                n_labelled=int(idx.size),
            )


def embedding_diagnostics(
    features: np.ndarray, train: np.ndarray, seed: int, tau_t: float = 0.1
) -> dict[str, float]:
    """Target entropy fraction and mean pairwise cosine of the training-set teacher embeddings."""
    out = {}
    for centre in (True, False):
        z = torch.as_tensor(
            teacher_embeddings(fit_projection(features[train], seed, centre), features[train])
        )
        tag = "centred" if centre else "raw"
        out[f"mean_cosine_{tag}"] = mean_pairwise_cosine(z)
        # targets of one batch of 64 against the rest as the queue, as in a full-queue step
        out[f"target_entropy_{tag}"] = target_entropy(z[:64], z[64:], tau_t)
    return out


def distilled_student(
    name: str,
    ds: UtdMhad,
    pool: np.ndarray,
    z_v: np.ndarray,
    config: DistillConfig,
    settings: dict[str, Any],
    args: argparse.Namespace,
    control: str = "",
) -> tuple[Any, dict[str, Any], float]:
    """Distil, or load the identical earlier distillation from ``.cache/students``.

    Distillation is label-free and uses only the training subjects, so the validation and the
    test evaluations of one (teacher, settings, seed) share one student.
    """
    key_items = {
        "teacher": name,
        "teacher_kwargs": TEACHER_KWARGS[name],
        "config": asdict(config),
        "centre": settings["centre"],
        "window": settings["window"],
        "pool": pool.tolist(),
        "student": new_student(ds.imu[pool], 0).config,
    }
    if control:
        key_items["control"] = control
    key = hashlib.sha256(json.dumps(key_items, sort_keys=True, default=str).encode()).hexdigest()
    tag = f"{config.method}-{control}" if control else config.method
    path = STUDENT_CACHE / f"{name}-{tag}-seed{config.seed}-{key[:16]}.pt"
    student = new_student(ds.imu[pool], config.seed)
    if path.exists() and not args.quick:
        state = load_checkpoint(path, kind="benchmark-student")
        student.load_state_dict(state["student_state"])
        return student.eval(), state["history"], float(state["seconds"])
    t0 = time.perf_counter()
    student, history = distill(student, ds.imu[pool], z_v[pool], config, progress=args.progress)
    seconds = time.perf_counter() - t0
    hist = {k: [float(x) for x in v] for k, v in history.as_dict().items()}
    if not args.quick:
        state = {"student_state": student.state_dict(), "history": hist, "seconds": seconds}
        save_checkpoint(path, state, kind="benchmark-student")
    return student, hist, seconds


def run_teacher(
    rec: Recorder,
    name: str,
    ds: UtdMhad,
    args: argparse.Namespace,
    settings: dict[str, Any],
    meta: dict[str, Any],
    variant: str,
) -> None:
    distill_pool, splits = evaluation_splits(ds, args.validate)
    test_only = splits if args.val_supervised else [s for s in splits if s[0] == "test"]
    t0 = time.perf_counter()
    features = teacher_features(name, args.data, args.cache_dir)
    print(f"[{name}] features {features.shape} in {time.perf_counter() - t0:.1f} s", flush=True)
    diag = meta.setdefault("diagnostics", {}).setdefault(name, {})
    diag.update(embedding_diagnostics(features, distill_pool, 0))
    if "teacher_probe" in args.methods:
        for seed in args.seeds:
            probe_all(rec, "teacher_probe", name, features, ds, splits, seed, args.ks)
    augment = ImuAugment() if settings["augment"][name] else None
    base = DistillConfig(
        steps=settings["steps"],
        batch_size=settings["batch_size"],
        lr=settings["lr"],
        schedule=settings["schedule"],
        queue_size=settings["queue_size"],
        augment=augment,
        bf16=settings["bf16"],
    )
    sup = SupervisedConfig(
        steps=settings["sup_steps"],
        lr=settings["sup_lr"],
        augment=ImuAugment() if settings["sup_augment"] else None,
        encoder_lr_scale=settings["ft_encoder_lr_scale"],
        bf16=settings["bf16"],
    )
    for seed in args.seeds:
        projection = fit_projection(features[distill_pool], seed, settings["centre"])
        z_v = teacher_embeddings(projection, features)
        if "shuffled_probe" in args.methods:
            # Control: the same loss, augmentation and teacher embeddings, but paired with the
            # wrong trials (permuted within the distillation pool): what training alone gives.
            order = np.random.default_rng(1000 + seed).permutation(distill_pool)
            z_shuffled = z_v.copy()
            z_shuffled[distill_pool] = z_v[order]
            config = replace(base, method="comodo", seed=seed)
            student, history, seconds = distilled_student(
                name, ds, distill_pool, z_shuffled, config, settings, args, control="shuffled"
            )
            print(f"[{name}] shuffled-teacher control seed={seed} {seconds:.0f} s", flush=True)
            diag.setdefault("history", {})[f"{variant}|shuffled-seed{seed}"] = {
                **history,
                "seconds": seconds,
            }
            emb = embed(student, ds.imu)
            probe_all(rec, "shuffled_probe", name, emb, ds, splits, seed, args.ks, proto=True)
        for method in ("comodo", "infonce"):
            wanted = f"{method}_probe" in args.methods
            if not wanted and not (method == "comodo" and "comodo_finetune" in args.methods):
                continue
            config = replace(base, method=method, seed=seed)
            student, history, seconds = distilled_student(
                name, ds, distill_pool, z_v, config, settings, args
            )
            print(
                f"[{name}] {method} seed={seed} {seconds:.0f} s, loss {history['loss'][0]:.3f}"
                f"→{history['loss'][-1]:.3f}, entropy {history['target_entropy'][-1]:.3f}, "
                f"cos {history['mean_cosine'][-1]:.3f}",
                flush=True,
            )
            diag.setdefault("history", {})[f"{variant}|{method}-seed{seed}"] = {
                **history,
                "seconds": seconds,
            }
            if wanted:
                emb = embed(student, ds.imu)
                probe_all(rec, f"{method}_probe", name, emb, ds, splits, seed, args.ks, proto=True)
            if method == "comodo" and "comodo_finetune" in args.methods:
                supervised_all(
                    rec, "comodo_finetune", name, student, ds, test_only, seed, args.ks, sup
                )


def run_baselines(
    rec: Recorder, ds: UtdMhad, args: argparse.Namespace, settings: dict[str, Any]
) -> None:
    distill_pool, splits = evaluation_splits(ds, args.validate)
    stats = imu_summary_features(ds.imu)
    sup = SupervisedConfig(
        steps=settings["sup_steps"],
        lr=settings["sup_lr"],
        augment=ImuAugment() if settings["sup_augment"] else None,
        bf16=settings["bf16"],
    )
    for seed in args.seeds:
        student = new_student(ds.imu[distill_pool], seed)
        if "random_probe" in args.methods:
            probe_all(
                rec,
                "random_probe",
                None,
                embed(student, ds.imu),
                ds,
                splits,
                seed,
                args.ks,
                proto=True,
            )
        if "imu_stats_logreg" in args.methods:
            probe_all(rec, "imu_stats_logreg", None, stats, ds, splits, seed, args.ks)
        if "supervised_scratch" in args.methods:
            test_only = splits if args.val_supervised else [s for s in splits if s[0] == "test"]
            supervised_all(
                rec, "supervised_scratch", None, student, ds, test_only, seed, args.ks, sup
            )


def measure_speed(ds: UtdMhad, data_dir: Path, with_teacher: bool) -> dict[str, float]:
    """Student inference ms (batch 1), COMODO train steps/s (batch 64), teacher clips/s.

    ``*_wall`` figures are elapsed time (inflated when other jobs share the CPU); ``*_cpu``
    figures use this process's CPU time, i.e. what the job costs on an otherwise idle core set
    (with torch threads = 1 they equal uncontended wall time).
    """
    out: dict[str, float] = {}
    student = new_student(ds.imu, 0).eval()
    window = torch.as_tensor(ds.imu[:1])  # (1, 6, N)
    with torch.no_grad():
        for _ in range(20):
            student(window)
        wall, cpu = [], []
        for _ in range(200):
            t0, c0 = time.perf_counter(), time.process_time()
            student(window)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    out["student_infer_ms_batch1_median"] = 1000 * float(np.median(wall))
    out["student_infer_ms_batch1_p90"] = 1000 * float(np.percentile(wall, 90))
    out["student_infer_cpu_ms_batch1_mean"] = 1000 * float(np.mean(cpu))
    student.train()
    criterion = ComodoLoss(4096, student.proj_dim)
    criterion.enqueue(torch.nn.functional.normalize(torch.randn(4096, student.proj_dim), dim=1))
    optimizer = torch.optim.AdamW(student.parameters(), lr=3e-4)
    batch = torch.as_tensor(ds.imu[:64])
    z_v = torch.nn.functional.normalize(torch.randn(64, student.proj_dim), dim=1)
    for bf16 in (False, True):
        for i in range(25):
            if i == 5:
                t0, c0 = time.perf_counter(), time.process_time()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                z_x = student(batch)
            loss = criterion(torch.nn.functional.normalize(z_x.float(), dim=1), z_v)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            criterion.enqueue(z_v)
        tag = "bf16" if bf16 else "fp32"
        out[f"train_steps_per_s_batch64_{tag}_wall"] = 20 / (time.perf_counter() - t0)
        out[f"train_steps_per_s_batch64_{tag}_cpu"] = 20 / (time.process_time() - c0)
    out["student_params_total"] = float(sum(p.numel() for p in student.parameters()))
    out["student_params_backbone"] = float(student.backbone_parameters())
    if with_teacher:
        from comodo_live.data.utd_mhad import depth_to_clip, load_depth

        clips = [depth_to_clip(d) for d in load_depth(data_dir / "utd_mhad.npz")[:16]]
        for size in (160, 224):
            teacher = build_teacher("efficientnet-lite0", frames=8, input_size=size)
            teacher.embed(clips[:2])
            t0, c0 = time.perf_counter(), time.process_time()
            teacher.embed(clips)
            name = f"teacher_clips_per_s_effnet_8frames_{size}px"
            out[f"{name}_wall"] = len(clips) / (time.perf_counter() - t0)
            out[f"{name}_cpu"] = len(clips) / (time.process_time() - c0)
    return out


def summary(records: list[dict[str, Any]]) -> str:
    """Top-1 mean ± std over seeds: rows (variant, split kind, method, teacher), columns k."""
    groups: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        split = "test" if r["split"] == "test" else "val"
        key = (r.get("variant", ""), split, r["method"], r["teacher"] or "-")
        groups[key][r["k"]].append(r["top1"])
    ks = sorted({r["k"] for r in records}, key=lambda k: (k == "all", k))
    head = f"{'variant':20s} {'split':5s} {'method':26s} {'teacher':18s} "
    lines = [head + " ".join(f"{'k=' + k:>16s}" for k in ks)]
    for key in sorted(groups, key=lambda g: tuple(str(x) for x in g)):
        cells = []
        for k in ks:
            v = np.array(groups[key].get(k, []))
            cells.append(f"{v.mean():5.1f} ± {v.std():3.1f} ({v.size})" if v.size else "-")
        lines.append(
            f"{key[0]:20s} {key[1]:5s} {key[2]:26s} {key[3]:18s} "
            + " ".join(f"{c:>16s}" for c in cells)
        )
    return "\n".join(lines)


def paired_gains(records: list[dict[str, Any]], method: str, baseline: str) -> dict[str, Any]:
    """Mean and std over seeds (and folds) of the per-seed top-1 gain of ``method`` over
    ``baseline`` on the same split, k and seed (and teacher, when the baseline has one), per
    (variant, split kind, teacher, k)."""
    base = {
        (r.get("variant", ""), r["split"], r["k"], r["seed"], r["teacher"]): r["top1"]
        for r in records
        if r["method"] == baseline
    }
    gains: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if r["method"] != method:
            continue
        key = (r.get("variant", ""), r["split"], r["k"], r["seed"])
        value = base.get((*key, r["teacher"]), base.get((*key, None)))
        if value is not None:
            kind = "test" if r["split"] == "test" else "val"
            gains[f"{r.get('variant', '')}|{kind}|{r['teacher']}|k={r['k']}"].append(
                r["top1"] - value
            )
    return {
        k: {"mean": float(np.mean(v)), "std": float(np.std(v)), "n": len(v)}
        for k, v in gains.items()
    }


def parse_variants(text: str) -> list[tuple[str, dict[str, Any]]]:
    """ "centre=1,augment=0;steps=500" → [(name, overrides)]; augment applies to all teachers."""
    out = []
    for chunk in filter(None, (c.strip() for c in text.split(";"))):
        overrides: dict[str, Any] = {}
        for item in chunk.split(","):
            key, value = item.split("=")
            if key not in DEFAULTS:
                raise ValueError(f"variant key must be one of {sorted(DEFAULTS)}, got {key!r}")
            if key == "augment":
                overrides[key] = dict.fromkeys(TEACHERS, bool(int(value)))
            else:
                overrides[key] = (
                    type(DEFAULTS[key])(float(value))
                    if not isinstance(DEFAULTS[key], bool | str)
                    else (bool(int(value)) if isinstance(DEFAULTS[key], bool) else value)
                )
        out.append((chunk, overrides))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--teachers", default=",".join(TEACHERS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument(
        "--methods",
        default="comodo_probe,infonce_probe,comodo_finetune,teacher_probe,random_probe,imu_stats_logreg,supervised_scratch",
    )
    parser.add_argument(
        "--no-baselines", action="store_true", help="skip the teacher-free methods b, c, d"
    )
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument(
        "--speed-only", action="store_true", help="measure speed (incl. teacher), update --out"
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="leave-one-training-subject-out folds, no test subjects",
    )
    parser.add_argument(
        "--val-supervised", action="store_true", help="also run (d)/(g) on the validation folds"
    )
    parser.add_argument(
        "--variants", default="", help="';'-separated settings overrides, e.g. 'centre=0;augment=1'"
    )
    parser.add_argument("--ks", default="1,2,all")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 seed, 60 steps, k=1")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--merge", type=Path, nargs="+", default=None, help="merge result files into --out"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.merge:
        return merge(args.merge, args.out or RESULTS / "utd_mhad.json")
    if args.speed_only:
        return speed_only(args.data, args.out or RESULTS / "utd_mhad.json")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.ks = tuple(None if k == "all" else int(k) for k in args.ks.split(","))
    args.methods = set(args.methods.split(","))
    settings = dict(DEFAULTS)
    if args.quick:
        args.seeds, args.ks = args.seeds[:1], (1,)
        settings.update(steps=60, sup_steps=30)
    variants = parse_variants(args.variants) or [("", {})]
    out = args.out or RESULTS / (
        "utd_mhad_validation.json"
        if args.validate
        else "utd_mhad_quick.json"
        if args.quick
        else "utd_mhad.json"
    )
    ds = load_utd_mhad(args.data / "utd_mhad.npz", window=settings["window"])
    started = time.time()
    meta: dict[str, Any] = {
        "machine": machine(),
        "protocol": "validation (leave-one-training-subject-out)"
        if args.validate
        else "cross-subject: train 1,3,5,7 / test 2,4,6,8",
        "seeds": args.seeds,
        "ks": [k_name(k) for k in args.ks],
        "teacher_kwargs": TEACHER_KWARGS,
        "quick": args.quick,
    }
    rec = Recorder()
    for variant, overrides in variants:
        vsettings = {**settings, **overrides}
        meta.setdefault("settings", {})[variant] = {
            **vsettings,
            "augment_params": asdict(ImuAugment()),
        }
        first = len(rec.records)
        if not args.no_baselines:
            run_baselines(rec, ds, args, vsettings)
        for name in filter(None, args.teachers.split(",")):
            run_teacher(rec, name, ds, args, vsettings, meta, variant)
            for r in rec.records[first:]:
                r["variant"] = variant
            write(out, rec.records, meta, quiet=True)  # partial results survive an interrupted run
        for r in rec.records[first:]:
            r["variant"] = variant
    if not args.no_speed:
        meta["speed"] = measure_speed(ds, args.data, "efficientnet-lite0" in args.teachers)
    meta["wall_s"] = time.time() - started
    write(out, rec.records, meta)
    return 0


def write(
    path: Path, records: list[dict[str, Any]], meta: dict[str, Any], quiet: bool = False
) -> None:
    meta["paired_gains"] = {
        "comodo_probe-random_probe": paired_gains(records, "comodo_probe", "random_probe"),
        "comodo_probe-shuffled_probe": paired_gains(records, "comodo_probe", "shuffled_probe"),
        "shuffled_probe-random_probe": paired_gains(records, "shuffled_probe", "random_probe"),
        "infonce_probe-random_probe": paired_gains(records, "infonce_probe", "random_probe"),
        "comodo_finetune_head-supervised_scratch_head": paired_gains(
            records, "comodo_finetune_head", "supervised_scratch_head"
        ),
        "comodo_finetune_probe-supervised_scratch_probe": paired_gains(
            records, "comodo_finetune_probe", "supervised_scratch_probe"
        ),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"schema": "utd_mhad/1", "meta": meta, "records": records}, indent=1, default=str
        )
    )
    if quiet:
        return
    print(f"machine: {meta.get('machine')}")
    print(summary(records))
    print("paired gains (top-1 points):", json.dumps(meta["paired_gains"], indent=1))
    if "speed" in meta:
        print("speed:", json.dumps(meta["speed"], indent=1))
    print(f"wrote {path}")


def speed_only(data_dir: Path, out: Path) -> int:
    """Measure the speed figures (student and teacher) into an existing result file's meta."""
    ds = load_utd_mhad(data_dir / "utd_mhad.npz", window=DEFAULTS["window"])
    result = json.loads(out.read_text()) if out.exists() else {"meta": {}, "records": []}
    result["meta"]["speed"] = {**measure_speed(ds, data_dir, True), "machine": machine()}
    out.write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps(result["meta"]["speed"], indent=1))
    return 0


def merge(paths: list[Path], out: Path) -> int:
    records: list[dict[str, Any]] = []
    meta: dict[str, Any] = {"merged_from": [str(p) for p in paths]}
    for path in paths:
        part = json.loads(path.read_text())
        records.extend(part["records"])
        for key, value in part["meta"].items():
            if key == "diagnostics":
                meta.setdefault("diagnostics", {}).update(value)
            elif key != "paired_gains":
                meta.setdefault(key, value)
    write(out, records, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())

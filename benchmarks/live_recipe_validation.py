"""Choose the live recipe on validation folds of UTD-MHAD's training subjects (1, 3, 5, 7 only).

For each fold v (leave-one-training-subject-out), the other three training subjects form one
continuous session (windows in order: subject, action, trial; see live_recipe_windows.py) that
is fed pair by pair into the app's own :class:`TrainerWorker`, driven synchronously
(``step_until_budget`` after each pair, ``request_flush`` at the end: the fast-replay path). One
trial per activity per session subject is labelled (drawn with the seed). The served EMA student
+ the app's classifier (``fit_head``) are scored per window on subject v; the untrained student
(same channel statistics) is the reference. The test subjects are never read.

    python benchmarks/live_recipe_validation.py [--candidates default,aug_off,...] [--seeds 0]

Writes ``benchmarks/results/live_recipe_validation.json`` (updated after every run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _machine import machine  # benchmarks/ is on sys.path when run as a script
from live_recipe_windows import HOP
from live_recipe_windows import load as load_windows

import comodo_live  # noqa: F401
from comodo_live.config import AppConfig
from comodo_live.data.utd_mhad import TRAIN_SUBJECTS
from comodo_live.head import Smoother, fit_head
from comodo_live.learning.guard import compare_students, held_out
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pair_store import PairStore
from comodo_live.learning.pipeline import build_student
from comodo_live.learning.refit import encode_windows
from comodo_live.learning.teacher import make_projection
from comodo_live.learning.trainer import TrainerWorker

OUT = Path(__file__).resolve().parent / "results" / "live_recipe_validation.json"
SMALL = {"student.width": 32, "student.embed_dim": 128, "student.proj_hidden": 512}
R05 = {"trainer.replay_ratio": 0.5}
CANDIDATES: dict[str, dict[str, Any]] = {
    "untrained": {},
    "untrained_small": SMALL,
    "default": {},
    "ratio_0.5": R05,
    "ratio_1": {"trainer.replay_ratio": 1.0},
    "aug_off": {**R05, "trainer.augment": False},
    "small_student": {**R05, **SMALL},
    # one round over the whole session at its end (the offline recipe's single cosine)
    "single_round": {**R05, "trainer.min_pairs": 50_000, "trainer.round_max_pairs": 50_000},
    "fixed_rounds": {"trainer.round_growth": 0.0},
    "stats_10": {"trainer.imu_stats_windows": 10},
    # trainer.hold_out_every: which labelled stretches make no pair (the guard's test data)
    "hold_out_0": {"trainer.hold_out_every": 0},
    "hold_out_1": {"trainer.hold_out_every": 1},
    "hold_out_2": {"trainer.hold_out_every": 2},
}
HOP_S = HOP / 50.0  # the windows' hop, s (50 Hz IMU)
THRESHOLD_MULTIPLES = (0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 13.5)


def session_order(data: dict[str, np.ndarray], subjects: list[int]) -> np.ndarray:
    """Window indices of ``subjects`` in session order (subject, action, trial, window)."""
    keys = np.lexsort(
        (np.arange(data["label"].size), data["trial"], data["label"], data["subject"])
    )
    return keys[np.isin(data["subject"][keys], subjects)]


def labelled_windows(data: dict[str, np.ndarray], session: np.ndarray, seed: int) -> np.ndarray:
    """One labelled trial per (subject, activity) of the session, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    keep = []
    for s in np.unique(data["subject"][session]):
        for a in np.unique(data["label"][session]):
            rows = session[(data["subject"][session] == s) & (data["label"][session] == a)]
            if rows.size:
                trial = rng.choice(np.unique(data["trial_id"][rows]))
                keep.append(rows[data["trial_id"][rows] == trial])
    return np.concatenate(keep)


def stretches(data: dict[str, np.ndarray], labelled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stretch id and ordinal (rank among its activity's stretches) of each labelled window, as
    the app numbers them: the windows go through a real :class:`LabelStore`, each trial one label
    interval (``label:start`` ... ``label:stop``), windows one hop apart."""
    store = LabelStore(max_per_activity=max(1, labelled.size))
    groups: list[int] = []
    ordinals: list[int] = []
    previous = None
    for j, i in enumerate(labelled):
        name, t = str(data["label"][i]), j * HOP_S  # LSL-like times, one hop apart
        if data["trial_id"][i] != previous:  # the next trial: a new label interval
            store.start_label(name, t)
            previous = data["trial_id"][i]
        stretch = store.add_window(name, data["imu"][i], t)
        assert stretch is not None, f"window {i} refused by the label store"
        groups.append(stretch)
        ordinals.append(store.ordinal(stretch))
    return np.asarray(groups, np.int64), np.asarray(ordinals, np.int64)


def shown_shares(
    probs: np.ndarray, activities: tuple[str, ...], truth: list[str], alpha: float
) -> dict[str, dict[str, float]]:
    """Share of windows shown correct / wrong / unknown per threshold rule (smoothed in order)."""
    k = len(activities)
    rules = {f"{m:g}/K": m / k for m in THRESHOLD_MULTIPLES} | {"fixed_0.5": 0.5}
    out = {}
    for name, threshold in rules.items():
        smoother = Smoother(alpha, min(threshold, 1.0))
        labels = [
            smoother(dict(zip(activities, map(float, p), strict=True)), float(i)).label
            for i, p in enumerate(probs)
        ]
        shown = np.asarray(labels)
        unknown = shown == "unknown"
        correct = shown == np.asarray(truth)
        out[name] = {
            "threshold": float(threshold),
            "correct": float(correct.mean() * 100),
            "wrong": float((~correct & ~unknown).mean() * 100),
            "unknown": float(unknown.mean() * 100),
        }
    return out


def run_fold(
    data: dict[str, np.ndarray],
    z_all: np.ndarray,
    config: AppConfig,
    fold: int,
    seed: int,
    train: bool,
) -> dict[str, Any]:
    session = session_order(data, [s for s in TRAIN_SUBJECTS if s != fold])
    held = session_order(data, [fold])
    labelled = labelled_windows(data, session, seed)
    cfg = config.replace({"student.seed": seed})
    student = build_student(cfg)
    store = PairStore(cfg.trainer.replay_size, 6, 100, z_all.shape[1])
    trainer = TrainerWorker(cfg.trainer, student, store, seed=seed)
    groups, ordinals = stretches(data, labelled)
    every = cfg.trainer.hold_out_every
    scored = np.asarray([held_out(int(o), every) for o in ordinals], bool)  # (L,) guard's data
    no_pair = set(labelled[scored].tolist())
    t0 = time.perf_counter()
    for i in session:
        trainer.imu_stats.observe(data["imu"][i])
        if train and int(i) not in no_pair:
            store.add(data["imu"][i], z_all[i])
            trainer.step_until_budget()
    trainer.request_flush()
    trainer.ready()
    if train:
        trainer.step_until_budget()
    seconds = time.perf_counter() - t0
    encoder = trainer.ema.eval()
    names = [str(a) for a in data["label"][labelled]]
    activities = tuple(str(a) for a in range(27))
    pc = cfg.predictor
    head = fit_head(
        encode_windows(encoder, data["imu"][labelled]),
        names,
        activities,
        pc.min_windows_per_activity,
        pc.classifier_c,
        pc.anchor_temperature,
    )
    assert head is not None
    probs = head.probabilities(encode_windows(encoder, data["imu"][held]))  # (M, K)
    truth = [str(a) for a in data["label"][held]]
    predicted = np.asarray(head.activities)[probs.argmax(axis=1)]
    guard = None
    if train and every > 0:  # what the app's guard would say, vs the gain on the new subject
        start = build_student(cfg).eval()
        start.set_channel_stats(encoder.channel_mean, encoder.channel_std)
        verdict = compare_students(
            encoder,
            start,
            data["imu"][labelled],
            names,
            groups,
            activities,
            pc.min_windows_per_activity,
            pc.classifier_c,
            pc.anchor_temperature,
            scored=scored,
        )
        guard = verdict.as_dict()
    return {
        "fold": fold,
        "seed": seed,
        "top1": float(np.mean(predicted == np.asarray(truth)) * 100),
        "held_out_windows": int(scored.sum()) if every > 0 else 0,
        "guard": guard,
        "steps": trainer.step,
        "rounds": trainer.schedule.rounds,
        "pairs": int(store.added),
        "train_s": seconds,
        "shown": shown_shares(probs, tuple(head.activities), truth, pc.smoothing_alpha),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--folds", default=",".join(map(str, TRAIN_SUBJECTS)))
    parser.add_argument("--out", type=Path, default=OUT, help="results JSON (updated per run)")
    args = parser.parse_args(argv)
    out: Path = args.out
    torch.set_num_threads(1)
    data = load_windows()
    base = AppConfig()
    projection = make_projection(base.teacher, data["features"].shape[1])
    projection.fit_stats(torch.from_numpy(data["features"]))  # ≈ the running mean's end value
    with torch.no_grad():
        z_all = torch.nn.functional.normalize(
            projection(torch.from_numpy(data["features"])), dim=1
        ).numpy()  # (M, D)
    seeds = [int(s) for s in args.seeds.split(",")]
    folds = [int(f) for f in args.folds.split(",")]
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    results.setdefault("runs", {})
    results["protocol"] = (
        "UTD-MHAD training subjects only; leave-one-training-subject-out: a session of the other "
        "three (inside-trial windows, hop 0.5 s, app's default teacher per window), one labelled "
        "trial per activity per session subject; served EMA student + fit_head scored per window "
        "on the held-out subject; trainer driven synchronously (step_until_budget)"
    )
    results["machine"] = machine()
    for name in args.candidates.split(","):
        overrides = CANDIDATES[name]
        config = base.replace(overrides)
        previous = results["runs"].get(name, {}).get("folds", [])
        runs = [r for r in previous if r["fold"] not in folds or r["seed"] not in seeds]
        for fold in folds:
            for seed in seeds:
                r = run_fold(
                    data, z_all, config, fold, seed, train=not name.startswith("untrained")
                )
                runs.append(r)
                guard = r["guard"] or {}
                print(
                    f"{name:14s} fold={fold} seed={seed} top1={r['top1']:5.1f} "
                    f"steps={r['steps']} rounds={r['rounds']} {r['train_s']:.0f}s"
                    + (f" | {guard['summary']}" if guard else ""),
                    flush=True,
                )
        results["runs"][name] = {
            "overrides": overrides,
            "mean_top1": float(np.mean([r["top1"] for r in runs])),
            "folds": runs,
        }
        out.write_text(json.dumps(results, indent=1))
    if "untrained" in results["runs"]:
        ref = {(r["fold"], r["seed"]): r["top1"] for r in results["runs"]["untrained"]["folds"]}
        for name, entry in results["runs"].items():
            gains = [
                r["top1"] - ref[(r["fold"], r["seed"])]
                for r in entry["folds"]
                if (r["fold"], r["seed"]) in ref
            ]
            entry["gain_vs_untrained"] = float(np.mean(gains)) if gains else None
            print(f"{name:14s} top1={entry['mean_top1']:5.1f} gain={entry['gain_vs_untrained']}")
    out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

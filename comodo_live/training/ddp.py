"""``comodo-live distill --sessions DIR [DIR ...]``: COMODO over many recorded sessions,
data-parallel with PyTorch's own ``torchrun`` / DistributedDataParallel.

    comodo-live distill --sessions recordings/a recordings/b --out runs/lab
    torchrun --nproc_per_node 2 app.py distill --sessions recordings/* --out runs/lab

One process, or one per rank under ``torchrun`` (``RANK`` / ``WORLD_SIZE`` in the environment;
gloo on CPU, nccl on GPU). The app's configuration (``--config`` / ``--set``, as for
``comodo-live run``) sets the teacher, student, windowing and recipe, so the result resumes in
the app with the same settings.

1. **Pairs** (:mod:`comodo_live.training.sessions`): the sessions are sharded across ranks
   (session i on rank i mod world); each rank cuts its sessions and runs the teacher, writing
   the session cache; after a barrier every rank reads every session from the cache. Multi-node
   runs need ``--cache-dir`` on a shared file system.
2. **Teacher embeddings**: the app's frozen projection (seeded by ``teacher.proj_seed``), its
   feature statistics fitted on all pairs; IMU channel statistics likewise.
3. **Training** with the shared core (:class:`~comodo_live.training.core.DistillCore`): the
   student wrapped in ``DistributedDataParallel`` (gradients averaged), each rank drawing
   ``batch_size / world`` pairs of its own shard per step; the COMODO queue receives every
   rank's teacher embeddings (all-gathered), so the queues stay identical. One learning-rate
   round over the run (warm-up, cosine decay: :func:`~comodo_live.training.core.round_lr_factor`).
   One line per epoch in ``train_log.txt``; ``train_state.pt`` after each epoch — a rerun with
   the same arguments resumes from it.
4. **Output** (rank 0): ``OUT`` is a session folder — ``checkpoints/session.pt`` is the app's
   own checkpoint (student, EMA, projection, the labelled windows), so
   ``comodo-live run --resume OUT`` and ``comodo-live export --session OUT`` accept it; and
   ``distill.json`` (pairs, steps, losses, linear-probe accuracy on the labelled windows:
   leave-one-session-out, or halves of each activity with a single labelled session).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from comodo_live.config import AppConfig, ConfigError, dump_toml, load_config
from comodo_live.training.checkpoint import CheckpointError, load_torch_file
from comodo_live.training.sessions import SessionPairs, cached_pairs

DEFAULT_EPOCHS = 30
DEFAULT_CACHE = Path(".cache") / "sessions"
LOG_NAME = "train_log.txt"
STATE_NAME = "train_state.pt"
SUMMARY_NAME = "distill.json"


@dataclass(frozen=True)
class Rank:
    """This process's place in the run: ``rank`` of ``world``; ``device`` it trains on."""

    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed() -> Rank:
    """Join the ``torchrun`` process group when its environment is set (one process otherwise)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Rank(0, 1, torch.device("cpu"))
    cuda = torch.cuda.is_available()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank()
    device = torch.device("cpu")
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    return Rank(rank, dist.get_world_size(), device)


def barrier(rank: Rank) -> None:
    if rank.world > 1:
        dist.barrier()


# --- the dataset ----------------------------------------------------------------------------------
def load_sessions(
    paths: list[Path], config: AppConfig, teacher: Any, cache_dir: Path, rank: Rank, progress: bool
) -> list[SessionPairs]:
    """Every session's pairs; the teacher runs on this rank's shard only (see the module doc)."""
    mine = [p for i, p in enumerate(paths) if i % rank.world == rank.rank]
    for path in mine:
        bar = _bar(progress, f"rank {rank.rank}: {path.name}")
        pairs, hit = cached_pairs(path, config, teacher, cache_dir, _updater(bar))
        if bar is not None:
            bar.close()
        where = "cache" if hit else "teacher"
        print(f"[rank {rank.rank}] {path}: {len(pairs)} pairs ({where})", flush=True)
    barrier(rank)
    return [cached_pairs(p, config, teacher, cache_dir)[0] for p in paths]


def _bar(enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(desc=desc, unit=" windows", file=sys.stderr, leave=False)


def _updater(bar: Any) -> Any:
    if bar is None:
        return None
    return lambda n: bar.update(n - bar.n)


def channel_stats(imu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(C,) mean and std over windows and samples of (M, C, N) windows (std floored)."""
    from comodo_live.learning.imu_stats import MIN_STD

    mean = imu.mean(axis=(0, 2))
    std = np.maximum(imu.std(axis=(0, 2)), MIN_STD)
    return mean.astype(np.float32), std.astype(np.float32)


# --- probe ------------------------------------------------------------------------------------------
def probe_accuracy(encoder: torch.nn.Module, sessions: list[SessionPairs]) -> dict[str, Any] | None:
    """Linear-probe top-1 on the labelled windows (None with fewer than 2 activities).

    Leave-one-session-out over the sessions with labels (mean over folds whose training part
    holds every activity of the test part), or with a single labelled session the first half
    of each activity's windows against the second.
    """
    from comodo_live.training.probe import embed, linear_probe

    labelled = [s for s in sessions if (s.labels != "").any()]
    if not labelled or len({str(x) for s in labelled for x in s.labels if x}) < 2:
        return None
    emb = [embed(encoder, s.imu) for s in labelled]
    folds: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    if len(labelled) >= 2:
        for k, test in enumerate(labelled):
            keep_te = test.labels != ""
            train_x = np.concatenate(
                [
                    e[s.labels != ""]
                    for j, (s, e) in enumerate(zip(labelled, emb, strict=True))
                    if j != k
                ]
            )
            train_y = np.concatenate(
                [s.labels[s.labels != ""] for j, s in enumerate(labelled) if j != k]
            )
            folds.append((train_x, train_y, emb[k][keep_te], test.labels[keep_te]))
    else:
        s, e = labelled[0], emb[0]
        first = np.zeros(len(s), bool)
        for name in set(s.labels[s.labels != ""].tolist()):
            idx = np.flatnonzero(s.labels == name)
            first[idx[: len(idx) // 2]] = True
        second = (s.labels != "") & ~first
        folds.append((e[first], s.labels[first], e[second], s.labels[second]))
    scores = []
    for train_x, train_y, test_x, test_y in folds:
        usable = np.isin(test_y, train_y)
        if len(set(train_y.tolist())) < 2 or not usable.any():
            continue
        acc = linear_probe(train_x, train_y, test_x[usable], test_y[usable])
        scores.append(float(acc.top1))
    if not scores:
        return None
    return {"top1": float(np.mean(scores)), "folds": scores}


# --- training -----------------------------------------------------------------------------------------
@dataclass
class RunSettings:
    epochs: int
    seed: int
    batch_size: int  # global, all ranks together


def train(
    core: Any,
    imu: np.ndarray,
    z_v: np.ndarray,
    settings: RunSettings,
    rank: Rank,
    out: Path,
    progress: bool,
) -> dict[str, Any]:
    """One learning-rate round of ``epochs`` epochs over the pairs, data-parallel across ranks.

    Args:
        core: a :class:`~comodo_live.training.core.DistillCore` (its student possibly DDP).
        imu: (P, C, N) float32 windows; z_v: (P, D) float32 teacher embeddings.
        settings: epochs, seed, global batch size.
        rank: this process; out: the run folder (log and resumable state, written by rank 0).

    Returns:
        ``{"steps", "epochs", "loss": [mean loss of each epoch], "resumed_at"}``.
    """
    from comodo_live.training.core import round_lr_factor

    pairs = imu.shape[0]
    local_batch = max(2, settings.batch_size // rank.world)
    steps_per_epoch = max(1, math.ceil(pairs / (local_batch * rank.world)))
    total = steps_per_epoch * settings.epochs
    shard = np.arange(rank.rank, pairs, rank.world)  # this rank's pairs
    state_path = out / STATE_NAME
    losses: list[float] = []
    start_epoch = 0
    if state_path.is_file():
        try:  # bounded, weights-only: the run folder is the user's, its file untrusted
            saved = load_torch_file(state_path)
        except CheckpointError as exc:
            raise SystemExit(f"cannot resume: {exc}") from None
        if not isinstance(saved, dict):
            raise SystemExit(f"cannot resume: {state_path} is not a distillation state")
        same = (saved.get("total"), saved.get("world"), saved.get("seed"), saved.get("pairs"))
        if same == (total, rank.world, settings.seed, pairs):  # the same run, interrupted
            _load_core(core, saved)
            start_epoch, losses = int(saved["epoch"]), list(saved["losses"])
            if rank.main:
                print(f"resuming {state_path} after epoch {start_epoch}", flush=True)
    rng = np.random.default_rng([settings.seed, rank.rank, start_epoch])
    recipe = core.recipe
    log = (out / LOG_NAME).open("a") if rank.main else None
    wall0 = time.monotonic()
    try:
        for epoch in range(start_epoch, settings.epochs):
            epoch_loss, taken = 0.0, 0
            bar = _bar(progress and rank.main, f"epoch {epoch + 1}/{settings.epochs}")
            for k in range(steps_per_epoch):
                step = epoch * steps_per_epoch + k
                lr = recipe.lr * round_lr_factor(step, total, recipe.warmup_fraction)
                idx = rng.choice(shard, size=local_batch, replace=shard.size < local_batch)
                x = torch.from_numpy(imu[idx])  # (b, C, N)
                z = torch.from_numpy(z_v[idx])  # (b, D)
                result = core.step(x, z, lr, enqueue=torch.zeros(len(idx), dtype=torch.bool))
                if result.taken and recipe.method == "comodo":
                    core.queue.enqueue(_gathered(F.normalize(z.to(rank.device), dim=1), rank))
                epoch_loss += result.loss
                taken += int(result.taken)
                if bar is not None:
                    bar.update(1)
            if bar is not None:
                bar.close()
            mean = _mean_across(epoch_loss / steps_per_epoch, rank)
            losses.append(mean)
            if log is not None:
                line = (
                    f"epoch {epoch + 1}/{settings.epochs} steps {(epoch + 1) * steps_per_epoch} "
                    f"loss {mean:.4f} lr {lr:.2e} taken {taken}/{steps_per_epoch} "
                    f"wall {time.monotonic() - wall0:.1f}s"
                )
                print(line, file=log, flush=True)
                print(line, flush=True)
                run = {"total": total, "world": rank.world, "seed": settings.seed, "pairs": pairs}
                _save_state(core, state_path, epoch + 1, run, losses)
            barrier(rank)
    finally:
        if log is not None:
            log.close()
    return {"steps": total, "epochs": settings.epochs, "loss": losses, "resumed_at": start_epoch}


def _gathered(z: torch.Tensor, rank: Rank) -> torch.Tensor:
    """(b, D) → (world × b, D): every rank's batch, in rank order."""
    if rank.world == 1:
        return z
    parts = [torch.empty_like(z) for _ in range(rank.world)]
    dist.all_gather(parts, z.contiguous())
    return torch.cat(parts)


def _mean_across(value: float, rank: Rank) -> float:
    if rank.world == 1:
        return float(value)
    tensor = torch.tensor([value], dtype=torch.float64, device=rank.device)  # nccl: on the GPU
    dist.all_reduce(tensor)
    return float(tensor.item() / rank.world)


def _module(core: Any) -> torch.nn.Module:
    student = core.student
    return student.module if hasattr(student, "module") else student


def _save_state(
    core: Any, path: Path, epoch: int, run: dict[str, int], losses: list[float]
) -> None:
    state = {
        "epoch": epoch,
        **run,
        "losses": losses,
        "student": _module(core).state_dict(),
        "ema": core.ema.state_dict() if core.ema is not None else None,
        "optimizer": core.optimizer.state_dict(),
        "queue": core.queue.queue_state(),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load_core(core: Any, saved: dict[str, Any]) -> None:
    _module(core).load_state_dict(saved["student"])
    if core.ema is not None and saved.get("ema") is not None:
        core.ema.load_state_dict(saved["ema"])
    core.optimizer.load_state_dict(saved["optimizer"])
    core.queue.load_queue_state(saved["queue"])


# --- the command ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="comodo-live distill --sessions",
        description="COMODO distillation over recorded sessions (torchrun for data-parallel)",
    )
    parser.add_argument("--sessions", nargs="+", type=Path, required=True, metavar="DIR")
    parser.add_argument("--out", type=Path, required=True, help="run folder (a session folder)")
    parser.add_argument("--config", metavar="FILE.toml", help="app configuration file")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="epochs (>= 1)")
    parser.add_argument(
        "--batch-size", type=int, default=0, help="global batch (0: trainer.batch_size)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--threads", type=int, default=0, help="torch threads per rank (0: 1)")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def _config(args: argparse.Namespace) -> AppConfig:
    config = load_config(args.config, args.set)
    return config.replace({"session.record": False})


def main(argv: list[str] | None = None) -> int:
    """Run the distillation over sessions; returns the exit status (2: bad input)."""
    args = build_parser().parse_args(argv)
    if args.epochs < 1:
        raise SystemExit(f"--epochs must be >= 1, got {args.epochs}")
    missing = [str(p) for p in args.sessions if not p.exists()]
    if missing:
        raise SystemExit(f"--sessions: not found: {missing}")
    try:
        config = _config(args)
    except ConfigError as exc:
        raise SystemExit(f"configuration: {exc}") from None
    torch.set_num_threads(args.threads if args.threads > 0 else 1)
    rank = init_distributed()
    try:
        return _run(args, config, rank)
    finally:
        if rank.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _run(args: argparse.Namespace, config: AppConfig, rank: Rank) -> int:
    from torch.nn.parallel import DistributedDataParallel

    from comodo_live.learning.labels import LabelStore
    from comodo_live.learning.pipeline import Pipeline
    from comodo_live.learning.predictions import PredictionBoard
    from comodo_live.session import folder as session_files
    from comodo_live.training.core import DistillCore

    progress = not args.no_progress
    out: Path = args.out
    if rank.main:
        out.mkdir(parents=True, exist_ok=True)
    labels = LabelStore(config.predictor.max_windows_per_activity)
    pipeline = Pipeline(
        config,
        labels,
        PredictionBoard(config.predictor.history),
        session_files.checkpoint_path(out),
    )
    teacher = pipeline.teacher.teacher
    sessions = load_sessions(list(args.sessions), config, teacher, args.cache_dir, rank, progress)
    imu = np.concatenate([s.imu for s in sessions])  # (P, C, N)
    features = np.concatenate([s.features for s in sessions])  # (P, F)
    if imu.shape[0] < 2:
        raise SystemExit(f"--sessions gave {imu.shape[0]} paired windows; distillation needs >= 2")
    projection = pipeline.teacher.projection
    feats = torch.from_numpy(features)
    if projection.normaliser.enabled:
        projection.fit_stats(feats)
    with torch.no_grad():
        z_v = projection(feats).numpy().astype(np.float32)  # (P, D)
    student = pipeline.trainer.student
    mean, std = channel_stats(imu)
    student.set_channel_stats(mean, std)
    recipe = config.trainer.recipe()
    batch = args.batch_size or recipe.batch_size
    core = DistillCore(student.to(rank.device), recipe, z_v.shape[1], seed=args.seed + rank.rank)
    if rank.world > 1:
        core.student = DistributedDataParallel(student)
    settings = RunSettings(args.epochs, args.seed, batch)
    history = train(core, imu, z_v, settings, rank, out, progress)
    if rank.main:
        summary = _write_outputs(pipeline, core, sessions, mean, std, config, out, history["steps"])
        summary.update(
            {
                "world_size": rank.world,
                "backend": dist.get_backend() if rank.world > 1 else "none",
                "sessions": [str(p) for p in args.sessions],
                "pairs": int(imu.shape[0]),
                "global_batch": batch,
                "seed": args.seed,
                **history,
            }
        )
        (out / SUMMARY_NAME).write_text(json.dumps(summary, indent=1))
        session_files.make_private(out)
        probe = summary.get("probe")
        shown = f"probe top-1 {probe['top1']:.1f} %" if probe else "no probe (labels < 2 kinds)"
        print(
            f"distilled {summary['pairs']} pairs from {len(sessions)} sessions on "
            f"{rank.world} process(es): {history['steps']} steps, final loss "
            f"{history['loss'][-1]:.4f}, {shown}; wrote {out}",
            flush=True,
        )
    barrier(rank)
    return 0


def _write_outputs(
    pipeline: Any,
    core: Any,
    sessions: list[SessionPairs],
    mean: np.ndarray,
    std: np.ndarray,
    config: AppConfig,
    out: Path,
    steps: int,
) -> dict[str, Any]:
    """The app's checkpoint (student, EMA, projection, labelled windows) and the probe."""
    from comodo_live.learning.pipeline import build_student
    from comodo_live.session import folder as session_files

    trainer = pipeline.trainer
    trainer.ema.load_state_dict(core.ema.state_dict())  # the student the app serves
    trainer.queue.load_queue_state(core.queue.queue_state())
    trainer.imu_stats.load_state(
        {"ready": True, "mean": torch.from_numpy(mean), "std": torch.from_numpy(std)}
    )
    trainer.step = steps
    for s in sessions:  # the labelled windows: the app's classifier fits on them at resume
        for k in np.flatnonzero(s.labels != ""):
            name = pipeline.labels.add_activity(str(s.labels[k]))
            pipeline.labels.add_window(name, s.imu[k], float(s.t_end[k]))
    (out / session_files.CHECKPOINT_DIR).mkdir(exist_ok=True)
    config_file = out / session_files.CONFIG_NAME
    if not config_file.exists():
        config_file.write_text(dump_toml(config), encoding="utf-8")
    pipeline.save_checkpoint()
    untrained = build_student(config)  # the same seeded initial student, not distilled
    untrained.set_channel_stats(mean, std)
    return {
        "probe": probe_accuracy(trainer.ema, sessions),
        "probe_untrained": probe_accuracy(untrained, sessions),
    }

"""Live learning on real data: a continuous UTD-MHAD session through the real engine.

The session: UTD-MHAD training subjects 1, 3, 5, 7, every trial concatenated in file order (IMU
at 50 Hz converted from g / deg/s to m/s² / rad/s; each trial's 16 depth frames as 8-bit video
(per-trial 1st–99th percentile scaling, near = bright, replicated to RGB) held at 15 fps), one
labelled trial per activity per subject (``label:start:<activity>`` / ``label:stop`` markers,
k = 1, the labelled trial drawn with the run's seed). It is written through the project's
recording path (LSL outlets recorded by :class:`SessionRecorder` into ``session.xdf`` + the
video beside it), then replayed through the live pipeline with the deterministic fast replay
(:mod:`comodo_live.session.fast_replay`), and scored IMU-only on test subjects 2, 4, 6, 8:
two-second windows cut inside each trial, hop 0.5 s, per window and per trial (mean
probability).

Rows per seed (student seed = label draw):
    live            the served student + the app's classifier fitted on the session's labels
    untrained       the same student untrained, same labels, same channel statistics
    imu_stats       IMU summary statistics + logistic regression, same labelled windows
    offline         the offline recipe (augmentation, cosine schedule) on the run's pair store
    shuffled        the same with the pairs' teacher embeddings shuffled (control)
    personalise_*   Personalise (the app's fine-tune) from the live / untrained student
    display         share of test windows the app shows correct / wrong / "unknown"
    curve           live score at a few points of the session (EMA snapshots)

    .venv/bin/python -m benchmarks.live_utd            # 3 seeds, writes results/live_utd.json
    .venv/bin/python -m benchmarks.live_utd --quick    # 1 subject, 4 activities, 1 seed
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from comodo_live.config import AppConfig, as_dict, load_config
from comodo_live.data.utd_mhad import depth_to_clip, split_lengths
from comodo_live.head import HeadSpec, fit_head
from comodo_live.learning.pipeline import build_student
from comodo_live.learning.refit import encode_windows
from comodo_live.models.student import ImuStudent
from comodo_live.records import DEG_TO_RAD, G_TO_MS2, ImuWindow
from comodo_live.session.fast_replay import FastReplay, status_line

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "utd_mhad.npz"
RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / ".cache" / "live_utd"
TRAIN_SUBJECTS = (1, 3, 5, 7)
TEST_SUBJECTS = (2, 4, 6, 8)
RATE_HZ = 50.0
FPS = 15.0
WINDOW = 100  # samples (2 s at 50 Hz)
HOP = 25  # samples (0.5 s)
ACTIVITIES = (
    "swipe_left",
    "swipe_right",
    "wave",
    "clap",
    "throw",
    "arm_cross",
    "basketball_shoot",
    "draw_x",
    "draw_circle_cw",
    "draw_circle_ccw",
    "draw_triangle",
    "bowling",
    "boxing",
    "baseball_swing",
    "tennis_swing",
    "arm_curl",
    "tennis_serve",
    "push",
    "knock",
    "catch",
    "pickup_throw",
    "jog",
    "walk",
    "sit_to_stand",
    "stand_to_sit",
    "lunge",
    "squat",
)


# --- the data -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trials:
    """UTD-MHAD trials in file order: IMU (T_i, 6) m/s², rad/s; action 0..26; subject; trial."""

    imu: list[np.ndarray]
    action: np.ndarray
    subject: np.ndarray
    trial: np.ndarray
    depth: np.ndarray | None  # (n, 16, H, W) uint16 mm, or None when not loaded

    def select(self, subjects: tuple[int, ...], actions: tuple[int, ...] | None) -> np.ndarray:
        keep = np.isin(self.subject, subjects)
        if actions is not None:
            keep &= np.isin(self.action, actions)
        return np.flatnonzero(keep)


def load_trials(path: Path = DATA, depth: bool = True) -> Trials:
    with np.load(path) as npz:
        inertial = npz["inertial"].astype(np.float64)
        lengths = npz["inertial_lengths"].astype(np.int64)
        units = np.array([G_TO_MS2] * 3 + [DEG_TO_RAD] * 3)
        imu = [(x * units).astype(np.float32) for x in split_lengths(inertial, lengths)]
        return Trials(
            imu=imu,
            action=npz["action"].astype(np.int64) - 1,
            subject=npz["subject"].astype(np.int64),
            trial=npz["trial"].astype(np.int64),
            depth=np.asarray(npz["depth"]) if depth else None,
        )


@dataclass
class SessionPlan:
    """A continuous session: what to record, all times relative to its start (seconds)."""

    trials: np.ndarray  # (n,) trial indices in order
    starts: np.ndarray  # (n,) trial start times
    durations: np.ndarray  # (n,)
    imu_t: np.ndarray  # (N,)
    imu: np.ndarray  # (N, 6) float32
    frame_t: np.ndarray  # (F,)
    frame_source: np.ndarray  # (F, 2) int64: (position in ``trials``, depth frame 0..15)
    markers: list[tuple[float, str]]
    labelled: np.ndarray  # (n,) bool: the trial is labelled

    @property
    def duration_s(self) -> float:
        return float(self.starts[-1] + self.durations[-1]) if self.trials.size else 0.0


def plan_session(
    data: Trials, subjects: tuple[int, ...], label_seed: int, actions: tuple[int, ...] | None = None
) -> SessionPlan:
    """Concatenate the subjects' trials (file order) and draw one labelled trial per
    (subject, activity) with ``label_seed``."""
    order = data.select(subjects, actions)
    if order.size == 0:
        raise ValueError(f"no trials for subjects {subjects} and actions {actions}")
    durations = np.array([data.imu[i].shape[0] / RATE_HZ for i in order])
    starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
    imu_t = np.concatenate(
        [s + np.arange(data.imu[i].shape[0]) / RATE_HZ for s, i in zip(starts, order, strict=True)]
    )
    imu = np.concatenate([data.imu[i] for i in order]).astype(np.float32)
    total = float(starts[-1] + durations[-1])
    frame_t = np.arange(math.floor(total * FPS)) / FPS
    which = np.clip(np.searchsorted(starts, frame_t, side="right") - 1, 0, order.size - 1)
    within = (frame_t - starts[which]) / durations[which]
    depth_frame = np.clip(np.floor(within * 16).astype(np.int64), 0, 15)
    rng = np.random.default_rng(label_seed)
    labelled = np.zeros(order.size, bool)
    for subject in subjects:
        for action in np.unique(data.action[order]):
            mine = np.flatnonzero((data.subject[order] == subject) & (data.action[order] == action))
            if mine.size:
                labelled[rng.choice(mine)] = True
    markers: list[tuple[float, str]] = []
    for k in np.flatnonzero(labelled).tolist():
        name = ACTIVITIES[int(data.action[order[k]])]
        markers.append((float(starts[k]), f"label:start:{name}"))
        markers.append((float(starts[k] + durations[k]) - 1e-3, "label:stop"))
    return SessionPlan(
        order, starts, durations, imu_t, imu, frame_t, np.stack([which, depth_frame], 1),
        markers, labelled,
    )  # fmt: skip


def plan_frames(data: Trials, plan: SessionPlan) -> Iterator[np.ndarray]:
    """The session video's frames in order, (H, W, 3) uint8 RGB."""
    assert data.depth is not None
    cached: tuple[int, np.ndarray] | None = None
    for position, depth_frame in plan.frame_source.tolist():
        if cached is None or cached[0] != position:
            cached = (position, depth_to_clip(data.depth[plan.trials[position]], 16))
        yield cached[1][depth_frame]


# --- recording a session through the project's recording path ----------------------------------
def write_video(path: Path, frames: Iterator[np.ndarray], fps: float, codec: str = "FFV1") -> int:
    """Write RGB frames to ``path`` (lossless FFV1 by default); returns the frame count."""
    import cv2

    writer: Any = None
    count = 0
    try:
        for rgb in frames:
            if writer is None:
                h, w = rgb.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), fps, (w, h))
                if not writer.isOpened():
                    raise OSError(f"cannot write video {path} with codec {codec}")
            writer.write(np.ascontiguousarray(rgb[..., ::-1]))
            count += 1
    finally:
        if writer is not None:
            writer.release()
    return count


def record_session(
    out: Path,
    imu_t: np.ndarray,
    imu: np.ndarray,
    frame_t: np.ndarray,
    video: Path,
    markers: list[tuple[float, str]],
    imu_rate_hz: float = RATE_HZ,
    fps: float = FPS,
    frame_size: tuple[int, int] = (160, 120),
    chunk_s: float = 20.0,
) -> Path:
    """Record arrays into ``out/session.xdf`` through LSL outlets and :class:`SessionRecorder`.

    The layout of :func:`comodo_live.recording.convert.convert` (IMU stream with channel
    metadata, frame-index stream naming ``video`` — which must already be in ``out``) plus a
    ``Markers`` string stream. Samples carry explicit timestamps (LSL start time + the arrays'
    times); they are pushed in ``chunk_s`` slices, paced so that neither the outlets' nor the
    recorder's buffers overflow (the converter's one-burst push loses data past ~6 min,
    issue 11), and the file is checked sample for sample against what was pushed.

    Raises:
        RuntimeError: the recorded file does not hold every pushed sample.
    """
    import pylsl
    import pyxdf

    from comodo_live.recording.convert import _frame_info, _imu_info
    from comodo_live.recording.recorder import SessionRecorder
    from comodo_live.recording.session import SESSION_XDF
    from comodo_live.streams.names import MARKER_TYPE
    from comodo_live.streams.resolve import resolve_stream

    tag = uuid.uuid4().hex[:8]
    buffered = math.ceil(float(max(imu_t[-1], frame_t[-1] if frame_t.size else 0.0))) + 60
    imu_outlet = pylsl.StreamOutlet(
        _imu_info(f"live-utd-imu-{tag}", imu_rate_hz, "utd_mhad.npz"), max_buffered=buffered
    )
    frame_outlet = pylsl.StreamOutlet(
        _frame_info(f"live-utd-cam-{tag}", fps, video, frame_size), max_buffered=buffered
    )
    marker_info = pylsl.StreamInfo(
        "SessionMarkers", MARKER_TYPE, 1, 0.0, pylsl.cf_string, f"live-utd-mk-{tag}"
    )
    marker_outlet = pylsl.StreamOutlet(marker_info, max_buffered=buffered)
    infos = [resolve_stream(source_id=f"live-utd-{k}-{tag}") for k in ("imu", "cam", "mk")]
    recorder = SessionRecorder(out / SESSION_XDF, infos).start()
    index = np.arange(frame_t.size, dtype=np.float64)[:, None]
    marker_t = np.array([m[0] for m in markers])
    try:
        t0 = pylsl.local_clock()
        end = max(float(imu_t[-1]), float(frame_t[-1]) if frame_t.size else 0.0)
        lo = 0.0
        while lo <= end:
            hi = lo + chunk_s
            for outlet, times, values in (
                (imu_outlet, imu_t, imu),
                (frame_outlet, frame_t, index),
            ):
                a, b = np.searchsorted(times, [lo, hi], side="left")
                if b > a:
                    outlet.push_chunk(values[a:b], (t0 + times[a:b]).tolist())
            a, b = np.searchsorted(marker_t, [lo, hi], side="left")
            for k in range(int(a), int(b)):
                marker_outlet.push_sample([markers[k][1]], t0 + markers[k][0])
            lo = hi
            time.sleep(0.05)
        time.sleep(1.0)
    finally:
        recorder.stop()
    streams, _ = pyxdf.load_xdf(str(out / SESSION_XDF), dejitter_timestamps=False)
    counts = {str(s["info"]["type"][0]): len(s["time_stamps"]) for s in streams}
    expected = {"IMU": imu_t.size, "VideoFrameIndex": frame_t.size, "Markers": len(markers)}
    if any(counts.get(k, 0) != v for k, v in expected.items()):
        raise RuntimeError(f"recorded {counts}, pushed {expected} into {out / SESSION_XDF}")
    return out / SESSION_XDF


def build_session(
    data: Trials, plan: SessionPlan, out: Path, video_cache: Path | None = None
) -> Path:
    """A session folder (``session.xdf`` + ``video.avi``) for ``plan``; the video is written
    once per frame content into ``video_cache`` and hard-linked (copied) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    video = out / "video.avi"
    if video_cache is not None:
        key = f"{plan.trials.size}-{int(plan.trials.sum())}-{plan.frame_t.size}"
        cached = video_cache / f"utd-{key}.avi"
        if not cached.is_file():
            video_cache.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp.avi")
            write_video(tmp, plan_frames(data, plan), FPS)
            os.replace(tmp, cached)
        try:
            os.link(cached, video)
        except OSError:
            shutil.copyfile(cached, video)
    else:
        write_video(video, plan_frames(data, plan), FPS)
    return record_session(out, plan.imu_t, plan.imu, plan.frame_t, video, plan.markers)


# --- scoring --------------------------------------------------------------------------------------
@dataclass
class TestSet:
    """Two-second windows cut inside the test trials (hop 0.5 s)."""

    windows: np.ndarray  # (M, 6, 100) float32
    labels: np.ndarray  # (M,) action index
    trial: np.ndarray  # (M,) trial id (index into the data)


def test_windows(
    data: Trials, subjects: tuple[int, ...], actions: tuple[int, ...] | None
) -> TestSet:
    windows, labels, trial = [], [], []
    for i in data.select(subjects, actions).tolist():
        x = data.imu[i]  # (T, 6)
        for start in range(0, x.shape[0] - WINDOW + 1, HOP):
            windows.append(x[start : start + WINDOW].T)
            labels.append(int(data.action[i]))
            trial.append(i)
    return TestSet(np.stack(windows).astype(np.float32), np.array(labels), np.array(trial))


def score_probs(probs: np.ndarray, classes: list[int], test: TestSet) -> dict[str, float]:
    """Per-window and per-trial (mean probability) accuracy, %."""
    classes_arr = np.asarray(classes)
    per_window = float(np.mean(classes_arr[probs.argmax(1)] == test.labels)) * 100
    hits = []
    for trial in np.unique(test.trial):
        mask = test.trial == trial
        hits.append(classes_arr[probs[mask].mean(0).argmax()] == test.labels[mask][0])
    return {"window": round(per_window, 2), "trial": round(float(np.mean(hits)) * 100, 2)}


def head_classes(head: HeadSpec) -> list[int]:
    return [ACTIVITIES.index(a) for a in head.activities]


def fit_app_head(
    encoder: ImuStudent, windows: np.ndarray, names: list[str], config: AppConfig
) -> HeadSpec:
    """The app's classifier (:func:`fit_head`, the predictor's settings) on labelled windows."""
    p = config.predictor
    head = fit_head(
        encode_windows(encoder, windows),
        names,
        tuple(dict.fromkeys(names)),
        p.min_windows_per_activity,
        p.classifier_c,
        p.anchor_temperature,
    )
    if head is None:
        raise ValueError("no labelled windows to fit the classifier on")
    return head


def score_encoder(
    encoder: ImuStudent, windows: np.ndarray, names: list[str], config: AppConfig, test: TestSet
) -> dict[str, float]:
    head = fit_app_head(encoder, windows, names, config)
    probs = head.probabilities(encode_windows(encoder, test.windows))
    return score_probs(probs, head_classes(head), test)


def display_shares(
    encoder: ImuStudent, head: HeadSpec, config: AppConfig, test: TestSet
) -> dict[str, float]:
    """Share of test windows the app shows correct / wrong / "unknown": the predictor's own
    :meth:`PredictorWorker.predict` (smoothing and unknown rule), one trial after another
    (smoothing restarted per trial)."""
    from comodo_live.learning.predictor import PredictorModel, PredictorWorker

    shown = {"correct": 0, "wrong": 0, "unknown": 0}
    for trial in np.unique(test.trial):
        worker = PredictorWorker(config.predictor, lambda *_: None)
        worker._model = PredictorModel(encoder, head, 0)  # what set_model hands over
        for k in np.flatnonzero(test.trial == trial).tolist():
            window = ImuWindow(test.windows[k], 0.0, 2.0, RATE_HZ, False, 0.0)
            prediction = worker.predict(window)
            label = "unknown" if prediction is None else prediction.label
            if label == "unknown":
                shown["unknown"] += 1
            elif label == ACTIVITIES[int(test.labels[k])]:
                shown["correct"] += 1
            else:
                shown["wrong"] += 1
    total = max(1, sum(shown.values()))
    return {k: round(100.0 * v / total, 2) for k, v in shown.items()}


def imu_stats_score(windows: np.ndarray, names: list[str], test: TestSet) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from comodo_live.training.probe import imu_summary_features

    x = imu_summary_features(windows)
    scaler = StandardScaler().fit(x)
    y = np.array([ACTIVITIES.index(n) for n in names])
    clf = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(x), y)
    probs = clf.predict_proba(scaler.transform(imu_summary_features(test.windows)))
    return score_probs(probs, [int(c) for c in clf.classes_], test)


def untrained_like(config: AppConfig, live: ImuStudent) -> ImuStudent:
    """The app's student at its seed, untrained, with the live student's channel statistics."""
    student = build_student(config).eval()
    student.set_channel_stats(live.channel_mean.numpy(), live.channel_std.numpy())
    return student


def personalised(
    encoder: ImuStudent, windows: np.ndarray, names: list[str], config: AppConfig, seed: int
) -> ImuStudent:
    """What Personalise installs: a copy of ``encoder`` fine-tuned on the labelled windows."""
    from comodo_live.training.supervised import SupervisedConfig, train_classifier

    activities = list(dict.fromkeys(names))
    targets = np.array([activities.index(n) for n in names])
    student = copy.deepcopy(encoder).requires_grad_(True)
    steps = config.predictor.personalise_steps
    model = train_classifier(
        student, windows, targets, len(activities), SupervisedConfig(steps=steps, seed=seed)
    )
    return model.student.eval()


def offline_student(
    config: AppConfig,
    live: ImuStudent,
    imu: np.ndarray,
    z_v: np.ndarray,
    seed: int,
    steps: int,
    shuffle: bool = False,
) -> ImuStudent:
    """The offline recipe on the run's pairs: a fresh student (same seed and channel statistics
    as the live one), COMODO with augmentation and a cosine schedule (``shuffle``: the teacher
    embeddings permuted across pairs, a control)."""
    from comodo_live.training.augment import ImuAugment
    from comodo_live.training.distill import DistillConfig, distill

    student = untrained_like(config, live)
    student.requires_grad_(True)
    if shuffle:
        z_v = z_v[np.random.default_rng(seed + 1000).permutation(z_v.shape[0])]
    t = config.trainer
    cfg = DistillConfig(
        steps=steps,
        batch_size=t.batch_size,
        lr=t.lr,
        weight_decay=t.weight_decay,
        queue_size=t.queue_size,
        tau_t=t.tau_t,
        tau_s=t.tau_s,
        augment=ImuAugment(),
        seed=seed,
    )
    distill(student, imu, z_v, cfg, progress=False)
    return student.eval()


# --- one run --------------------------------------------------------------------------------------
@dataclass
class Settings:
    train_subjects: tuple[int, ...] = TRAIN_SUBJECTS
    test_subjects: tuple[int, ...] = TEST_SUBJECTS
    actions: tuple[int, ...] | None = None
    seeds: tuple[int, ...] = (0, 1, 2)
    steps_per_pair: int | None = None
    offline_steps: int = 1000
    curve_points: int = 4
    overrides: dict[str, Any] = field(default_factory=dict)
    rows: tuple[str, ...] = ("untrained", "imu_stats", "offline", "shuffled", "personalise")


def app_config(seed: int, overrides: dict[str, Any], root: Path) -> AppConfig:
    values = {"student.seed": seed, "session.root": str(root), **overrides}
    return load_config(overrides=values)


def run_seed(
    data: Trials, settings: Settings, seed: int, work: Path, cache: Path
) -> dict[str, Any]:
    """Record the session for label draw ``seed``, fast-replay it, score every row."""
    plan = plan_session(data, settings.train_subjects, seed, settings.actions)
    folder = (
        work / f"session-s{'-'.join(map(str, settings.train_subjects))}-{len(plan.trials)}-d{seed}"
    )
    if not (folder / "session.xdf").is_file():
        if folder.exists():
            shutil.rmtree(folder)
        t0 = time.monotonic()
        build_session(data, plan, folder, work / "videos")
        logger.info("recorded %s in %.1f s", folder, time.monotonic() - t0)
    config = app_config(seed, settings.overrides, work / "sessions")
    torch.manual_seed(seed)
    curve: list[tuple[float, int, ImuStudent]] = []
    marks = [
        plan.duration_s * (k + 1) / settings.curve_points for k in range(settings.curve_points)
    ]

    def observe(replay: FastReplay, paired: Any) -> None:
        elapsed = replay.t - float(replay.recording.imu_t[0])
        if len(curve) < len(marks) - 1 and elapsed >= marks[len(curve)]:
            trainer = replay.pipeline.trainer
            curve.append((elapsed, trainer.step, copy.deepcopy(trainer.ema).eval()))

    replay = FastReplay(
        config, folder, teacher_cache=cache, steps_per_pair=settings.steps_per_pair,
        observer=observe,
    )  # fmt: skip
    stats = replay.run(on_status=lambda r: logger.info("%s", status_line(r)), status_every_s=60.0)
    pipeline = replay.pipeline
    verdicts = [
        {"step": step, **verdict.as_dict()} for step, verdict in pipeline.classifier.guard.history
    ]
    served = pipeline.predictor.model
    assert served is not None and served.head is not None
    live = served.encoder
    windows, names = replay.labels.windows()
    test = test_windows(data, settings.test_subjects, settings.actions)
    result: dict[str, Any] = {
        "seed": seed,
        "replay": stats.as_dict(),
        "trainer_step": pipeline.trainer.step,
        "pairs_stored": len(pipeline.trainer.replay),
        "labelled_windows": len(names),
        "activities_labelled": len(set(names)),
        "test_windows": int(test.windows.shape[0]),
        "test_trials": int(np.unique(test.trial).size),
    }
    probs = served.head.probabilities(encode_windows(live, test.windows))
    result["live"] = score_probs(probs, head_classes(served.head), test)
    result["display"] = display_shares(live, served.head, config, test)
    result["serving"] = pipeline.classifier.guard.verdict.serving
    result["guard"] = verdicts  # every verdict of the student guard, in order
    # the final distilled (EMA) student with the app's classifier, whatever the guard served
    result["distilled"] = score_encoder(pipeline.trainer.ema, windows, names, config, test)
    untrained = untrained_like(config, live)
    if "untrained" in settings.rows:
        result["untrained"] = score_encoder(untrained, windows, names, config, test)
    if "imu_stats" in settings.rows:
        result["imu_stats"] = imu_stats_score(windows, names, test)
    state = pipeline.trainer.replay.state()
    imu = np.asarray(state["imu"], np.float32)
    z_v = np.asarray(state["z_v"], np.float32)
    for row, shuffle in (("offline", False), ("shuffled", True)):
        if row in settings.rows and imu.shape[0] >= 2:
            student = offline_student(
                config, live, imu, z_v, seed, settings.offline_steps, shuffle=shuffle
            )
            result[row] = score_encoder(student, windows, names, config, test)
    if "personalise" in settings.rows:
        for row, start in (("personalise_live", live), ("personalise_untrained", untrained)):
            tuned = personalised(start, windows, names, config, seed)
            result[row] = score_encoder(tuned, windows, names, config, test)
    points = [*curve, (stats.recording_s, pipeline.trainer.step, live)]
    result["curve"] = [
        {
            "recording_s": round(t, 1),
            "step": step,
            **score_encoder(enc, windows, names, config, test),
        }
        for t, step, enc in points
    ]
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean ± std over seeds of each row's per-window and per-trial score."""
    rows = [k for k, v in runs[0].items() if isinstance(v, dict) and "window" in v]
    out: dict[str, Any] = {}
    for row in rows:
        for unit in ("window", "trial"):
            values = [r[row][unit] for r in runs if row in r]
            out[f"{row}.{unit}"] = {
                "mean": round(float(np.mean(values)), 2),
                "std": round(float(np.std(values)), 2),
                "n": len(values),
            }
    if "untrained" in runs[0]:
        gains = [r["live"]["window"] - r["untrained"]["window"] for r in runs]
        out["live_minus_untrained.window"] = {
            "mean": round(float(np.mean(gains)), 2),
            "std": round(float(np.std(gains)), 2),
        }
    display = {
        k: round(float(np.mean([r["display"][k] for r in runs])), 2) for k in runs[0]["display"]
    }
    out["display"] = display
    out["speedup"] = round(float(np.mean([r["replay"]["speedup"] for r in runs])), 2)
    return out


def validate(
    recipe_overrides: dict[str, Any] | None = None,
    held_out_subject: int = 7,
    seeds: tuple[int, ...] = (0,),
    steps_per_pair: int | None = None,
    rows: tuple[str, ...] = ("untrained",),
    work: Path = WORK,
) -> dict[str, Any]:
    """A validation fold for choosing the recipe (never the test subjects): the session of the
    other three training subjects, scored on ``held_out_subject``'s trials.

    Args:
        recipe_overrides: config overrides (``{"trainer.lr": 1e-3, ...}``).
        held_out_subject: one of the training subjects 1, 3, 5, 7.
        seeds: student seeds (= label draws).
        steps_per_pair: fast-replay step budget override.
        rows: extra rows to score besides ``live`` (see :func:`run_seed`).

    Returns:
        ``{"runs": [...], "summary": {...}}`` as in the benchmark's JSON.
    """
    if held_out_subject not in TRAIN_SUBJECTS:
        raise ValueError(
            f"held_out_subject must be a training subject {TRAIN_SUBJECTS}, got {held_out_subject}"
        )
    settings = Settings(
        train_subjects=tuple(s for s in TRAIN_SUBJECTS if s != held_out_subject),
        test_subjects=(held_out_subject,),
        seeds=seeds,
        steps_per_pair=steps_per_pair,
        overrides=dict(recipe_overrides or {}),
        rows=rows,
    )
    data = load_trials()
    runs = [run_seed(data, settings, s, work, work / "teacher-cache") for s in seeds]
    return {"runs": runs, "summary": summarise(runs)}


def score_checkpoint(
    checkpoint: Path, data: Trials, test: TestSet, config: AppConfig
) -> dict[str, Any]:
    """Score a session checkpoint (what the app saved: EMA student + its classifier) on ``test``,
    per window and as shown by the app's display rule."""
    from comodo_live.head import HeadSpec
    from comodo_live.learning.state import load_state

    state = load_state(checkpoint)
    student = ImuStudent.from_config(dict(state["student_config"]))
    student.load_state_dict(state["ema_student"])
    student.eval()
    if state.get("classifier") is None:
        raise ValueError(f"{checkpoint} holds no classifier (no labelled windows?)")
    head = HeadSpec.from_dict(state["classifier"])
    probs = head.probabilities(encode_windows(student, test.windows))
    return {
        **score_probs(probs, head_classes(head), test),
        "display": display_shares(student, head, config, test),
        "trainer_step": int(state["step"]),
    }


def realtime_compare(
    data: Trials, subjects: tuple[int, ...], seed: int, work: Path, cache: Path
) -> dict[str, Any]:
    """The same session once in real time (``app.py --headless --replay FOLDER``: LSL player,
    threads, wall clock) and once in fast replay; both scored on the test subjects."""
    plan = plan_session(data, subjects, seed)
    folder = work / f"session-s{'-'.join(map(str, subjects))}-{len(plan.trials)}-d{seed}"
    if not (folder / "session.xdf").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        build_session(data, plan, folder, work / "videos")
    root = work / "realtime"
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.monotonic()
    cmd = [
        sys.executable, str(ROOT / "app.py"), "--headless", "--replay", str(folder),
        "--root", str(root), "--no-record", "--status-every", "60",
        "--set", f"student.seed={seed}",
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - t0
    if done.returncode != 0:
        raise RuntimeError(f"real-time run failed ({done.returncode}): {done.stderr[-2000:]}")
    (checkpoint,) = list(root.rglob("latest.pt"))
    config = app_config(seed, {}, work / "sessions")
    test = test_windows(data, TEST_SUBJECTS, None)
    realtime = score_checkpoint(checkpoint, data, test, config)
    fast = FastReplay(config, folder, teacher_cache=cache)
    stats = fast.run()
    served = fast.pipeline.predictor.model
    assert served is not None and served.head is not None
    probs = served.head.probabilities(encode_windows(served.encoder, test.windows))
    return {
        "subjects": list(subjects),
        "recording_s": round(plan.duration_s, 1),
        "realtime": {**realtime, "wall_s": round(wall, 1), "log_tail": done.stdout[-1500:]},
        "fast": {
            **score_probs(probs, head_classes(served.head), test),
            "display": display_shares(served.encoder, served.head, config, test),
            "trainer_step": fast.pipeline.trainer.step,
            "wall_s": round(stats.wall_s, 1),
        },
    }


# --- the CLI --------------------------------------------------------------------------------------
def commit() -> str:
    """The repository's HEAD (+dirty), or ``$LIVE_UTD_COMMIT`` (runs from an exported tree)."""
    if os.environ.get("LIVE_UTD_COMMIT"):
        return os.environ["LIVE_UTD_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def quick_settings() -> Settings:
    """Subject 1 → subject 2, four activities, one seed, short fixed budgets (a smoke run)."""
    return Settings(
        train_subjects=(1,),
        test_subjects=(2,),
        actions=(0, 21, 22, 26),
        seeds=(0,),
        offline_steps=50,
        curve_points=2,
        overrides={  # a 66-s session: statistics and rounds scaled down with it
            "predictor.personalise_steps": 50,
            "trainer.min_pairs": 32,
            "trainer.imu_stats_windows": 40,
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 subject, 4 activities, 1 seed")
    parser.add_argument("--seeds", type=int, nargs="+", help="student seeds = label draws")
    parser.add_argument("--steps-per-pair", type=int, help="fast-replay step budget override")
    parser.add_argument("--offline-steps", type=int, help="steps of the offline recipe rows")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--rows", nargs="*", help="rows besides live (default: all)")
    parser.add_argument("--out", type=Path, help="results JSON (default results/live_utd.json)")
    parser.add_argument("--work", type=Path, default=WORK, help="sessions and caches")
    parser.add_argument(
        "--merge", type=Path, nargs="+", metavar="JSON", help="instead: merge result files' runs"
    )
    parser.add_argument(
        "--realtime",
        type=int,
        nargs="+",
        metavar="SUBJECT",
        help="instead: one real-time run (app.py --replay at speed 1) of these training "
        "subjects' session vs fast replay of it (writes results/live_utd_realtime.json)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(1)
    try:
        from _machine import machine  # benchmarks/ is on sys.path when run as a script
    except ModuleNotFoundError:  # imported as benchmarks.live_utd (tests)
        from benchmarks._machine import machine

    from comodo_live.config import parse_override

    settings = quick_settings() if args.quick else Settings()
    if args.seeds:
        settings.seeds = tuple(args.seeds)
    if args.steps_per_pair is not None:
        settings.steps_per_pair = args.steps_per_pair
    if args.offline_steps is not None:
        settings.offline_steps = args.offline_steps
    if args.rows is not None:
        settings.rows = tuple(args.rows)
    settings.overrides.update(dict(parse_override(text) for text in args.set))
    out = args.out or RESULTS / ("live_utd_quick.json" if args.quick else "live_utd.json")
    if not DATA.is_file():
        print(f"error: {DATA} not found", file=sys.stderr)
        return 2
    if args.merge:
        reports = [json.loads(path.read_text()) for path in args.merge]
        merged = {**reports[0], "runs": [r for rep in reports for r in rep["runs"]]}
        merged["merged_from"] = [
            {"file": path.name, "commit": rep["commit"], "seconds": rep["seconds"]}
            for path, rep in zip(args.merge, reports, strict=True)
        ]
        merged["summary"] = summarise(merged["runs"])
        path = args.out or RESULTS / "live_utd.json"
        path.write_text(json.dumps(merged, indent=1, default=str))
        print(json.dumps(merged["summary"], indent=1))
        return 0
    data = load_trials()
    if args.realtime:
        compare = realtime_compare(
            data, tuple(args.realtime), settings.seeds[0], args.work, args.work / "teacher-cache"
        )
        report_rt = {"benchmark": "live_utd_realtime", "commit": commit(), "machine": machine(),
                     "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **compare}  # fmt: skip
        path = args.out or RESULTS / "live_utd_realtime.json"
        path.write_text(json.dumps(report_rt, indent=1, default=str))
        print(json.dumps({k: v for k, v in compare.items()}, indent=1, default=str))
        return 0
    t0 = time.monotonic()
    runs = []
    for seed in settings.seeds:
        runs.append(run_seed(data, settings, seed, args.work, args.work / "teacher-cache"))
        print(json.dumps({k: v for k, v in runs[-1].items() if k != "replay"}), flush=True)
    config = app_config(settings.seeds[0], settings.overrides, args.work / "sessions")
    report = {
        "benchmark": "live_utd",
        "commit": commit(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "seconds": round(time.monotonic() - t0, 1),
        "settings": {
            **{k: v for k, v in settings.__dict__.items()},
            "window_samples": WINDOW,
            "hop_samples": HOP,
            "fps": FPS,
            "config": as_dict(config),
        },
        "machine": machine(),
        "summary": summarise(runs),
        "runs": runs,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    print(json.dumps(report["summary"], indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

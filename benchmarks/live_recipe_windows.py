"""Per-window (IMU, teacher feature) pairs of the UTD-MHAD *training* subjects, as the app sees them.

Used by ``benchmarks/live_recipe_validation.py`` to choose the live recipe on validation folds
(subjects 1, 3, 5, 7 only; the test subjects 2, 4, 6, 8 are never read). Each trial becomes a
stretch of a continuous session: 2-s windows (100 samples at 50 Hz, hop 0.5 s) cut inside the
trial, IMU in m/s² and rad/s, and for each window the depth frames shown during it (the 16 depth
frames of the trial held over its span, 8-bit as in :func:`depth_to_clip`) go through the app's
default teacher (``[teacher]`` of ``comodo_live/default_config.toml``: EfficientNet-Lite0, 4
frames, 112 px, 2 segments). Cached in ``.cache/live_recipe_windows.npz``.

    python benchmarks/live_recipe_windows.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

import comodo_live  # noqa: F401
from comodo_live.config import AppConfig
from comodo_live.data.utd_mhad import DEG_TO_RAD, G_TO_MS2, TRAIN_SUBJECTS, depth_to_clip
from comodo_live.learning.teacher import make_teacher

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "utd_mhad.npz"
CACHE = ROOT / ".cache" / "live_recipe_windows.npz"
WINDOW = 100  # samples (2 s at 50 Hz)
HOP = 25  # samples (0.5 s)


def window_starts(length: int) -> np.ndarray:
    """Start samples of the windows cut inside a trial of ``length`` samples (>= 1 window)."""
    if length <= WINDOW:
        return np.zeros(1, np.int64)
    return np.arange(0, length - WINDOW + 1, HOP, dtype=np.int64)


def build(path: Path = DATA) -> dict[str, np.ndarray]:
    config = AppConfig()
    teacher = make_teacher(config.teacher)
    with np.load(path) as npz:
        inertial = npz["inertial"].astype(np.float32)
        lengths = npz["inertial_lengths"].astype(np.int64)
        action, subject, trial = npz["action"], npz["subject"], npz["trial"]
        keep = np.flatnonzero(np.isin(subject, TRAIN_SUBJECTS))
        depth = npz["depth"][keep]  # (n, 16, H, W) training subjects only
    scale = np.array([G_TO_MS2] * 3 + [DEG_TO_RAD] * 3, np.float32)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    imu, feats, label, subj, trial_id, trial_no = [], [], [], [], [], []
    t0 = time.perf_counter()
    for row, i in enumerate(keep):
        raw = inertial[offsets[i] : offsets[i + 1]] * scale  # (L, 6)
        length = raw.shape[0]
        if length < WINDOW:  # pad a short trial by holding its last sample
            raw = np.concatenate([raw, np.repeat(raw[-1:], WINDOW - length, axis=0)])
        frames = depth_to_clip(depth[row], 16)  # (16, H, W, 3)
        clips = []
        for start in window_starts(length):
            lo = int(np.floor(start * 16 / length))
            hi = int(np.ceil(min(start + WINDOW, length) * 16 / length))
            clips.append(frames[lo : max(hi, lo + 1)])
            imu.append(raw[start : start + WINDOW].T)  # (6, 100)
            label.append(action[i] - 1)
            subj.append(subject[i])
            trial_id.append(i)
            trial_no.append(trial[i])
        with torch.inference_mode():
            feats.append(teacher.embed(clips).numpy())  # (w, F)
        if row % 50 == 0:
            print(f"  trial {row}/{keep.size} {time.perf_counter() - t0:.0f} s", flush=True)
    return {
        "imu": np.stack(imu).astype(np.float32),  # (M, 6, 100)
        "features": np.concatenate(feats).astype(np.float32),  # (M, F)
        "label": np.asarray(label, np.int64),
        "subject": np.asarray(subj, np.int64),
        "trial_id": np.asarray(trial_id, np.int64),
        "trial": np.asarray(trial_no, np.int64),
    }


def load(path: Path = CACHE) -> dict[str, np.ndarray]:
    """The cached windows (built on first use)."""
    if not path.exists():
        data = build()
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **data)  # type: ignore[arg-type]
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


if __name__ == "__main__":
    torch.set_num_threads(1)
    d = load()
    print({k: v.shape for k, v in d.items()})
    sys.exit(0)

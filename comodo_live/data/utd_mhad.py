"""UTD-MHAD adapter: wrist IMU, depth clips and Kinect skeletons of 27 actions × 8 subjects.

The release in ``../shared/data`` stores per-trial clips (see its README). Video and IMU are paired
per trial but not sample-synchronised, so every modality is stretched over the clip's span:
the IMU of each trial is linearly resampled to a fixed number of samples, depth clips are
sub-sampled to a fixed number of frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from comodo_live.records import DEG_TO_RAD, G_TO_MS2

N_CLASSES = 27
IMU_RATE_HZ = 50.0
TRAIN_SUBJECTS: tuple[int, ...] = (1, 3, 5, 7)
TEST_SUBJECTS: tuple[int, ...] = (2, 4, 6, 8)
IMU_FILE = "utd_mhad.npz"
SKELETON_FILE = "utd_mhad_skeleton.npz"


@dataclass(frozen=True)
class UtdMhad:
    """IMU side of UTD-MHAD, one row per trial.

    Attributes:
        imu: (n, 6, window) float32; accel x/y/z in m/s², gyro x/y/z in rad/s, each trial
            linearly resampled over its own span to ``window`` samples.
        labels: (n,) int64 action index in [0, 27) (the file's action id minus one).
        subjects: (n,) int64 subject id in 1..8.
        trials: (n,) int64 trial id in 1..4.
        durations_s: (n,) float64 original clip duration in seconds (samples / 50 Hz).
        path: the ``utd_mhad.npz`` this was read from (None for synthetic data).
    """

    imu: np.ndarray
    labels: np.ndarray
    subjects: np.ndarray
    trials: np.ndarray
    durations_s: np.ndarray
    path: Path | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def resample_sequence(sequence: np.ndarray, length: int) -> np.ndarray:
    """Linearly resample a sequence along axis 0 so that it spans the same interval in ``length`` steps.

    Args:
        sequence: (T, ...) array, T >= 1.
        length: number of output steps, >= 1.

    Returns:
        (length, ...) float32 array; first and last steps equal the input's first and last.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if sequence.shape[0] < 1:
        raise ValueError(f"sequence must have at least one step, got shape {sequence.shape}")
    flat = sequence.reshape(sequence.shape[0], -1).astype(np.float64)  # (T, F)
    src = np.linspace(0.0, 1.0, flat.shape[0]) if flat.shape[0] > 1 else np.zeros(1)
    dst = np.linspace(0.0, 1.0, length)
    if flat.shape[0] == 1:
        out = np.repeat(flat, length, axis=0)
    else:
        out = np.stack([np.interp(dst, src, flat[:, f]) for f in range(flat.shape[1])], axis=1)
    return out.reshape((length, *sequence.shape[1:])).astype(np.float32)


def split_lengths(stacked: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """Split a concatenation of clips (sum(lengths), ...) into per-clip arrays."""
    if int(lengths.sum()) != stacked.shape[0]:
        raise ValueError(
            f"lengths sum to {int(lengths.sum())} but the stacked array has {stacked.shape[0]} rows"
        )
    return np.split(stacked, np.cumsum(lengths)[:-1])


def load_utd_mhad(path: str | Path, window: int = 100) -> UtdMhad:
    """Read the IMU, labels and ids from ``utd_mhad.npz`` and convert units.

    Args:
        path: the ``utd_mhad.npz`` file (or a file with the same keys).
        window: samples per trial after resampling over the trial's span, >= 8.

    Returns:
        The dataset with IMU in m/s² and rad/s.
    """
    if window < 8:
        raise ValueError(f"window must be >= 8 samples, got {window}")
    path = Path(path)
    with np.load(path) as npz:
        missing = {"inertial", "inertial_lengths", "action", "subject", "trial"} - set(npz.files)
        if missing:
            raise ValueError(f"{path} is not a UTD-MHAD file: missing keys {sorted(missing)}")
        inertial = npz["inertial"].astype(np.float32)  # (sum T, 6)
        lengths = npz["inertial_lengths"].astype(np.int64)
        actions = npz["action"].astype(np.int64)
        subjects = npz["subject"].astype(np.int64)
        trials = npz["trial"].astype(np.int64)
    if inertial.ndim != 2 or inertial.shape[1] != 6:
        raise ValueError(f"inertial must be (samples, 6), got {inertial.shape}")
    scale = np.array([G_TO_MS2] * 3 + [DEG_TO_RAD] * 3, dtype=np.float32)
    clips = split_lengths(inertial * scale, lengths)
    imu = np.stack([resample_sequence(c, window).T for c in clips])  # (n, 6, window)
    return UtdMhad(
        imu=imu.astype(np.float32),
        labels=actions - 1,
        subjects=subjects,
        trials=trials,
        durations_s=lengths / IMU_RATE_HZ,
        path=path,
    )


def load_depth(path: str | Path) -> np.ndarray:
    """The raw depth clips, (n, 16, H, W) uint16 millimetres."""
    with np.load(Path(path)) as npz:
        if "depth" not in npz.files:
            raise ValueError(f"{path} has no 'depth' array")
        return np.asarray(npz["depth"])


def depth_to_clip(depth: np.ndarray, n_frames: int = 8) -> np.ndarray:
    """Turn one depth clip into an RGB-like clip for an image teacher.

    Depth is mapped to 8 bits with a per-clip range (1st–99th percentile of the valid,
    non-zero pixels), near = bright, invalid pixels black, and replicated to three channels.

    Args:
        depth: (F, H, W) uint16 millimetres, 0 = no reading.
        n_frames: frames kept, evenly spaced over the clip, 1 <= n_frames <= F.

    Returns:
        (n_frames, H, W, 3) uint8.
    """
    if depth.ndim != 3:
        raise ValueError(f"depth must be (frames, H, W), got shape {depth.shape}")
    if not 1 <= n_frames <= depth.shape[0]:
        raise ValueError(f"n_frames must be in [1, {depth.shape[0]}], got {n_frames}")
    keep = np.linspace(0, depth.shape[0] - 1, n_frames).round().astype(np.int64)
    frames = depth[keep].astype(np.float32)  # (T, H, W)
    valid = frames > 0
    if valid.any():
        lo, hi = np.percentile(frames[valid], [1.0, 99.0])
    else:
        lo, hi = 0.0, 1.0
    scaled = 1.0 - (frames - lo) / max(float(hi - lo), 1.0)  # near → 1
    gray = np.where(valid, np.clip(scaled, 0.0, 1.0) * 254.0 + 1.0, 0.0).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)  # (T, H, W, 3)


def load_skeletons(path: str | Path) -> list[np.ndarray]:
    """Per-trial Kinect skeleton sequences, each (T_i, 20, 3) float32 in the camera frame (m)."""
    with np.load(Path(path)) as npz:
        if not {"skeleton", "skeleton_lengths"} <= set(npz.files):
            raise ValueError(f"{path} is not a UTD-MHAD skeleton file")
        skeleton = npz["skeleton"].astype(np.float32)
        lengths = npz["skeleton_lengths"].astype(np.int64)
    return split_lengths(skeleton, lengths)

"""A tiny synthetic paired (IMU, teacher feature) dataset for tests and smoke runs.

Each class has its own oscillation pattern in the IMU, buried under per-trial nuisance
(random offsets, gains and noise), while the "teacher" features are noisy class prototypes:
the teacher knows the classes better than raw IMU statistics do, so a distilled student should
beat a random one. Laid out like :class:`comodo_live.data.utd_mhad.UtdMhad`.
"""

from __future__ import annotations

import numpy as np

from comodo_live.data.utd_mhad import UtdMhad


def make_synthetic(
    n_classes: int = 6,
    n_subjects: int = 4,
    n_trials: int = 4,
    window: int = 64,
    feature_dim: int = 32,
    teacher_noise: float = 0.3,
    seed: int = 0,
) -> tuple[UtdMhad, np.ndarray]:
    """Build a synthetic dataset and its teacher features.

    Args:
        n_classes: classes (>= 2).
        n_subjects: subjects, ids 1..n_subjects (>= 2).
        n_trials: trials per (class, subject) (>= 1).
        window: samples per IMU window (>= 8).
        feature_dim: teacher feature size F (>= 2).
        teacher_noise: std of the noise added to the teacher's class prototypes.
        seed: generator seed.

    Returns:
        ``(dataset, features)`` with features (n, F) float32 aligned with the dataset rows.
    """
    if n_classes < 2 or n_subjects < 2 or n_trials < 1 or window < 8 or feature_dim < 2:
        raise ValueError(
            "need n_classes >= 2, n_subjects >= 2, n_trials >= 1, window >= 8, feature_dim >= 2; "
            f"got {n_classes}, {n_subjects}, {n_trials}, {window}, {feature_dim}"
        )
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, window)
    freq = rng.uniform(1.0, 6.0, size=(n_classes, 6))  # cycles per window
    phase = rng.uniform(0.0, 2 * np.pi, size=(n_classes, 6))
    amp = rng.uniform(0.2, 1.0, size=(n_classes, 6))
    prototypes = rng.normal(size=(n_classes, feature_dim))
    rows = [
        (c, s, r)
        for c in range(n_classes)
        for s in range(1, n_subjects + 1)
        for r in range(1, n_trials + 1)
    ]
    labels = np.array([c for c, _, _ in rows], dtype=np.int64)
    subjects = np.array([s for _, s, _ in rows], dtype=np.int64)
    trials = np.array([r for _, _, r in rows], dtype=np.int64)
    signal = amp[labels, :, None] * np.sin(
        2 * np.pi * freq[labels, :, None] * t + phase[labels, :, None]
    )  # (n, 6, N)
    gain = rng.uniform(0.6, 1.4, size=(len(rows), 6, 1))
    offset = rng.normal(0.0, 1.0, size=(len(rows), 6, 1))
    noise = rng.normal(0.0, 0.4, size=signal.shape)
    imu = (gain * signal + offset + noise).astype(np.float32)
    features = prototypes[labels] + rng.normal(0.0, teacher_noise, size=(len(rows), feature_dim))
    dataset = UtdMhad(
        imu=imu,
        labels=labels,
        subjects=subjects,
        trials=trials,
        durations_s=np.full(len(rows), window / 50.0),
    )
    return dataset, features.astype(np.float32)

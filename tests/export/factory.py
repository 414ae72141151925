"""Tiny real models and synthetic IMU activities shared by the export and runtime tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATE_HZ = 50.0
WINDOW_SAMPLES = 50  # 1 s windows keep the tests fast
ACTIVITIES = ("still", "walk", "run", "wave")


def activity_signal(kind: str, seconds: float, rate_hz: float, seed: int = 0) -> np.ndarray:
    """(M, 6) IMU samples of one synthetic activity: accel m/s², gyro rad/s."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    x = rng.normal(0.0, 0.05, (len(t), 6))
    x[:, 2] += 9.81
    if kind == "walk":
        x[:, 2] += 3.0 * np.sin(2 * np.pi * 2.0 * t)
        x[:, 3] += 1.0 * np.sin(2 * np.pi * 1.0 * t)
    elif kind == "run":
        x[:, 2] += 8.0 * np.sin(2 * np.pi * 3.0 * t)
        x[:, 0] += 4.0 * np.sin(2 * np.pi * 1.5 * t)
    elif kind == "wave":
        x[:, 5] += 4.0 * np.sin(2 * np.pi * 1.5 * t)
        x[:, 1] += 2.0 * np.sin(2 * np.pi * 1.5 * t)
    elif kind != "still":
        raise ValueError(f"kind must be one of {ACTIVITIES}, got {kind!r}")
    return x


def labelled_windows(per_activity: int = 12, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """(M, 6, N) float32 windows cut from each activity's signal, and their M labels."""
    windows, labels = [], []
    for k, kind in enumerate(ACTIVITIES):
        signal = activity_signal(
            kind, per_activity * WINDOW_SAMPLES / RATE_HZ + 1, RATE_HZ, seed + k
        )
        for i in range(per_activity):
            start = i * WINDOW_SAMPLES + (i * 7) % 13
            windows.append(signal[start : start + WINDOW_SAMPLES].T)
            labels.append(kind)
    return np.stack(windows).astype(np.float32), labels


def tiny_student(in_channels: int = 6, seed: int = 0):  # -> ImuStudent
    """A real ImuStudent, small enough for fast tests, with channel normalisation set."""
    from comodo_live.models.student import ImuStudent

    student = ImuStudent(
        in_channels=in_channels, embed_dim=32, proj_hidden=32, proj_dim=16, width=8, seed=seed
    ).eval()
    mean = np.zeros(in_channels)
    mean[min(2, in_channels - 1)] = 9.81
    student.set_channel_stats(mean, np.full(in_channels, 2.0))
    return student


def fit_classifier(
    student, windows: np.ndarray, labels: list[str], l2_normalise: bool = False
):  # -> LogisticRegression
    """sklearn logistic regression on the student's embeddings (a Pipeline with a scaler);
    ``l2_normalise``: on the L2-normalised embeddings."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with torch.no_grad():
        embeddings = student.encode(torch.from_numpy(windows)).numpy()
    if l2_normalise:
        embeddings = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
        embeddings, labels
    )


def build_package(
    out_dir: Path, smoothing_alpha: float = 1.0, l2_normalise: bool = False, **kwargs
) -> Path:
    """Export a tiny student + classifier trained on the synthetic activities (``l2_normalise``:
    a head on L2-normalised embeddings)."""
    from comodo_live.export.package import export_model
    from comodo_live.head import HeadSpec

    student = tiny_student()
    windows, labels = labelled_windows()
    head = HeadSpec.from_sklearn(
        fit_classifier(student, windows, labels, l2_normalise),
        unknown_threshold=0.3,
        smoothing_alpha=smoothing_alpha,
        l2_normalise=l2_normalise,
    )
    return export_model(
        student,
        head,
        None,
        {"rate_hz": RATE_HZ, "window_samples": WINDOW_SAMPLES, "hop_s": 0.5},
        out_dir,
        {"session": "test", "steps": 7, "teacher": "none (test)", "queue_size": 64},
        windows=windows,
        windows_source="labelled",
        labels=labels,
        **kwargs,
    )


def write_csv(
    path: Path, times: np.ndarray, samples: np.ndarray, accel: str = "m_s2", gyro: str = "rad_s"
) -> Path:
    """Write an IMU CSV with unit-suffixed headers, converting from contract units."""
    from comodo_live.records import DEG_TO_RAD, G_TO_MS2

    data = samples.astype(np.float64).copy()
    if accel == "g":
        data[:, :3] /= G_TO_MS2
    if gyro == "deg_s":
        data[:, 3:] /= DEG_TO_RAD
    names = [f"accel_{a}_{accel}" for a in "xyz"] + [f"gyro_{a}_{gyro}" for a in "xyz"]
    header = ",".join(["time_s", *names])
    np.savetxt(
        path, np.column_stack([times, data]), delimiter=",", header=header, comments="", fmt="%.9g"
    )
    return path

"""Start a session from an exported model package (continue personalising elsewhere).

``session.resume`` (``--resume PATH``) may name a package folder written by ``app.py export``
(it has ``manifest.json``). :func:`load_seed` validates it with
:func:`comodo_live.export.load.load_package` (hashes, channel contract, reference outputs;
nothing unpickled); :func:`config_for_package` makes the session's student, teacher embedding
size and window match the package; :func:`seed_pipeline` loads the EMA weights into the student
and its EMA, fixes the IMU channel normalisation to the package's, restores the activities and
hands the package's classifier (:class:`comodo_live.head.HeadSpec`, as exported) to the
classifier worker, which predicts with it until the new session has labelled windows of its own.
Queue, optimiser, replay store and teacher projection start fresh (a package holds no labelled
windows, so labels start empty too).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from comodo_live.config import AppConfig

if TYPE_CHECKING:
    from comodo_live.export.load import ImportedModel
    from comodo_live.learning.pipeline import Pipeline

MANIFEST = "manifest.json"


def is_package(spec: str | Path) -> bool:
    """True when ``spec`` names a folder holding an exported package's ``manifest.json``."""
    return bool(str(spec)) and Path(spec, MANIFEST).is_file()


def load_seed(path: str | Path) -> ImportedModel:
    """Validate and rebuild a package.

    Raises:
        comodo_live.runtime.package.PackageError: tampered, foreign or incompatible package
            (the message names the file, expected and found).
    """
    from comodo_live.export.load import load_package

    return load_package(path)


def config_for_package(config: AppConfig, imported: ImportedModel) -> AppConfig:
    """``config`` with the student, ``teacher.embed_dim`` and window of the package.

    Raises:
        ConfigError: the package's settings are outside the config's valid ranges.
    """
    student = imported.session_seed()["student_config"]
    pre = imported.preprocessing
    overrides: dict[str, Any] = {
        "student.embed_dim": int(student["embed_dim"]),
        "student.width": int(student["width"]),
        "student.kernel_size": int(student["kernel_size"]),
        "student.proj_hidden": int(student["proj_hidden"]),
        "student.seed": int(student["seed"]),
        "teacher.embed_dim": int(student["proj_dim"]),
        "window.rate_hz": float(pre.rate_hz),
        "window.window_s": float(pre.window_samples) / float(pre.rate_hz),
    }
    if config.window.hop_s > overrides["window.window_s"]:
        overrides["window.hop_s"] = float(pre.hop_s)
    return config.replace(overrides)


def seed_pipeline(pipeline: Pipeline, imported: ImportedModel) -> None:
    """Load the package into freshly built workers (before they start).

    Raises:
        ValueError: the pipeline's student differs from the package's (build the pipeline
            from :func:`config_for_package`).
    """
    seed = imported.session_seed()
    trainer = pipeline.trainer
    if dict(seed["student_config"]) != dict(trainer.student.config):
        raise ValueError(
            f"package student {seed['student_config']} differs from the configured student "
            f"{trainer.student.config}; build the session with config_for_package()"
        )
    state = trainer.state()  # fresh queue, optimiser, replay; step 0
    state["student"] = seed["student"]
    state["ema_student"] = seed["ema_student"]
    state["imu_stats"] = {  # the package's normalisation stays (the weights were trained on it)
        "ready": True,
        "mean": seed["student"]["channel_mean"],
        "std": seed["student"]["channel_std"],
    }
    trainer.load_state(state)
    activities = list(imported.activities)
    pipeline.labels.load_state({"activities": activities, "windows": {}, "teacher": {}})
    pipeline.classifier.seed_head = imported.head  # kept as is, L2-normalising or not
    pipeline.resumed_from = Path(imported.package.root)

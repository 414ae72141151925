"""export_session / `app.py export`: a live session's checkpoint → a package that predicts like the app."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from comodo_live.export.cli import main as export_main
from comodo_live.export.load import load_package
from comodo_live.export.package import export_session
from comodo_live.head import ARRAY_FIELDS, HeadSpec, fit_head
from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from comodo_live.training.checkpoint import save_checkpoint
from tests.export.factory import WINDOW_SAMPLES, labelled_windows, tiny_student


def _session(tmp_path: Path, with_classifier: bool) -> tuple[Path, HeadSpec, np.ndarray]:
    """A session folder whose checkpoint has the engine's layout (engine/state.py)."""
    student = tiny_student()
    windows, names = labelled_windows(per_activity=6)
    with torch.no_grad():
        embeddings = student.encode(torch.from_numpy(windows)).numpy()
    head = fit_head(embeddings, names, tuple(dict.fromkeys(names)))
    assert head is not None
    classifier = {**head.to_dict(), "unknown_threshold": 0.4, "smoothing_alpha": 0.5}
    state = {
        "step": 123,
        "train_seconds": 95.0,
        "student_config": student.config,
        "student": student.state_dict(),
        "ema_student": student.state_dict(),
        "teacher": "efficientnet-lite0",
        "labels": {
            "activities": list(dict.fromkeys(names)),
            "windows": {n: torch.from_numpy(windows[np.array(names) == n]) for n in set(names)},
        },
        "labelled_windows": torch.from_numpy(windows),
        "labelled_labels": names,
        "classifier": (  # arrays as tensors, as checkpoints before HeadSpec.to_dict held them
            {**classifier, **{k: torch.from_numpy(getattr(head, k)) for k in ARRAY_FIELDS}}
            if with_classifier
            else None
        ),
        "preprocessing": {
            "channels": list(IMU_CHANNELS),
            "units": list(IMU_UNITS),
            "rate_hz": 50.0,
            "window_s": WINDOW_SAMPLES / 50.0,
            "window_samples": WINDOW_SAMPLES,
            "hop_s": 0.25,
        },
        "config": {"predictor": {"confidence_threshold": 0.4, "smoothing_alpha": 0.5}},
        "queue_size": 512,
        "agreement": 0.8,
        "labelled_accuracy": None,
    }
    session = tmp_path / "recordings" / "20260101-120000-test"
    save_checkpoint(session / "checkpoints" / "latest.pt", state, "session")
    return session, head, windows


class _TrainingThread(threading.Thread):
    """Stands in for the live trainer: torch training steps while the export runs."""

    def __init__(self) -> None:
        super().__init__(name="fake-trainer")
        self.stop_event, self.steps, self.errors = threading.Event(), 0, []

    def run(self) -> None:
        student = tiny_student(seed=3).train()
        optimizer = torch.optim.AdamW(student.parameters())
        x = torch.randn(8, 6, WINDOW_SAMPLES)
        try:
            while not self.stop_event.is_set():
                optimizer.zero_grad()
                student(x).pow(2).sum().backward()
                optimizer.step()
                self.steps += 1
                self.stop_event.wait(0.02)  # leave the (shared, small) CPU to the export
        except Exception as exc:  # recorded for the assertion below
            self.errors.append(repr(exc))


def test_export_session__package_predicts_like_the_engine(tmp_path: Path) -> None:
    """The app's path: isolated export while another thread keeps training."""
    session, head, windows = _session(tmp_path, with_classifier=True)
    fractions: list[float] = []
    trainer = _TrainingThread()
    trainer.start()
    try:
        out = export_session(session, tmp_path / "pkg", progress=fractions.append)
    finally:
        trainer.stop_event.set()
        trainer.join()
    assert trainer.errors == [] and trainer.steps > 0
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    imported = load_package(out)
    assert imported.activities == head.activities
    assert imported.head.unknown_threshold == 0.4 and imported.preprocessing.hop_s == 0.25
    with torch.no_grad():
        engine_probs = head.probabilities(tiny_student().encode(torch.from_numpy(windows)).numpy())
    import onnxruntime as ort

    probs = ort.InferenceSession(str(out / "model.onnx")).run(["probabilities"], {"imu": windows})[
        0
    ]
    np.testing.assert_allclose(probs, engine_probs, atol=1e-4)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parity"]["source"] == "labelled" and manifest["parity"]["passed"]
    card = (out / "model_card.md").read_text()
    for text in (
        "optimiser steps: 123",
        "efficientnet-lite0",
        "queue size: 512",
        "80.0 %",
        "1.6 min",
    ):
        assert text in card


def test_export_cli__refits_when_the_session_has_no_classifier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session, head, windows = _session(tmp_path, with_classifier=False)
    code = export_main(["--session", str(session), "--out", str(tmp_path / "pkg"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert "exported 4 activities" in capsys.readouterr().out
    imported = load_package(tmp_path / "pkg")
    with torch.no_grad():
        embeddings = imported.student.encode(torch.from_numpy(windows)).numpy()
    np.testing.assert_allclose(imported.head.logits(embeddings), head.logits(embeddings), atol=1e-3)


def test_export_cli__session_without_checkpoint_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = tmp_path / "empty-session"
    session.mkdir()
    assert export_main(["--session", str(session), "--out", str(tmp_path / "pkg")]) == 2
    assert "has no checkpoint" in capsys.readouterr().err
    save_checkpoint(session / "checkpoints" / "latest.pt", {"x": 1}, "student")
    assert export_main(["--session", str(session), "--out", str(tmp_path / "pkg")]) == 2
    assert "holds kind 'student', expected 'session'" in capsys.readouterr().err
    assert not (tmp_path / "pkg").exists()

"""export_model: a checked, self-describing package whose graphs match PyTorch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from comodo_live.export import package as package_mod
from comodo_live.export.graph import ActivityModel
from comodo_live.export.parity import ParityError
from comodo_live.head import HeadSpec
from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from comodo_live.runtime.package import open_package, sha256_file
from tests.export.factory import (
    ACTIVITIES,
    WINDOW_SAMPLES,
    fit_classifier,
    labelled_windows,
    tiny_student,
)

EXPECTED_FILES = {
    "manifest.json",
    "model.onnx",
    "model.torchscript.pt",
    "preprocessing.json",
    "classifier.json",
    "classifier.npz",
    "student.json",
    "student.npz",
    "reference.npz",
    "model_card.md",
}


def test_export_model__writes_every_file_with_its_hash(exported_package: Path) -> None:
    assert {p.name for p in exported_package.iterdir()} == EXPECTED_FILES
    manifest = json.loads((exported_package / "manifest.json").read_text())
    assert set(manifest["files"]) == EXPECTED_FILES - {"manifest.json"}
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_file(exported_package / name)
        assert entry["bytes"] == (exported_package / name).stat().st_size
    versions = manifest["versions"]
    assert versions["torch"] == torch.__version__ and versions["onnx"] == onnx.__version__
    assert versions["opset"] >= 17 and versions["comodo_live"]
    assert manifest["activities"] == sorted(ACTIVITIES)
    assert not list(exported_package.parent.glob(".package.partial-*"))  # staging removed


def test_export_model__onnx_is_checked_and_has_a_dynamic_batch(exported_package: Path) -> None:
    proto = onnx.load(str(exported_package / "model.onnx"))
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(exported_package / "model.onnx"))
    windows, _ = labelled_windows(per_activity=5)
    for batch in (1, 3, 20):
        embedding, logits, probs = session.run(None, {"imu": windows[:batch]})
        assert embedding.shape == (batch, 32) and logits.shape == probs.shape == (batch, 4)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_export_model__parity_report_in_manifest(exported_package: Path) -> None:
    parity = json.loads((exported_package / "manifest.json").read_text())["parity"]
    assert parity["passed"] and parity["source"] == "labelled" and parity["windows"] == 48
    for runtime in ("onnxruntime", "torchscript"):
        for mode in ("batched", "batch_1"):
            report = parity[runtime][mode]
            assert report["same_predictions"]
            assert max(report["max_abs_diff"].values()) <= 1e-4


def test_export_model__graph_normalises_raw_units_like_the_app(exported_package: Path) -> None:
    """Raw m/s² windows in → the same probabilities as student.encode + sklearn predict_proba."""
    student = tiny_student()
    windows, labels = labelled_windows()
    classifier = fit_classifier(student, windows, labels)
    fresh, _ = labelled_windows(per_activity=3, seed=11)
    with torch.no_grad():
        embeddings = student.encode(torch.from_numpy(fresh)).numpy()
    expected = classifier.predict_proba(embeddings)
    session = ort.InferenceSession(str(exported_package / "model.onnx"))
    probs = session.run(["probabilities"], {"imu": fresh})[0]
    np.testing.assert_allclose(probs, expected, atol=1e-4)
    assert list(probs.argmax(1)) == list(expected.argmax(1))
    pre = json.loads((exported_package / "preprocessing.json").read_text())
    assert pre["normalisation"]["channel_mean"] == [0, 0, pytest.approx(9.81), 0, 0, 0]
    assert pre["window_samples"] == WINDOW_SAMPLES and pre["rate_hz"] == 50.0


def test_export_model__arrays_load_without_pickle(exported_package: Path) -> None:
    for name in ("classifier.npz", "student.npz", "reference.npz"):
        with np.load(exported_package / name, allow_pickle=False) as data:
            assert all(data[key].dtype != object for key in data.files)
    card = (exported_package / "model_card.md").read_text()
    assert (
        "optimiser steps: 7" in card and "queue size: 64" in card and "Accuracy on labelled" in card
    )


def test_export_model__refuses_existing_folder(exported_package: Path, tmp_path: Path) -> None:
    target = tmp_path / "pkg"
    shutil.copytree(exported_package, target)
    student = tiny_student()
    windows, labels = labelled_windows(per_activity=4)
    head = HeadSpec.from_sklearn(fit_classifier(student, windows, labels))
    pre = {"rate_hz": 50.0, "window_samples": WINDOW_SAMPLES, "hop_s": 0.5}
    with pytest.raises(FileExistsError, match="not empty"):
        package_mod.export_model(student, head, None, pre, target, windows=windows)
    assert open_package(target).activities == tuple(sorted(ACTIVITIES))  # untouched


def test_export_model__parity_failure_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TorchScript file that does not match the PyTorch model is caught by the real check."""
    student = tiny_student()
    windows, labels = labelled_windows(per_activity=4)
    head = HeadSpec.from_sklearn(fit_classifier(student, windows, labels))
    real_export = package_mod.export_torchscript

    def perturbed(model: ActivityModel, example: torch.Tensor, path: Path) -> str:
        other = ActivityModel(tiny_student(seed=1), head)
        return real_export(other, example, path)

    monkeypatch.setattr(package_mod, "export_torchscript", perturbed)
    pre = {"rate_hz": 50.0, "window_samples": WINDOW_SAMPLES, "hop_s": 0.5}
    with pytest.raises(ParityError, match="torchscript"):
        package_mod.export_model(student, head, None, pre, tmp_path / "bad", windows=windows)
    assert not (tmp_path / "bad").exists()
    assert list(tmp_path.iterdir()) == []


def test_export_model__refuses_a_non_contract_student(tmp_path: Path) -> None:
    student = tiny_student(in_channels=3)
    head = HeadSpec.create(["a", "b"], np.zeros((2, 32)), np.zeros(2))
    pre = {
        "rate_hz": 50.0,
        "window_samples": WINDOW_SAMPLES,
        "hop_s": 0.5,
        "channels": IMU_CHANNELS[:3],
    }
    with pytest.raises(ValueError, match=r"model expects 3 channels .*this app needs 6 channels"):
        package_mod.export_model(
            student, head, None, {**pre, "units": IMU_UNITS[:3]}, tmp_path / "p"
        )
    assert not (tmp_path / "p").exists()

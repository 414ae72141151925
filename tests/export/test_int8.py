"""Model files other tools read: the ONNX file's own metadata_props, and `export --int8` (an
int8 twin with its parity and accuracy in the manifest and card, runnable by the runtime)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from comodo_live.export.cli import _parser as export_parser
from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from comodo_live.runtime.model import OnnxActivityModel
from comodo_live.runtime.package import INT8_ONNX_FILE, ONNX_FILE, PackageError, open_package
from tests.conftest import ROOT
from tests.export.factory import RATE_HZ, WINDOW_SAMPLES, activity_signal, build_package, write_csv


@pytest.fixture(scope="module")
def int8_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(tmp_path_factory.mktemp("int8") / "package", int8=True)


def _props(path: Path) -> dict[str, str]:
    return {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}


def test_onnx_metadata__class_names_and_input_contract(exported_package: Path) -> None:
    package = open_package(exported_package)  # hashes checked: metadata was set before hashing
    props = _props(exported_package / ONNX_FILE)
    assert json.loads(props["class_names"]) == list(package.activities)
    assert json.loads(props["channels"]) == list(IMU_CHANNELS)
    assert json.loads(props["units"]) == list(IMU_UNITS)
    assert float(props["rate_hz"]) == RATE_HZ and int(props["window_samples"]) == WINDOW_SAMPLES
    assert float(props["window_s"]) == pytest.approx(WINDOW_SAMPLES / RATE_HZ)
    assert json.loads(props["input_shape"]) == ["batch", len(IMU_CHANNELS), WINDOW_SAMPLES]
    assert props["input_name"] == "imu" and props["precision"] == "float32"
    assert props["comodo_live_version"]
    assert INT8_ONNX_FILE not in package.manifest["files"]
    with pytest.raises(PackageError, match="--int8"):
        OnnxActivityModel(package, int8=True)


def test_export_int8__parity_accuracy_and_card(int8_package: Path) -> None:
    package = open_package(int8_package)
    report = package.manifest["int8"]
    assert report["file"] == INT8_ONNX_FILE and INT8_ONNX_FILE in package.manifest["files"]
    assert report["source"] == "labelled" and report["windows"] == 48  # every labelled window
    assert report["bytes"]["int8"] < report["bytes"]["float32"]
    assert report["argmax_agreement"] >= 0.9
    assert 0.0 <= report["max_abs_probability_diff"] < 0.2
    assert report["accuracy"]["int8"] >= report["accuracy"]["float32"] - 0.1
    card = (int8_package / "model_card.md").read_text()
    assert "## Int8 model" in card and f"{100 * report['argmax_agreement']:.1f} %" in card
    props = _props(int8_package / INT8_ONNX_FILE)
    assert props["precision"] == "int8"
    assert json.loads(props["class_names"]) == list(package.activities)


def test_export_int8__loads_and_self_tests_in_the_runtime(int8_package: Path) -> None:
    package = open_package(int8_package)
    model = OnnxActivityModel(package, int8=True)
    assert model.self_test() <= 1e-4  # against the int8 graph's own reference outputs
    float_model = OnnxActivityModel(package)
    windows = np.stack(
        [
            activity_signal(kind, 1.0, RATE_HZ, seed=50 + i).T
            for i, kind in enumerate(("walk", "still"))
        ]
    )  # (2, 6, N)
    np.testing.assert_allclose(
        model.predict_proba(windows), float_model.predict_proba(windows), atol=0.2
    )


def test_export_int8__runtime_cli_runs_it(int8_package: Path, tmp_path: Path) -> None:
    signal = activity_signal("walk", 6.0, 100.0, seed=9)  # (600, 6)
    csv = write_csv(tmp_path / "walk.csv", np.arange(len(signal)) / 100.0, signal)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "comodo_live.runtime", str(int8_package)),
            *("--csv", str(csv), "--int8", "--json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) >= 5 and all(
        set(line["probabilities"]) == {"run", "still", "walk", "wave"} for line in lines
    )


def test_export_cli__int8_flag() -> None:
    args = export_parser().parse_args(["--session", "s", "--out", "o", "--int8"])
    assert args.int8 and not export_parser().parse_args(["--session", "s", "--out", "o"]).int8

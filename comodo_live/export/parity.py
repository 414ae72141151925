"""Export-time parity: ONNX Runtime and TorchScript against the PyTorch model on real windows."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from comodo_live.export.graph import ActivityModel
from comodo_live.runtime.package import INPUT_NAME, OUTPUT_NAMES

PARITY_ATOL = 1e-4


class ParityError(RuntimeError):
    """An exported graph that does not reproduce the PyTorch model."""


def torch_outputs(model: ActivityModel, windows: np.ndarray) -> dict[str, np.ndarray]:
    """PyTorch reference outputs for (M, C, N) windows."""
    with torch.no_grad():
        outs = model(torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32)))
    return {name: out.numpy() for name, out in zip(OUTPUT_NAMES, outs, strict=True)}


def _compare(reference: dict[str, np.ndarray], found: dict[str, np.ndarray]) -> dict[str, Any]:
    diffs = {n: float(np.max(np.abs(found[n] - reference[n]), initial=0.0)) for n in OUTPUT_NAMES}
    same = bool(np.array_equal(found["logits"].argmax(1), reference["logits"].argmax(1)))
    return {
        "max_abs_diff": diffs,
        "same_predictions": same,
        "passed": same and max(diffs.values()) <= PARITY_ATOL,
    }


def check_parity(
    model: ActivityModel, onnx_path: Path, torchscript_path: Path, windows: np.ndarray, source: str
) -> dict[str, Any]:
    """Run all three on ``windows`` (M, C, N): batched and one window at a time (batch 1).

    Args:
        source: where the windows come from (``"labelled"``, ``"recorded"``, ``"provided"``,
            ``"synthetic"``), recorded in the report.

    Returns:
        The report stored in the manifest (``passed`` overall).
    """
    import onnxruntime as ort

    windows = np.ascontiguousarray(windows, dtype=np.float32)
    reference = torch_outputs(model, windows)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def run_onnx(batch: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(OUTPUT_NAMES, session.run(None, {INPUT_NAME: batch}), strict=True))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.load(str(torchscript_path))

    def run_script(batch: np.ndarray) -> dict[str, np.ndarray]:
        with torch.no_grad():
            outs = scripted(torch.from_numpy(batch))
        return {name: out.numpy() for name, out in zip(OUTPUT_NAMES, outs, strict=True)}

    report: dict[str, Any] = {"windows": len(windows), "source": source, "atol": PARITY_ATOL}
    for name, runner in (("onnxruntime", run_onnx), ("torchscript", run_script)):
        batched = _compare(reference, runner(windows))
        singles = [runner(windows[i : i + 1]) for i in range(len(windows))]
        one_by_one = _compare(
            reference, {n: np.concatenate([s[n] for s in singles]) for n in OUTPUT_NAMES}
        )
        report[name] = {
            "batched": batched,
            "batch_1": one_by_one,
            "passed": batched["passed"] and one_by_one["passed"],
        }
    report["passed"] = report["onnxruntime"]["passed"] and report["torchscript"]["passed"]
    return report

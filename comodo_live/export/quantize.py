"""``export --int8``: an int8 twin of the float32 graph, with its parity and accuracy measured.

ONNX Runtime's dynamic quantisation (``quantize_dynamic``, int8 weights, activations quantised
per batch at run time) on the exported graph: Conv → ConvInteger, MatMul → MatMulInteger. The
float32 graph stays the package's reference; the int8 one is an option whose agreement with it
(argmax, largest probability difference) and accuracy on the labelled windows go into the
manifest and the model card, so a user can choose knowing what it costs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from comodo_live.export.metadata import onnx_metadata, write_onnx_metadata
from comodo_live.head import HeadSpec
from comodo_live.runtime.package import (
    INPUT_NAME,
    INT8_ONNX_FILE,
    ONNX_FILE,
    OUTPUT_NAMES,
    Preprocessing,
)

INT8_PREFIX = "int8_"  # reference.npz keys of the int8 graph's own outputs
METHOD = "onnxruntime.quantization.quantize_dynamic (QInt8 weights, per tensor)"


def export_int8(
    root: Path,
    head: HeadSpec,
    pre: Preprocessing,
    windows: np.ndarray,
    source: str,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write ``root/model_int8.onnx`` from ``root/model.onnx`` (with its own metadata) and
    measure it on (M, C, N) ``windows`` (labelled: ``labels`` (M,)); returns :func:`int8_report`."""
    float_path, int8_path = root / ONNX_FILE, root / INT8_ONNX_FILE
    quantize_int8(float_path, int8_path)
    write_onnx_metadata(int8_path, onnx_metadata(head, pre, precision="int8"))
    names = None if labels is None else [str(label) for label in labels]
    return int8_report(float_path, int8_path, windows, source, head.activities, names)


def quantize_int8(float_path: Path, int8_path: Path) -> None:
    """Write the dynamically quantised (int8 weights) twin of ``float_path`` to ``int8_path``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()  # ORT logs its advice on the root logger
    advice = _NoPreProcessAdvice()
    root.addFilter(advice)
    try:
        quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8)
    finally:
        root.removeFilter(advice)


class _NoPreProcessAdvice(logging.Filter):
    """Drops ORT's "run pre-processing before quantization" advice: measured on a session's
    model, its shape-inference pre-pass took 8.5 s and left the int8 outputs unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def run_graph(path: Path, windows: np.ndarray) -> dict[str, np.ndarray]:
    """All outputs of an ONNX graph for (M, C, N) windows, one ONNX Runtime thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    batch = np.ascontiguousarray(windows, dtype=np.float32)
    return dict(zip(OUTPUT_NAMES, session.run(None, {INPUT_NAME: batch}), strict=True))


def int8_report(
    float_path: Path,
    int8_path: Path,
    windows: np.ndarray,
    source: str,
    activities: tuple[str, ...],
    labels: list[str] | None = None,
) -> dict[str, Any]:
    """Compare the int8 graph with the float32 one on (M, C, N) windows.

    Args:
        source: what the windows are (``"labelled"``, ``"synthetic"``, ...).
        activities: class names in output order.
        labels: (M,) activity of each window, if known: accuracy of both graphs.

    Returns:
        ``file``, ``method``, ``bytes`` {float32, int8}, ``windows``, ``source``,
        ``argmax_agreement`` in [0, 1], ``max_abs_probability_diff``, and ``accuracy``
        {float32, int8} in [0, 1] (None without labels).
    """
    reference = run_graph(float_path, windows)
    found = run_graph(int8_path, windows)
    ref_class = reference["probabilities"].argmax(1)  # (M,)
    int8_class = found["probabilities"].argmax(1)  # (M,)
    accuracy: dict[str, float | None] = {"float32": None, "int8": None}
    if labels is not None:
        if len(labels) != len(windows):
            raise ValueError(f"labels has {len(labels)} entries for {len(windows)} windows")
        truth = np.array(labels)
        names = np.array(activities)
        accuracy = {
            "float32": float(np.mean(names[ref_class] == truth)),
            "int8": float(np.mean(names[int8_class] == truth)),
        }
    return {
        "file": INT8_ONNX_FILE,
        "method": METHOD,
        "bytes": {"float32": float_path.stat().st_size, "int8": int8_path.stat().st_size},
        "windows": len(windows),
        "source": source,
        "argmax_agreement": float(np.mean(ref_class == int8_class)),
        "max_abs_probability_diff": float(
            np.max(np.abs(found["probabilities"] - reference["probabilities"]), initial=0.0)
        ),
        "accuracy": accuracy,
    }


def int8_reference(int8_path: Path, windows: np.ndarray) -> dict[str, np.ndarray]:
    """The int8 graph's outputs on the reference windows, keyed ``int8_<output>``, for the
    runtime's self-test of that graph (its own reference: it approximates the float32 one)."""
    return {INT8_PREFIX + name: value for name, value in run_graph(int8_path, windows).items()}


def card_section(report: dict[str, Any]) -> str:
    """Markdown for the model card: size, parity and accuracy of float32 and int8."""

    def pct(value: float | None) -> str:
        return "not measured (no labels)" if value is None else f"{100 * value:.1f} %"

    size = report["bytes"]
    accuracy = report["accuracy"]
    return (
        "\n## Int8 model\n\n"
        f"`{report['file']}`: {report['method']}, the same inputs and outputs as `model.onnx`; "
        "run it with `python -m comodo_live.runtime <package> --int8`.\n\n"
        "| | float32 (`model.onnx`) | int8 |\n|---|---|---|\n"
        f"| size | {size['float32'] / 1e3:.0f} KB | {size['int8'] / 1e3:.0f} KB |\n"
        f"| accuracy on the {report['windows']} {report['source']} windows | "
        f"{pct(accuracy['float32'])} | {pct(accuracy['int8'])} |\n\n"
        f"Parity with float32 on those windows: same predicted activity on "
        f"{100 * report['argmax_agreement']:.1f} %, largest probability difference "
        f"{report['max_abs_probability_diff']:.3g}."
        + (
            " Those are the windows the classifier was fit on: the accuracies are optimistic, "
            "the difference between the two graphs is what they measure.\n"
            if report["source"] == "labelled"
            else "\n"
        )
    )

"""Run an exported package's ONNX graph with ONNX Runtime (numpy only, no torch)."""

from __future__ import annotations

import numpy as np

from comodo_live.head import Smoother
from comodo_live.records import Prediction
from comodo_live.runtime.package import (
    INPUT_NAME,
    INT8_ONNX_FILE,
    ONNX_FILE,
    OUTPUT_NAMES,
    REFERENCE_NPZ,
    ModelPackage,
    PackageError,
    load_npz,
)


class OnnxActivityModel:
    """The package's graph: raw IMU windows (B, C, N) in contract units → outputs.

    Args:
        package: a validated package (:func:`comodo_live.runtime.package.open_package`).
        threads: ONNX Runtime intra-op threads (1 keeps latency steady on small CPUs).
        int8: run the package's int8 graph (``model_int8.onnx``, from ``export --int8``).

    Raises:
        PackageError: if the graph's input/outputs do not match the package's contract.
    """

    def __init__(self, package: ModelPackage, threads: int = 1, int8: bool = False) -> None:
        import onnxruntime as ort

        self.package = package
        self.int8 = int8
        graph = INT8_ONNX_FILE if int8 else ONNX_FILE
        if graph not in package.manifest.get("files", {}):
            raise PackageError(
                f"{package.root} has no {graph} (export the package with --int8 for one)"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(package.path(graph)), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ORT raises its own exception types
            raise PackageError(f"{ONNX_FILE} cannot be loaded by ONNX Runtime: {exc}") from exc
        pre = package.preprocessing
        self.channels, self.window_samples = len(pre.channels), pre.window_samples
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
            raise PackageError(
                f"{ONNX_FILE}: expected one input {INPUT_NAME!r}, found {[i.name for i in inputs]}"
            )
        shape = list(inputs[0].shape)
        if len(shape) != 3 or shape[1:] != [self.channels, self.window_samples]:
            raise PackageError(
                f"{ONNX_FILE}: input shape expected [batch, {self.channels}, "
                f"{self.window_samples}] (preprocessing.json), found {shape}"
            )
        names = tuple(o.name for o in self.session.get_outputs())
        if names != OUTPUT_NAMES:
            raise PackageError(
                f"{ONNX_FILE}: outputs expected {list(OUTPUT_NAMES)}, found {list(names)}"
            )
        classes = self.session.get_outputs()[2].shape[1]
        if isinstance(classes, int) and classes != len(package.activities):
            raise PackageError(
                f"{ONNX_FILE}: {classes} outputs per window, expected {len(package.activities)} "
                f"(activities in classifier.json)"
            )

    def run(self, windows: np.ndarray) -> dict[str, np.ndarray]:
        """All outputs for (B, C, N) windows: ``embedding`` (B, E), ``logits``/``probabilities`` (B, K).

        Raises:
            ValueError: if ``windows`` is not (B, C, N) with the package's C and N.
        """
        windows = np.asarray(windows, dtype=np.float32)
        if windows.ndim == 2:
            windows = windows[None]
        if windows.ndim != 3 or windows.shape[1:] != (self.channels, self.window_samples):
            raise ValueError(
                f"windows must be (B, {self.channels}, {self.window_samples}) "
                f"(channels, samples), got {windows.shape}"
            )
        outputs = self.session.run(None, {INPUT_NAME: np.ascontiguousarray(windows)})
        return dict(zip(OUTPUT_NAMES, outputs, strict=True))

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """Class probabilities (B, K) of (B, C, N) windows."""
        return self.run(windows)["probabilities"]

    def self_test(self, atol: float = 1e-4) -> float:
        """Compare against ``reference.npz``; returns the largest difference.

        Raises:
            PackageError: if outputs differ by more than ``atol`` or the predicted class differs.
        """
        ref = load_npz(self.package.path(REFERENCE_NPZ))  # sizes checked before allocating
        prefix = "int8_" if self.int8 else ""  # the int8 graph has its own reference outputs
        missing = [k for k in ("windows", *(prefix + n for n in OUTPUT_NAMES)) if k not in ref]
        if missing:
            raise PackageError(f"{REFERENCE_NPZ} lacks arrays {missing}")
        expected = {name: ref[prefix + name] for name in OUTPUT_NAMES}
        found = self.run(ref["windows"])
        worst = 0.0
        for name in OUTPUT_NAMES:
            if found[name].shape != expected[name].shape:
                raise PackageError(
                    f"{REFERENCE_NPZ}: {name} shape expected {expected[name].shape}, "
                    f"found {found[name].shape}"
                )
            worst = max(worst, float(np.max(np.abs(found[name] - expected[name]), initial=0.0)))
        same = np.array_equal(found["logits"].argmax(1), expected["logits"].argmax(1))
        if worst > atol or not same:
            raise PackageError(
                f"{ONNX_FILE} does not reproduce {REFERENCE_NPZ}: max difference {worst:.3g} "
                f"(allowed {atol}), same predicted activities: {same}"
            )
        return worst


def package_smoother(package: ModelPackage) -> Smoother:
    """The app's smoother (:class:`comodo_live.head.Smoother`) with the package's
    ``smoothing_alpha`` and ``unknown_threshold``."""
    return Smoother(package.smoothing_alpha, package.unknown_threshold)


def smoothed_prediction(
    model: OnnxActivityModel, smoother: Smoother, t: float, window: np.ndarray
) -> Prediction:
    """Predict one (C, N) window whose last sample is at ``t`` (s) and fold it into ``smoother``."""
    probabilities = model.predict_proba(window[None])[0]  # (K,)
    names = model.package.activities
    return smoother(dict(zip(names, map(float, probabilities), strict=True)), t)

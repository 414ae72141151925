"""Run an exported package's ONNX graph with ONNX Runtime (numpy only, no torch)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from comodo_live.runtime.package import (
    INPUT_NAME,
    ONNX_FILE,
    OUTPUT_NAMES,
    REFERENCE_NPZ,
    ModelPackage,
    PackageError,
)


class OnnxActivityModel:
    """The package's graph: raw IMU windows (B, C, N) in contract units → outputs.

    Args:
        package: a validated package (:func:`comodo_live.runtime.package.open_package`).
        threads: ONNX Runtime intra-op threads (1 keeps latency steady on small CPUs).

    Raises:
        PackageError: if the graph's input/outputs do not match the package's contract.
    """

    def __init__(self, package: ModelPackage, threads: int = 1) -> None:
        import onnxruntime as ort

        self.package = package
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(package.path(ONNX_FILE)), options, providers=["CPUExecutionProvider"]
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
        with np.load(self.package.path(REFERENCE_NPZ), allow_pickle=False) as ref:
            expected = {name: ref[name] for name in OUTPUT_NAMES}
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


@dataclass(frozen=True)
class RuntimePrediction:
    """One prediction. ``t``: time of the window's last sample, s; ``confidence`` in [0, 1]."""

    t: float
    label: str
    confidence: float
    probabilities: dict[str, float]


class PredictionSmoother:
    """Exponential smoothing of probabilities and the ``"unknown"`` threshold, as in the app.

    Args:
        activities: K names in probability order.
        alpha: weight of the newest window, (0, 1]; 1 disables smoothing.
        unknown_threshold: below this smoothed confidence the label is ``"unknown"``, [0, 1].
    """

    def __init__(self, activities: tuple[str, ...], alpha: float, unknown_threshold: float) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        if not 0 <= unknown_threshold <= 1:
            raise ValueError(f"unknown_threshold must be in [0, 1], got {unknown_threshold!r}")
        self.activities, self.alpha, self.threshold = activities, alpha, unknown_threshold
        self._state: np.ndarray | None = None

    def update(self, t: float, probabilities: np.ndarray) -> RuntimePrediction:
        """Fold one window's (K,) probabilities in and return the smoothed prediction."""
        probs = np.asarray(probabilities, dtype=np.float64)
        if self._state is None:
            self._state = probs.copy()
        else:
            self._state = self.alpha * probs + (1 - self.alpha) * self._state
        best = int(np.argmax(self._state))
        confidence = float(self._state[best])
        label = self.activities[best] if confidence >= self.threshold else "unknown"
        return RuntimePrediction(
            t=float(t),
            label=label,
            confidence=confidence,
            probabilities={a: float(p) for a, p in zip(self.activities, self._state, strict=True)},
        )

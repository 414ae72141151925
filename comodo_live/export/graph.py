"""One exportable graph: raw IMU window → student embedding → activity logits/probabilities."""

from __future__ import annotations

import copy
import logging
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from comodo_live.head import HeadSpec
from comodo_live.runtime.package import INPUT_NAME, OUTPUT_NAMES

MAX_BATCH = 4096


class ActivityHead(nn.Module):
    """:class:`HeadSpec` as a module (buffers only). Shape: (B, E) → (B, K) logits."""

    coef: torch.Tensor
    intercept: torch.Tensor
    feature_mean: torch.Tensor
    feature_std: torch.Tensor
    anchors: torch.Tensor
    anchor_mask: torch.Tensor

    def __init__(self, spec: HeadSpec) -> None:
        super().__init__()
        self.register_buffer("coef", torch.from_numpy(spec.coef.copy()))  # (K, E)
        self.register_buffer("intercept", torch.from_numpy(spec.intercept.copy()))  # (K,)
        self.register_buffer("feature_mean", torch.from_numpy(spec.feature_mean.copy()))  # (E,)
        self.register_buffer("feature_std", torch.from_numpy(spec.feature_std.copy()))  # (E,)
        unit = F.normalize(torch.from_numpy(spec.anchors.copy()), dim=1, eps=1e-12)  # (K, E)
        self.register_buffer("anchors", unit / spec.anchor_temperature)
        self.register_buffer("anchor_mask", torch.from_numpy(spec.anchor_mask.copy()))  # (K,)
        self.l2_normalise = bool(spec.l2_normalise)
        self.use_anchors = bool(spec.anchor_mask.any())

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        unit = F.normalize(embedding, dim=1, eps=1e-12)  # (B, E)
        features = unit if self.l2_normalise else embedding
        z = (features - self.feature_mean) / self.feature_std  # (B, E)
        logits = z @ self.coef.t() + self.intercept  # (B, K)
        if self.use_anchors:
            logits = torch.where(self.anchor_mask, unit @ self.anchors.t(), logits)  # (B, K)
        return logits


class ActivityModel(nn.Module):
    """Student encoder (normalisation inside) + head, in eval mode.

    Args:
        student: a module with ``encode(x)``: (B, C, N) → (B, E); copied, not modified.
        head: the classifier.

    Shape:
        input: (B, C, N) float32 raw IMU (contract units); outputs: embedding (B, E),
        logits (B, K), probabilities (B, K).
    """

    def __init__(self, student: nn.Module, head: HeadSpec) -> None:
        super().__init__()
        self.student = copy.deepcopy(student).eval()
        self.head = ActivityHead(head)
        self.eval()

    def forward(self, imu: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        embedding = self.student.encode(imu)  # type: ignore[operator]  # (B, E)
        logits = self.head(embedding)  # (B, K)
        return embedding, logits, torch.softmax(logits, dim=1)


def export_onnx(model: ActivityModel, example: torch.Tensor, path: Path) -> int:
    """Write ``model`` as one self-contained ONNX file with a dynamic batch; returns the opset.

    Args:
        example: (2, C, N) example input (batch 2 so the exporter keeps the batch symbolic).
    """
    for name in ("torch.onnx", "torch.export", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        program: Any = torch.onnx.export(
            model,
            (example,),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            dynamic_shapes={"imu": {0: batch}},
            verbose=False,
        )
    program.save(str(path), external_data=False)
    import onnx

    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    return next(int(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def export_torchscript(model: ActivityModel, example: torch.Tensor, path: Path) -> str:
    """Write ``model`` as TorchScript (scripted; traced if the student cannot be scripted).

    Returns:
        ``"script"`` or ``"trace"``.
    """
    method = "script"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # jit is deprecated but still works
        try:
            module: Any = torch.jit.script(model)
        except Exception:  # the student uses Python the compiler rejects: trace instead
            method = "trace"
            with torch.no_grad():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                module = torch.jit.trace(model, (example,), check_trace=False)
        torch.jit.save(module, str(path))
    return method

"""Import an exported package back into the app (to continue personalising).

Nothing is unpickled: bounded JSON and ``.npz`` readers only (:mod:`comodo_live.runtime.package`:
sizes, nesting and ``.npy`` headers checked before anything is allocated; the student is first
built on torch's meta device, so a hostile config allocates nothing); the TorchScript file is
never loaded. Every file is checked against the manifest's SHA-256 first, then shapes and the
channel contract, and the rebuilt PyTorch model must reproduce the package's reference outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from comodo_live.export.graph import ActivityModel
from comodo_live.export.parity import PARITY_ATOL, torch_outputs
from comodo_live.head import HeadError, HeadSpec
from comodo_live.runtime import package as pkg
from comodo_live.runtime.model import OnnxActivityModel
from comodo_live.runtime.package import ModelPackage, PackageError, Preprocessing, open_package


@dataclass(frozen=True, eq=False)
class ImportedModel:
    """A package rebuilt as PyTorch objects.

    Attributes:
        student: the student (EMA weights), eval mode, ready to train further.
        head: the activity classifier (names, arrays, anchors, thresholds).
        preprocessing: the input contract (rate, window, channels, normalisation).
        package: the validated package (manifest, paths).
    """

    student: nn.Module
    head: HeadSpec
    preprocessing: Preprocessing
    package: ModelPackage

    @property
    def activities(self) -> tuple[str, ...]:
        return self.head.activities

    @property
    def card(self) -> dict[str, Any]:
        """Training facts recorded at export (steps, teacher, queue size, ...)."""
        return dict(self.package.manifest.get("card", {}))

    def session_seed(self) -> dict[str, Any]:
        """The parts of an engine session checkpoint this package can seed (learning/state.py
        names): ``student_config``, ``student`` and ``ema_student`` (state dicts), ``classifier``
        (:meth:`HeadSpec.to_dict`) and ``preprocessing``. Queue, optimiser, replay and teacher
        projection start fresh."""
        weights = {k: v.detach().clone() for k, v in self.student.state_dict().items()}
        pre = self.preprocessing
        return {
            "student_config": dict(getattr(self.student, "config", {})),
            "student": weights,
            "ema_student": {k: v.clone() for k, v in weights.items()},
            "classifier": self.head.to_dict(),
            "preprocessing": {
                "channels": list(pre.channels),
                "units": list(pre.units),
                "rate_hz": pre.rate_hz,
                "window_s": pre.window_s,
                "window_samples": pre.window_samples,
                "hop_s": pre.hop_s,
            },
        }


def _arrays(package: ModelPackage, name: str) -> dict[str, np.ndarray]:
    if name not in package.manifest["files"]:
        raise PackageError(f"{pkg.MANIFEST} does not list {name}, needed to rebuild the model")
    return pkg.load_npz(package.path(name))  # sizes checked before numpy allocates


def _rebuild_student(package: ModelPackage) -> nn.Module:
    from comodo_live.models.student import build_student

    if pkg.STUDENT_JSON not in package.manifest["files"]:
        raise PackageError(f"{pkg.MANIFEST} does not list {pkg.STUDENT_JSON}")
    doc = pkg.read_json(package.path(pkg.STUDENT_JSON))
    found = _arrays(package, pkg.STUDENT_NPZ)
    try:
        with torch.device("meta"):  # shapes only: a hostile config allocates nothing
            expected = build_student(dict(doc["config"])).state_dict()
    except Exception as exc:  # any failure to build from foreign values means "refused"
        config = str(doc.get("config"))[:200]
        raise PackageError(
            f"{pkg.STUDENT_JSON}: cannot build a student from config {config}: {exc}"
        ) from exc
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or unexpected:
        raise PackageError(
            f"{pkg.STUDENT_NPZ}: weights do not fit {doc.get('class')}: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}"
        )
    for key, tensor in expected.items():
        if tuple(found[key].shape) != tuple(tensor.shape):
            raise PackageError(
                f"{pkg.STUDENT_NPZ}: {key} shape expected {tuple(tensor.shape)}, "
                f"found {tuple(found[key].shape)}"
            )
    student = build_student(dict(doc["config"]))  # every weight's size is now known to fit
    state = {
        key: torch.from_numpy(found[key].copy()).to(tensor.dtype)
        for key, tensor in expected.items()
    }
    student.load_state_dict(state)
    return student.eval()


def _check_head(head: HeadSpec, package: ModelPackage, student: nn.Module) -> None:
    embed_dim = getattr(student, "embed_dim", head.embed_dim)
    if head.embed_dim != embed_dim:
        raise PackageError(
            f"{pkg.CLASSIFIER_NPZ}: coef expects embeddings of {head.embed_dim} values, "
            f"the student gives {embed_dim}"
        )
    if head.activities != package.activities:
        raise PackageError(
            f"{pkg.CLASSIFIER_JSON}: activities {list(head.activities)} differ from "
            f"{list(package.activities)}"
        )


def _check_normalisation(pre: Preprocessing, student: nn.Module) -> None:
    for name, values in (("channel_mean", pre.channel_mean), ("channel_std", pre.channel_std)):
        buffer = getattr(student, name, None)
        if buffer is not None and not np.allclose(buffer.numpy(), values, rtol=1e-6, atol=1e-6):
            raise PackageError(
                f"{pkg.PREPROCESSING_FILE}: {name} expected {buffer.tolist()} "
                f"(student weights), found {list(values)}"
            )


def load_package(root: str | Path, check_onnx: bool = True) -> ImportedModel:
    """Validate a package and rebuild its student and classifier.

    Args:
        root: the package folder.
        check_onnx: also load ``model.onnx`` in ONNX Runtime and check its reference outputs.

    Raises:
        PackageError: tampered (hash/size), foreign (format), incompatible (version, channels,
            shapes) or inconsistent package; the message names the file, expected and found.
    """
    package = open_package(root)
    student = _rebuild_student(package)
    doc = pkg.read_json(package.path(pkg.CLASSIFIER_JSON))
    arrays = _arrays(package, pkg.CLASSIFIER_NPZ)
    try:
        head = HeadSpec.from_files(doc, arrays)
    except HeadError as exc:
        raise PackageError(f"{pkg.CLASSIFIER_JSON}/{pkg.CLASSIFIER_NPZ}: {exc}") from exc
    _check_head(head, package, student)
    _check_normalisation(package.preprocessing, student)
    reference = _arrays(package, pkg.REFERENCE_NPZ)
    rebuilt = torch_outputs(ActivityModel(student, head), reference["windows"])
    worst = max(float(np.max(np.abs(rebuilt[n] - reference[n]))) for n in rebuilt)
    if worst > PARITY_ATOL:
        raise PackageError(
            f"{pkg.REFERENCE_NPZ}: rebuilt model differs from the exported outputs by {worst:.3g} "
            f"(allowed {PARITY_ATOL})"
        )
    if check_onnx:
        OnnxActivityModel(package).self_test(PARITY_ATOL)
    return ImportedModel(
        student=student, head=head, preprocessing=package.preprocessing, package=package
    )

"""Write a self-describing model package (see :mod:`comodo_live.runtime.package` for the layout)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import comodo_live
from comodo_live.export.card import CardInfo, render_model_card
from comodo_live.export.graph import ActivityModel, export_onnx, export_torchscript
from comodo_live.export.metadata import onnx_metadata, write_onnx_metadata
from comodo_live.export.parity import ParityError, check_parity, torch_outputs
from comodo_live.head import HeadSpec
from comodo_live.records import IMU_CHANNELS, IMU_UNITS
from comodo_live.runtime import package as pkg
from comodo_live.runtime.package import Preprocessing

Progress = Callable[[float], None]
MAX_PARITY_WINDOWS = 64
REFERENCE_WINDOWS = 8


def as_head_spec(classifier: Any, activities: Sequence[str] | None) -> HeadSpec:
    """A :class:`HeadSpec` from a HeadSpec, a fitted sklearn model, or a mapping of its fields
    (:meth:`HeadSpec.from_dict`; ``activities`` fills a missing ``"activities"``)."""
    if isinstance(classifier, HeadSpec):
        head = classifier
    elif hasattr(classifier, "coef_") or hasattr(classifier, "steps"):
        head = HeadSpec.from_sklearn(classifier, activities)
    elif isinstance(classifier, Mapping):
        values = dict(classifier)
        if values.get("activities") is None:
            if activities is None:
                raise ValueError("classifier mapping needs 'activities' (or pass activities=)")
            values["activities"] = list(activities)
        head = HeadSpec.from_dict(values)
    else:
        raise TypeError(
            f"classifier must be a HeadSpec, sklearn model or mapping, got {type(classifier)}"
        )
    if activities is not None and tuple(activities) != head.activities:
        raise ValueError(
            f"activities {list(activities)} differ from the classifier's {list(head.activities)}"
        )
    return head


def as_preprocessing(
    student: nn.Module, preprocessing: Preprocessing | Mapping[str, Any]
) -> Preprocessing:
    """The contract; normalisation is read from the student's buffers (what the graph does)."""
    if isinstance(preprocessing, Preprocessing):
        return preprocessing
    values = dict(preprocessing)
    rate_hz = float(values["rate_hz"])
    samples = values.get("window_samples") or round(float(values["window_s"]) * rate_hz)
    channels = len(IMU_CHANNELS)
    mean = getattr(student, "channel_mean", torch.zeros(channels))
    std = getattr(student, "channel_std", torch.ones(channels))
    return Preprocessing(
        channels=tuple(values.get("channels", IMU_CHANNELS)),
        units=tuple(values.get("units", IMU_UNITS)),
        rate_hz=rate_hz,
        window_samples=int(samples),
        hop_s=float(values.get("hop_s", 0.5)),
        channel_mean=tuple(float(v) for v in mean.detach().cpu().flatten()),
        channel_std=tuple(float(v) for v in std.detach().cpu().flatten()),
    )


def _parity_windows(windows: np.ndarray | None, pre: Preprocessing) -> tuple[np.ndarray, str]:
    expected = (len(pre.channels), pre.window_samples)
    if windows is None:
        rng = np.random.default_rng(0)
        noise = rng.standard_normal((16, *expected)).astype(np.float32)  # (16, C, N)
        mean = np.asarray(pre.channel_mean, np.float32)[:, None]
        std = np.asarray(pre.channel_std, np.float32)[:, None]
        return noise * std + mean, "synthetic"
    windows = np.asarray(windows, np.float32)
    if windows.ndim != 3 or windows.shape[1:] != expected or len(windows) == 0:
        raise ValueError(
            f"windows must be (M >= 1, {expected[0]}, {expected[1]}), got {windows.shape}"
        )
    if not np.isfinite(windows).all():
        raise ValueError("windows must be finite (no NaN/inf)")
    if len(windows) > MAX_PARITY_WINDOWS:
        windows = windows[np.linspace(0, len(windows) - 1, MAX_PARITY_WINDOWS).round().astype(int)]
    return windows, ""


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Plain numeric arrays into an uncompressed .npz (object arrays refused: nothing pickled)."""
    for name, value in arrays.items():
        if value.dtype == object:
            raise TypeError(
                f"array {name!r} has dtype object; only plain numeric arrays are stored"
            )
    np.savez(path, **arrays)  # type: ignore[arg-type]


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _versions(opset: int) -> dict[str, Any]:
    import onnx
    import onnxruntime

    return {
        "comodo_live": comodo_live.__version__,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "opset": opset,
    }


def _check_target(out_dir: Path, overwrite: bool) -> None:
    """Fail before any work if ``out_dir`` may not be (re)written."""
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"out_dir {out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise FileExistsError(f"out_dir {out_dir} exists and is not empty (use overwrite)")
        if not (out_dir / pkg.MANIFEST).is_file():
            raise FileExistsError(
                f"out_dir {out_dir} is not a model package; refusing to replace it"
            )


def _replace_dir(staging: Path, out_dir: Path, overwrite: bool) -> None:
    """Move the finished package into place (an existing package only with ``overwrite``)."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise FileExistsError(f"out_dir {out_dir} exists and is not empty (use overwrite)")
        if not (out_dir / pkg.MANIFEST).is_file():
            raise FileExistsError(
                f"out_dir {out_dir} is not a model package; refusing to replace it"
            )
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
        os.replace(staging, out_dir)
        shutil.rmtree(old, ignore_errors=True)
        return
    if out_dir.exists():
        out_dir.rmdir()
    os.replace(staging, out_dir)


def export_model(
    student: nn.Module,
    classifier: Any,
    activities: Sequence[str] | None,
    preprocessing: Preprocessing | Mapping[str, Any],
    out_dir: str | Path,
    card_info: CardInfo | Mapping[str, Any] | None = None,
    *,
    windows: np.ndarray | None = None,
    windows_source: str = "provided",
    labels: Sequence[str] | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
    int8: bool = False,
) -> Path:
    """Export a student encoder + classifier as a validated, self-describing package.

    Runs torch's dynamo ONNX exporter in this process: not safe while other threads run torch
    (it changes process-global torch state). The app exports through :func:`export_session`,
    which isolates the export in a child process.

    Args:
        student: module with ``encode`` (B, C, N) → (B, E) and ``config`` (its constructor args);
            the EMA student in the app. Not modified.
        classifier: :class:`HeadSpec`, a fitted sklearn ``LogisticRegression`` (or
            ``Pipeline(StandardScaler, LogisticRegression)``), or a mapping of its fields.
        activities: K names in logit order (None: the classifier's own).
        preprocessing: :class:`Preprocessing` or a mapping with ``rate_hz``, ``window_samples``
            (or ``window_s``), ``hop_s``.
        out_dir: package folder to create.
        card_info: facts for the model card.
        windows: (M, C, N) raw windows for the parity check (recorded/labelled ones);
            None: deterministic synthetic windows.
        windows_source: what ``windows`` are, recorded in the manifest.
        labels: (M,) activity of each window, if known: accuracy for the model card.
        progress: called with the fraction done, [0, 1].
        overwrite: replace an existing package at ``out_dir``.
        int8: also write ``model_int8.onnx`` (ONNX Runtime dynamic quantisation), its parity
            with float32 and the accuracy of both on the labelled windows in the card.

    Returns:
        ``out_dir``.

    Raises:
        ParityError: ONNX Runtime or TorchScript disagree with PyTorch (nothing is written).
    """
    started = time.perf_counter()
    report = progress or (lambda fraction: None)
    report(0.0)
    out_dir = Path(out_dir)
    _check_target(out_dir, overwrite)
    head = as_head_spec(classifier, activities)
    pre = as_preprocessing(student, preprocessing)
    pkg.check_channel_contract(pre)  # a package the app and runtime would refuse is not written
    info = card_info if isinstance(card_info, CardInfo) else CardInfo.from_mapping(card_info)
    if not info.student:
        info = CardInfo.from_mapping(
            {**info.to_json(), "student": dict(getattr(student, "config", {}))}
        )
    parity_windows, source = _parity_windows(windows, pre)
    source = source or windows_source
    model = ActivityModel(student, head)
    example = torch.from_numpy(parity_windows[:1].repeat(2, axis=0))  # (2, C, N)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        opset = export_onnx(model, example, staging / pkg.ONNX_FILE)
        write_onnx_metadata(staging / pkg.ONNX_FILE, onnx_metadata(head, pre))  # before hashing
        report(0.5)
        ts_method = export_torchscript(model, example, staging / pkg.TORCHSCRIPT_FILE)
        report(0.6)
        parity = check_parity(
            model, staging / pkg.ONNX_FILE, staging / pkg.TORCHSCRIPT_FILE, parity_windows, source
        )
        if not parity["passed"]:
            raise ParityError(f"exported graphs disagree with PyTorch: {json.dumps(parity)}")
        report(0.8)
        int8_info = None
        if int8:
            from comodo_live.export.quantize import export_int8

            labelled = None if windows is None or labels is None else np.asarray(windows)
            int8_info = export_int8(
                staging,
                head,
                pre,
                parity_windows if labelled is None else labelled,
                source,
                None if labelled is None else labels,
            )
        if labels is not None and info.labelled_accuracy is None and windows is not None:
            predicted = torch_outputs(model, np.asarray(windows, np.float32))["logits"].argmax(1)
            hits = [head.activities[p] == y for p, y in zip(predicted, labels, strict=True)]
            note = "measured at export on the labelled windows the classifier was fit on"
            info = CardInfo.from_mapping(
                {
                    **info.to_json(),
                    "labelled_accuracy": float(np.mean(hits)),
                    "labelled_accuracy_note": note,
                }
            )
        _write_files(
            staging,
            student,
            model,
            head,
            pre,
            info,
            parity,
            opset,
            ts_method,
            parity_windows,
            time.perf_counter() - started,
            int8_info,
        )
        report(0.95)
        _replace_dir(staging, out_dir, overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report(1.0)
    return out_dir


def _write_files(
    root: Path,
    student: nn.Module,
    model: ActivityModel,
    head: HeadSpec,
    pre: Preprocessing,
    info: CardInfo,
    parity: dict[str, Any],
    opset: int,
    ts_method: str,
    reference_windows: np.ndarray,
    export_seconds: float,
    int8_info: dict[str, Any] | None = None,
) -> None:
    """Everything but the graphs, then the manifest with the hash of every file."""
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _write_json(root / pkg.PREPROCESSING_FILE, pre.to_json())
    _write_json(root / pkg.CLASSIFIER_JSON, head.to_json())
    save_arrays(root / pkg.CLASSIFIER_NPZ, head.to_arrays())
    config = dict(getattr(student, "config", {}))
    _write_json(root / pkg.STUDENT_JSON, {"class": type(student).__name__, "config": config})
    state = {k: v.detach().cpu().numpy() for k, v in student.state_dict().items()}
    save_arrays(root / pkg.STUDENT_NPZ, state)
    # Reference windows for consumers' self-tests: the first ones of the parity set.
    reference_in = np.ascontiguousarray(reference_windows[:REFERENCE_WINDOWS], np.float32)
    reference = {"windows": reference_in, **torch_outputs(model, reference_in)}
    card = render_model_card(info, head, pre, parity, created)
    if int8_info is not None:  # the int8 graph's own outputs, for its runtime self-test
        from comodo_live.export.quantize import card_section, int8_reference

        reference.update(int8_reference(root / pkg.INT8_ONNX_FILE, reference_in))
        card += card_section(int8_info)
    save_arrays(root / pkg.REFERENCE_NPZ, reference)
    (root / pkg.MODEL_CARD).write_text(card, encoding="utf-8")
    embed_dim = head.embed_dim
    manifest = {
        "format": pkg.PACKAGE_FORMAT,
        "format_version": pkg.FORMAT_VERSION,
        "created_utc": created,
        "export_seconds": round(export_seconds, 3),
        "versions": _versions(opset),
        "model": {
            "onnx": pkg.ONNX_FILE,
            "torchscript": pkg.TORCHSCRIPT_FILE,
            "torchscript_method": ts_method,
            "input": {
                "name": pkg.INPUT_NAME,
                "shape": ["batch", len(pre.channels), pre.window_samples],
                "dtype": "float32",
                "units": list(pre.units),
            },
            "outputs": [
                {"name": "embedding", "shape": ["batch", embed_dim], "dtype": "float32"},
                {"name": "logits", "shape": ["batch", len(head.activities)], "dtype": "float32"},
                {
                    "name": "probabilities",
                    "shape": ["batch", len(head.activities)],
                    "dtype": "float32",
                },
            ],
            "student_class": type(student).__name__,
            "student_config": config,
        },
        "activities": list(head.activities),
        "card": info.to_json(),
        "parity": parity,
        **({"int8": int8_info} if int8_info is not None else {}),
        "files": {
            path.name: {"sha256": pkg.sha256_file(path), "bytes": path.stat().st_size}
            for path in sorted(root.iterdir())
            if path.is_file() and path.name != pkg.MANIFEST
        },
    }
    _write_json(root / pkg.MANIFEST, manifest)


def export_session(
    session_dir: str | Path,
    out_dir: str | Path,
    progress: Progress | None = None,
    overwrite: bool = False,
    isolate: bool = True,
    int8: bool = False,
) -> Path:
    """Export a live session's EMA student + classifier (its newest checkpoint).

    Args:
        session_dir: ``recordings/<session>`` (reads ``checkpoints/latest.pt``, weights_only).
        out_dir: package folder to write.
        progress: called with the fraction done, [0, 1] (from the calling thread).
        overwrite: replace an existing package at ``out_dir``.
        isolate: export in a child process (default; required while other threads run torch —
            e.g. the live trainer — see :mod:`comodo_live.export.isolated`); False exports in
            this process (the ``app.py export`` command).
        int8: also write the int8 graph (see :func:`export_model`).

    Raises:
        SessionExportError: no checkpoint, foreign checkpoint or nothing labelled yet.
        ParityError: the exported graphs disagree with PyTorch (nothing written).
    """
    from comodo_live.export.session import read_session

    report = progress or (lambda fraction: None)
    report(0.0)
    _check_target(Path(out_dir), overwrite)
    if isolate:
        from comodo_live.export.isolated import export_in_child

        return export_in_child(Path(session_dir), Path(out_dir), report, overwrite, int8=int8)
    model = read_session(session_dir)
    report(0.1)
    return export_model(
        model.student,
        model.head,
        None,
        model.preprocessing,
        out_dir,
        model.card,
        windows=model.windows,
        windows_source=model.windows_source,
        labels=model.labels,
        progress=lambda fraction: report(0.1 + 0.9 * fraction),
        overwrite=overwrite,
        int8=int8,
    )

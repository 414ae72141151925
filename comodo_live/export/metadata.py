"""The input contract and class names inside the ONNX file itself (``metadata_props``).

Tools that open only ``model.onnx`` (Netron, ONNX Runtime's ``modelmeta.custom_metadata_map``,
Edge Impulse-style importers) then know what the outputs mean and what a window must hold,
without the package's JSON sidecars. Values are strings (the ONNX format's rule); lists are JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import comodo_live
from comodo_live.head import HeadSpec
from comodo_live.runtime.package import INPUT_NAME, OUTPUT_NAMES, PACKAGE_FORMAT, Preprocessing


def onnx_metadata(head: HeadSpec, pre: Preprocessing, precision: str = "float32") -> dict[str, str]:
    """``metadata_props`` of an exported graph.

    Args:
        head: the classifier (class names in output order).
        pre: the input contract (channels, units, rate, window, hop).
        precision: ``"float32"`` or ``"int8"`` (dynamically quantised weights).

    Returns:
        Key → string value; ``class_names``, ``channels``, ``units`` and ``input_shape`` are
        JSON lists, numbers are decimal strings.
    """
    if precision not in ("float32", "int8"):
        raise ValueError(f"precision must be 'float32' or 'int8', got {precision!r}")
    return {
        "format": PACKAGE_FORMAT,
        "comodo_live_version": comodo_live.__version__,
        "class_names": json.dumps(list(head.activities)),
        "input_name": INPUT_NAME,
        "input_shape": json.dumps(["batch", len(pre.channels), pre.window_samples]),
        "input_layout": "batch, channel, sample (channels in 'channels' order, oldest sample first)",
        "channels": json.dumps(list(pre.channels)),
        "units": json.dumps(list(pre.units)),
        "rate_hz": f"{pre.rate_hz:g}",
        "window_samples": str(pre.window_samples),
        "window_s": f"{pre.window_samples / pre.rate_hz:g}",
        "hop_s": f"{pre.hop_s:g}",
        "outputs": json.dumps(list(OUTPUT_NAMES)),
        "normalisation": "inside the graph: feed raw samples in the listed units",
        "precision": precision,
    }


def write_onnx_metadata(path: Path, props: Mapping[str, str]) -> None:
    """Add ``props`` to the ONNX file's ``metadata_props`` (keys already there are kept unless
    ``props`` names them) and save it in place."""
    import onnx

    model = onnx.load(str(path))
    merged = {entry.key: entry.value for entry in model.metadata_props}
    merged.update(props)
    onnx.helper.set_model_props(model, merged)
    onnx.save(model, str(path))


def read_onnx_metadata(path: Path) -> dict[str, str]:
    """The ONNX file's ``metadata_props`` as a dict."""
    import onnx

    return {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}

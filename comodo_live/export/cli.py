"""``python app.py export --session recordings/<session> --out <dir>``.

Also ``python -m comodo_live.export.cli ...``: the isolated export of a running app (see
:func:`comodo_live.export.package.export_session`) runs this in a child process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="app.py export",
        description="Export a session's personalised IMU model as a self-describing package.",
    )
    parser.add_argument("--session", required=True, help="session folder, recordings/<session>")
    parser.add_argument("--out", required=True, help="package folder to write")
    parser.add_argument("--force", action="store_true", help="replace an existing package at --out")
    parser.add_argument(
        "--int8",
        action="store_true",
        help="also write model_int8.onnx (ONNX Runtime dynamic quantisation); its parity and "
        "accuracy go into the model card",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument(
        "--progress-lines",
        action="store_true",
        help="machine-readable 'progress F' lines on stdout",
    )
    parser.add_argument("--nice", type=int, default=0, help="lower this process's priority by N")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns 0 on success, 2 when the session cannot be exported."""
    args = _parser().parse_args(argv)
    if args.nice > 0:
        os.nice(args.nice)
    import torch

    from comodo_live.export.package import export_session
    from comodo_live.export.parity import ParityError
    from comodo_live.export.session import SessionExportError

    if args.threads > 0:
        torch.set_num_threads(args.threads)

    def progress(fraction: float) -> None:
        if args.progress_lines:
            print(f"progress {fraction:.4f}", flush=True)
        elif not args.quiet:
            print(f"export: {100 * fraction:5.1f} %", file=sys.stderr, flush=True)

    try:
        out = export_session(
            args.session,
            args.out,
            progress=progress,
            overwrite=args.force,
            isolate=False,
            int8=args.int8,
        )
    except (SessionExportError, ParityError, FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    manifest = json.loads((Path(out) / "manifest.json").read_text())
    size = sum(entry["bytes"] for entry in manifest["files"].values())
    parity = manifest["parity"]
    onnx_diff = max(parity["onnxruntime"]["batched"]["max_abs_diff"].values())
    print(
        f"exported {len(manifest['activities'])} activities {manifest['activities']} to {out} "
        f"({size / 1e6:.2f} MB, {manifest['export_seconds']:.1f} s); parity on "
        f"{parity['windows']} {parity['source']} windows: max |ONNX - PyTorch| = {onnx_diff:.2g}"
    )
    if "int8" in manifest:
        int8 = manifest["int8"]
        accuracy = int8["accuracy"]
        scores = (
            ""
            if accuracy["int8"] is None
            else f", accuracy {100 * accuracy['float32']:.1f} % float32 / {100 * accuracy['int8']:.1f} % int8"
        )
        print(
            f"int8: {int8['bytes']['int8'] / 1e3:.0f} KB (float32 {int8['bytes']['float32'] / 1e3:.0f} KB); "
            f"same activity as float32 on {100 * int8['argmax_agreement']:.1f} % of {int8['windows']} "
            f"{int8['source']} windows, max probability difference "
            f"{int8['max_abs_probability_diff']:.3g}{scores}"
        )
    print(f"run it: python -m comodo_live.runtime {out} --lsl-type IMU")
    return 0


if __name__ == "__main__":
    sys.exit(main())

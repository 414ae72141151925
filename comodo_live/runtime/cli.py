"""Standalone runtime: print activity predictions from a live LSL IMU stream or a CSV file.

Needs only numpy, onnxruntime and (for live streams) pylsl — never torch or Qt::

    python -m comodo_live.runtime exported/ --lsl-type IMU [--source-id ID]
    python -m comodo_live.runtime exported/ --csv walk.csv
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence

import numpy as np

from comodo_live.head import Smoother
from comodo_live.pipes import quiet_broken_pipe
from comodo_live.records import Prediction
from comodo_live.runtime.csvfile import read_imu_csv
from comodo_live.runtime.model import OnnxActivityModel, package_smoother, smoothed_prediction
from comodo_live.runtime.package import ModelPackage, PackageError, open_package
from comodo_live.runtime.signal import ChannelError, StreamWindower, offline_windows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m comodo_live.runtime", description=__doc__.split("\n")[0]
    )
    parser.add_argument("package", help="exported model package folder")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--lsl-type", default=None, help="LSL stream type to read (default IMU)")
    source.add_argument("--csv", default=None, help="recorded IMU CSV (see runtime/csvfile.py)")
    parser.add_argument("--source-id", default=None, help="LSL source_id of the stream to use")
    parser.add_argument("--rate-hz", type=float, default=None, help="CSV rate if no time column")
    parser.add_argument(
        "--units", default=None, help="CSV units if the column names carry none, e.g. 'g,deg/s'"
    )
    parser.add_argument("--hop-s", type=float, default=None, help="seconds between predictions")
    parser.add_argument("--duration", type=float, default=None, help="stop after S seconds (LSL)")
    parser.add_argument("--max-predictions", type=int, default=None, help="stop after N lines")
    parser.add_argument("--resolve-timeout", type=float, default=5.0, help="LSL resolve wait, s")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads")
    parser.add_argument(
        "--int8", action="store_true", help="run the int8 graph (a package exported with --int8)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    return parser


def format_prediction(pred: Prediction, as_json: bool) -> str:
    """One output line: ``t label confidence | top probabilities`` or a JSON object."""
    if as_json:
        return json.dumps(
            {
                "t": round(pred.t, 4),
                "label": pred.label,
                "confidence": round(pred.confidence, 4),
                "probabilities": {k: round(v, 4) for k, v in pred.probabilities.items()},
            }
        )
    ranked = sorted(pred.probabilities.items(), key=lambda kv: -kv[1])[:3]
    top = "  ".join(f"{name} {p:.2f}" for name, p in ranked)
    return f"t={pred.t:10.3f}  {pred.label:<16} {pred.confidence:.2f}  | {top}"


def _emit(
    windows: Iterable[tuple[float, np.ndarray]],
    model: OnnxActivityModel,
    smoother: Smoother,
    args: argparse.Namespace,
    printed: list[int],
) -> bool:
    """Predict and print each window; False once ``--max-predictions`` is reached."""
    for t_end, window in windows:
        pred = smoothed_prediction(model, smoother, t_end, window)
        print(format_prediction(pred, args.json), flush=True)
        printed[0] += 1
        if args.max_predictions is not None and printed[0] >= args.max_predictions:
            return False
    return True


def _run_live(package: ModelPackage, model: OnnxActivityModel, args: argparse.Namespace) -> None:
    from comodo_live.runtime.lsl import LslImuSource

    pre = package.preprocessing
    smoother = package_smoother(package)
    windower = StreamWindower(
        len(pre.channels), pre.rate_hz, pre.window_samples, args.hop_s or pre.hop_s
    )
    printed = [0]
    with LslImuSource(
        pre.channels, args.lsl_type or "IMU", args.source_id, args.resolve_timeout
    ) as src:
        units = ", ".join(
            f"{c} {u}" for c, u in zip(pre.channels, src.channel_map.units, strict=True)
        )
        print(f"# reading {src.description} ({units})", file=sys.stderr, flush=True)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while deadline is None or time.monotonic() < deadline:
            times, samples = src.read(timeout_s=0.2)
            if not _emit(windower.push(times, samples), model, smoother, args, printed):
                return


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for a refused package or input)."""
    args = _parser().parse_args(argv)
    try:
        package = open_package(args.package)
        model = OnnxActivityModel(package, threads=args.threads, int8=args.int8)
        model.self_test()
        pre = package.preprocessing
        print(
            f"# {package.root}: {len(package.activities)} activities {list(package.activities)}; "
            f"{pre.window_samples} samples at {pre.rate_hz:g} Hz",
            file=sys.stderr,
            flush=True,
        )
        if args.csv:
            times, samples = read_imu_csv(args.csv, pre.channels, args.rate_hz, args.units)
            smoother = package_smoother(package)
            windows = offline_windows(
                times, samples, pre.rate_hz, pre.window_samples, args.hop_s or pre.hop_s
            )
            _emit(windows, model, smoother, args, [0])
        else:
            _run_live(package, model, args)
    except BrokenPipeError:  # piped into head & co., which closed the pipe: stop quietly
        return quiet_broken_pipe()
    except (PackageError, ChannelError, LookupError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0

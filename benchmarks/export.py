"""Export benchmark: time to export, package size, ONNX Runtime latency per window (batch 1).

The default student (``AppConfig().student``) on the default window (``AppConfig().window``:
2 s at 50 Hz = 6 × 100) with a 4-activity classifier fitted on synthetic windows. Measures:

- export wall time (ONNX dynamo export + checker, TorchScript, parity, files), first export in
  the process (cold: includes the exporter's one-off warm-up) and a second one (warm);
- package size per file and in total;
- ONNX Runtime latency of one window (batch 1, 1 intra-op thread, as the runtime uses it):
  median / p95 / p99 ms, plus the runtime's full per-window path (validation + smoothing) and
  PyTorch eager for comparison.

The CPU may be shared with other jobs: the load average before and after is recorded.

Usage: ``python benchmarks/export.py [--repeats 2000]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import comodo_live
from comodo_live.config import AppConfig
from comodo_live.export.package import export_model
from comodo_live.head import Smoother
from comodo_live.models.student import ImuStudent
from comodo_live.runtime.model import OnnxActivityModel, smoothed_prediction
from comodo_live.runtime.package import open_package

RESULTS = Path(__file__).resolve().parent / "results" / "export.json"
TARGET_MS = 1.0


def _stats(times_ms: list[float]) -> dict[str, float]:
    values = np.asarray(times_ms)
    return {
        "median_ms": round(float(np.median(values)), 4),
        "p95_ms": round(float(np.percentile(values, 95)), 4),
        "p99_ms": round(float(np.percentile(values, 99)), 4),
        "mean_ms": round(float(values.mean()), 4),
        "n": len(values),
    }


def _timed(fn: Any, repeats: int, warmup: int = 50) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return _stats(times)


def build_inputs(config: AppConfig) -> tuple[ImuStudent, Any, np.ndarray, list[str]]:
    """The default student (channel stats set), a fitted 4-class classifier and its windows."""
    from sklearn.linear_model import LogisticRegression

    s = config.student
    student = ImuStudent(
        embed_dim=s.embed_dim,
        width=s.width,
        kernel_size=s.kernel_size,
        proj_hidden=s.proj_hidden,
        seed=s.seed,
    ).eval()
    student.set_channel_stats([0, 0, 9.81, 0, 0, 0], [3, 3, 3, 1, 1, 1])
    rng = np.random.default_rng(0)
    n = config.window.samples
    t = np.arange(n) / config.window.rate_hz
    windows, labels = [], []
    for k, name in enumerate(("still", "walk", "run", "wave")):
        for _ in range(16):
            w = rng.normal(0, 0.1, (6, n))
            w[2] += 9.81
            w[k % 6] += k * np.sin(2 * np.pi * (1 + k) * t + rng.uniform(0, 6))
            windows.append(w)
            labels.append(name)
    x = np.stack(windows).astype(np.float32)  # (64, 6, N)
    with torch.no_grad():
        embeddings = student.encode(torch.from_numpy(x)).numpy()
    return student, LogisticRegression(max_iter=1000).fit(embeddings, labels), x, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2000, help="timed windows per measurement")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    config = AppConfig()
    load_before = os.getloadavg()
    student, classifier, windows, labels = build_inputs(config)
    pre = {
        "rate_hz": config.window.rate_hz,
        "window_s": config.window.window_s,
        "hop_s": config.window.hop_s,
    }
    export_s = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(2):
            start = time.perf_counter()
            out = export_model(
                student,
                classifier,
                None,
                pre,
                Path(tmp) / f"pkg{run}",
                {"session": "benchmark"},
                windows=windows,
                windows_source="synthetic-labelled",
                labels=labels,
            )
            export_s.append(round(time.perf_counter() - start, 3))
        manifest = json.loads((out / "manifest.json").read_text())
        files = {name: entry["bytes"] for name, entry in manifest["files"].items()}
        package = open_package(out)
        model = OnnxActivityModel(package, threads=1)
        one = windows[:1]  # (1, 6, N)
        onnx_latency = _timed(
            lambda: model.session.run(["probabilities"], {"imu": one}), args.repeats
        )
        smoother = Smoother(0.5, 0.5)
        runtime_latency = _timed(
            lambda: smoothed_prediction(model, smoother, 0.0, one[0]), args.repeats
        )
        x = torch.from_numpy(one)
        with torch.inference_mode():
            torch_latency = _timed(lambda: student.encode(x), args.repeats // 2)
    result = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "onnxruntime_threads": 1,
            "load_avg_before": [round(v, 2) for v in load_before],
            "load_avg_after": [round(v, 2) for v in os.getloadavg()],
        },
        "versions": manifest["versions"] | {"comodo_live": comodo_live.__version__},
        "student": student.config,
        "window": {
            "channels": 6,
            "samples": config.window.samples,
            "rate_hz": config.window.rate_hz,
        },
        "activities": list(package.activities),
        "export_seconds": {"cold": export_s[0], "warm": export_s[1]},
        "package_bytes": {"total": sum(files.values()), **files},
        "parity": {
            "passed": manifest["parity"]["passed"],
            "onnx_max_abs_diff": max(
                manifest["parity"]["onnxruntime"]["batched"]["max_abs_diff"].values()
            ),
            "torchscript_max_abs_diff": max(
                manifest["parity"]["torchscript"]["batched"]["max_abs_diff"].values()
            ),
        },
        "onnxruntime_batch1": onnx_latency,
        "runtime_path_batch1": runtime_latency,
        "torch_eager_encode_batch1": torch_latency,
        "target_ms": TARGET_MS,
        "meets_target": onnx_latency["median_ms"] <= TARGET_MS,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    m = result["machine"]
    print(
        f"machine: {m['platform']}, {m['cpu_count']} CPUs, torch threads {m['torch_threads']}, "
        f"load {m['load_avg_before']} → {m['load_avg_after']}"
    )
    print(f"export: cold {export_s[0]:.1f} s, warm {export_s[1]:.1f} s")
    print(
        f"package: {result['package_bytes']['total'] / 1e6:.2f} MB "
        f"(model.onnx {files['model.onnx'] / 1e6:.2f} MB)"
    )
    print(
        f"ONNX Runtime batch 1: median {onnx_latency['median_ms']:.3f} ms, "
        f"p95 {onnx_latency['p95_ms']:.3f} ms (target <= {TARGET_MS} ms)"
    )
    print(
        f"runtime path batch 1: median {runtime_latency['median_ms']:.3f} ms; "
        f"torch eager encode: median {torch_latency['median_ms']:.3f} ms"
    )
    print(f"saved {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

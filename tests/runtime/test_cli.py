"""`python -m comodo_live.runtime`: CSV and live LSL predictions, refusals, and no torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from comodo_live.records import DEG_TO_RAD, IMU_CHANNELS
from comodo_live.runtime.model import OnnxActivityModel
from comodo_live.runtime.package import open_package
from comodo_live.runtime.signal import offline_windows
from tests.conftest import ROOT
from tests.export.factory import RATE_HZ, WINDOW_SAMPLES, activity_signal, write_csv

# Runs the real `python -m comodo_live.runtime ...`, then reports heavy modules it imported.
RUNNER = """
import runpy, sys
try:
    runpy.run_module("comodo_live.runtime", run_name="__main__", alter_sys=True)
    code = 0
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "PyQt6", "sklearn", "pyqtgraph", "onnx"))
print("HEAVY_MODULES=" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""
SCRIPT = ("walk", "run", "still", "wave")


def _runtime(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _assert_torch_free(result: subprocess.CompletedProcess[str]) -> None:
    assert "HEAVY_MODULES=\n" in result.stderr + "\n", result.stderr


def test_runtime_cli__csv_predictions_match_the_model_without_torch(
    exported_package: Path, tmp_path: Path
) -> None:
    signal = np.concatenate(
        [activity_signal(kind, 6.0, 100.0, seed=30 + i) for i, kind in enumerate(SCRIPT)]
    )
    times = np.arange(len(signal)) / 100.0 + 1000.0
    csv = write_csv(tmp_path / "session.csv", times, signal, accel="g", gyro="deg_s")
    result = _runtime(str(exported_package), "--csv", str(csv), "--json")
    assert result.returncode == 0, result.stderr
    _assert_torch_free(result)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    model = OnnxActivityModel(open_package(exported_package))
    windows = list(offline_windows(times, signal, RATE_HZ, WINDOW_SAMPLES, 0.5))
    assert len(lines) == len(windows) == 47
    expected = model.predict_proba(np.stack([w for _, w in windows]))
    found = np.array(
        [[line["probabilities"][a] for a in model.package.activities] for line in lines]
    )
    np.testing.assert_allclose(found, expected, atol=2e-4)
    truth = [SCRIPT[int((t - 1000.0) // 6.0)] for t, _ in windows]
    inside = [(t - 1000.0) % 6.0 >= 1.0 for t, _ in windows]  # windows within one activity
    hits = [line["label"] == y for line, y, ok in zip(lines, truth, inside, strict=True) if ok]
    assert np.mean(hits) >= 0.8, [line["label"] for line in lines]


def test_runtime_cli__wrong_channel_count_csv_refused(
    exported_package: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "three.csv"
    csv.write_text(
        "time_s,accel_x,accel_y,accel_z\n" + "".join(f"{i / 50},0,0,9.8\n" for i in range(200))
    )
    result = _runtime(str(exported_package), "--csv", str(csv))
    assert result.returncode == 2
    assert "has 3 IMU channels (accel_x, accel_y, accel_z), expected 6" in result.stderr


def test_runtime_cli__tampered_package_refused(exported_package: Path, tmp_path: Path) -> None:
    root = Path(shutil.copytree(exported_package, tmp_path / "pkg"))
    data = bytearray((root / "model.onnx").read_bytes())
    data[-100] ^= 0xFF
    (root / "model.onnx").write_bytes(bytes(data))
    result = _runtime(str(root), "--csv", str(tmp_path / "unused.csv"))
    assert result.returncode == 2
    assert "model.onnx was modified: expected SHA-256" in result.stderr


class _ImuOutlet:
    """A real LSL IMU stream (gyro published in deg/s, declared in its metadata) pushed live."""

    def __init__(self, source_id: str, channels: int = 6, kind: str = "run") -> None:
        import pylsl

        info = pylsl.StreamInfo("test-imu", "IMU", channels, 100.0, pylsl.cf_float32, source_id)
        described = info.desc().append_child("channels")
        labels = IMU_CHANNELS[:channels]
        for label in labels:
            channel = described.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", "deg/s" if label.startswith("gyro") else "m/s^2")
        self.outlet = pylsl.StreamOutlet(info, chunk_size=5)
        signal = activity_signal(kind, 30.0, 100.0, seed=5)
        signal[:, 3:] /= DEG_TO_RAD
        self.signal = signal[:, :channels].astype(np.float32)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._push, name="test-imu-outlet")

    def _push(self) -> None:
        import pylsl

        start, index, t0 = time.monotonic(), 0, pylsl.local_clock()
        while not self._stop.is_set() and index + 5 <= len(self.signal):
            # Stamp samples at their nominal times (as a driver would), not at the push instant,
            # so that a push delayed by a loaded CPU does not bunch timestamps together.
            self.outlet.push_chunk(
                self.signal[index : index + 5], timestamp=t0 + (index + 4) / 100.0
            )
            index += 5
            self._stop.wait(max(0.0, start + index / 100.0 - time.monotonic()))

    def __enter__(self) -> _ImuOutlet:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        del self.outlet


@pytest.mark.lsl
def test_runtime_cli__live_lsl_stream(exported_package: Path, source_id: str) -> None:
    with _ImuOutlet(source_id, kind="run"):
        result = _runtime(
            str(exported_package),
            "--lsl-type",
            "IMU",
            "--source-id",
            source_id,
            "--json",
            "--max-predictions",
            "4",
            "--duration",
            "25",
        )
    assert result.returncode == 0, result.stderr
    _assert_torch_free(result)
    assert f"source_id='{source_id}'" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4
    assert all(line["label"] == "run" for line in lines), lines
    gaps = np.diff([line["t"] for line in lines])
    assert np.all(gaps >= 0.5 - 0.02)  # the package's hop


@pytest.mark.lsl
def test_runtime_cli__lsl_wrong_channel_count_refused(
    exported_package: Path, source_id: str
) -> None:
    with _ImuOutlet(source_id, channels=3):
        result = _runtime(str(exported_package), "--lsl-type", "IMU", "--source-id", source_id)
    assert result.returncode == 2
    assert f"(source_id='{source_id}') has 3 IMU channels, expected 6" in result.stderr

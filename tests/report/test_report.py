"""`comodo-live report`: the HTML's embedded pictures decoded and checked as images, for a real
headless demo session (written automatically at its end) and an offline distillation run."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from comodo_live.report import REPORT_NAME, report_at_session_end, write_report
from comodo_live.report.figures import confusion
from comodo_live.report.session_data import HEALTH_BIN_S, label_spans, stream_trace
from tests.engine_fixtures import FAST

ROOT = Path(__file__).resolve().parents[2]
PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def embedded_images(page: str) -> list[np.ndarray]:
    """Every embedded PNG of a report, decoded: (H, W, 3) uint8 each."""
    return [
        np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))
        for data in PNG.findall(page)
    ]


def assert_picture(image: np.ndarray) -> None:
    """A real plot: big enough, not blank, several distinct colours."""
    height, width, _ = image.shape
    assert width >= 400 and height >= 200, image.shape
    assert float(image.std()) > 0.0
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) >= 8, len(colours)


@pytest.mark.lsl
@pytest.mark.slow
def test_report__headless_demo_session_gets_a_report_with_pictures(tmp_path: Path) -> None:
    sets = [f"--set={k}={v}" for k, v in FAST.items() if k not in ("source.mode", "session.report")]
    command = [
        sys.executable,
        str(ROOT / "app.py"),
        "--headless",
        "--demo",
        "--root",
        str(tmp_path),
    ]
    command += ["--duration", "16", "--demo-labels", "2", "--camera-off-after", "11", *sets]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COMODO_RAISE": "0"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (session / REPORT_NAME).is_file(), "no report written at session end"
    out = tmp_path / "again.html"
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "report", str(session), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    images = embedded_images(page)
    # learning curves, confusion of labelled windows (+ demo truth), timeline, stream health
    assert len(images) >= 4, len(images)
    for image in images:
        assert_picture(image)
    assert "Windows you labelled" in page and "Stream health" in page
    assert "not recorded in this session" in page or "latest:" in page  # distillation gain
    assert "<script" not in page and 'src="http' not in page  # self-contained


def test_report__distill_run_folder(tmp_path: Path) -> None:
    from comodo_live.training.checkpoint import save_checkpoint

    steps = list(range(10, 210, 10))
    history = {
        "step": steps,
        "loss": [5.0 * float(np.exp(-s / 80)) + 1.0 for s in steps],
        "target_entropy": [0.9 - s / 1000 for s in steps],
        "mean_cosine": [0.2 + s / 2000 for s in steps],
        "lr": [3e-4] * len(steps),
    }
    save_checkpoint(tmp_path / "student.pt", {"history": history, "teacher": "skeleton"}, "student")
    (tmp_path / "probe.json").write_text(json.dumps({"1": {"top1": 82.9, "top3": 95.0}}))
    page = write_report(tmp_path).read_text()
    (image,) = embedded_images(page)
    assert_picture(image)
    assert "82.9 %" in page and "skeleton" in page


def test_report__not_a_session_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a session folder"):
        write_report(tmp_path)
    errors: list[str] = []
    assert report_at_session_end(tmp_path, errors.append) is None  # never raises
    assert len(errors) == 1 and "the session is saved" in errors[0]


def test_label_spans__start_stop_and_switch() -> None:
    times = np.array([1.0, 2.0, 3.0, 5.0, 6.0, 9.0])
    markers = [
        "camera:on",
        "label:start:walk",
        "label:start:run",
        "label:stop",
        "label:start:sit",
        "x",
    ]
    spans = [(s.t_start, s.t_end, s.activity) for s in label_spans(times, markers)]
    assert spans == [(2.0, 3.0, "walk"), (3.0, 5.0, "run"), (6.0, 9.0, "sit")]


def test_stream_trace__rate_and_nans_per_whole_bin() -> None:
    times = 100.0 + np.arange(0, 5.5, 0.01)  # (550,) 100 Hz for 5.49 s
    values = np.zeros((times.size, 6), np.float32)
    values[120:130, 2] = np.nan  # 10 NaN samples in the 2nd second
    trace = stream_trace("imu", "IMU", 100.0, times, values)
    assert trace.bin_t.size == int(5.49 // HEALTH_BIN_S)  # the partial last bin is left out
    np.testing.assert_allclose(trace.rate_hz, 100.0)
    assert trace.nan_samples.tolist() == [0, 10, 0, 0, 0]


def test_confusion__accuracy_and_picture() -> None:
    pairs = [("walk", "walk")] * 6 + [("walk", "run")] * 2 + [("run", "run")] * 4 + [("sit", "?")]
    png, accuracy = confusion(pairs, "test")
    assert accuracy == pytest.approx(10 / 13)
    assert_picture(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")))


def test_report__metrics_only_folder_with_gain_and_truth(tmp_path: Path) -> None:
    """A session without a recording: curves, gain, demo-truth confusion and timeline from
    metrics.jsonl alone; the missing recording is said, not hidden."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(40):
        gain = None if i < 10 else float(rng.normal(3.0, 1.0))
        lines.append(
            {
                "type": "metrics",
                "wall_time": 1000.0 + i,
                "camera_on": i < 30,
                "step": 10 * i,
                "loss": 6.0 - 0.1 * i,
                "steps_per_s": 10.0,
                "teacher_clips_per_s": 2.0 if i < 30 else 0.0,
                "target_entropy": 0.5,
                "mean_cosine": 0.2,
                "agreement": 0.8,
                "distillation_gain_points": gain,
                "distillation_gain_windows": 0 if gain is None else 20 + i,
            }
        )
    activities = ("walk", "run", "sit")
    for k in range(120):
        truth = activities[(k // 20) % 3]
        label = truth if rng.random() < 0.8 else activities[(k // 20 + 1) % 3]
        lines.append(
            {
                "type": "prediction",
                "t": 500.0 + 0.5 * k,
                "label": label,
                "confidence": float(rng.uniform(0.4, 1.0)),
                "camera_on": k < 90,
                "truth": truth,
            }
        )
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    page = write_report(tmp_path).read_text()
    images = embedded_images(page)
    assert len(images) == 4  # learning curves, gain, truth confusion, timeline
    for image in images:
        assert_picture(image)
    assert "percentage points on 59 labelled windows" in page
    assert "Demo ground truth" in page and "no session.xdf" in page

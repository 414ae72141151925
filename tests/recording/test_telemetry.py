"""A video with an embedded IMU (GoPro) → a session in one command, then end to end (issue 11)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import pyxdf

from comodo_app.main import main as app_main
from comodo_live.recording.telemetry import CameraImu, common_clock
from comodo_live.records import DEG_TO_RAD
from tests.engine_fixtures import FAST


def _camera(accel_keep: np.ndarray | None = None) -> CameraImu:
    """200 Hz sensors over 4 s: accel = t in every axis, gyro = 2t; accel thinned by a mask."""
    t = np.arange(800) / 200.0
    keep = np.ones(t.size, bool) if accel_keep is None else accel_keep
    accel = np.repeat(t[:, None], 3, axis=1)
    return CameraImu(t[keep], accel[keep], t + 0.0025, np.repeat(2 * t[:, None], 3, 1), "test")


def test_common_clock__both_sensors_on_one_uniform_clock() -> None:
    times, samples = common_clock(_camera())
    assert samples.shape == (times.size, 6) and samples.dtype == np.float32
    np.testing.assert_allclose(np.diff(times), 1 / 200.0, rtol=1e-6)
    assert times[0] == pytest.approx(0.0025)  # the later sensor's first sample
    np.testing.assert_allclose(samples[:, 0], times, atol=1e-5)  # accel resampled at the clock
    np.testing.assert_allclose(samples[:, 3], 2 * (times - 0.0025), atol=1e-5)


def test_common_clock__accelerometer_holes_are_dropped_not_filled() -> None:
    t = np.arange(800) / 200.0
    holes = (t % 1.0) < 0.5  # the GoPro pattern: ~0.5 s of accelerometer missing every second
    times, samples = common_clock(_camera(accel_keep=holes))
    assert np.all((times % 1.0) <= 0.5 + 1e-9)  # no clock point inside a hole
    assert np.diff(times).max() == pytest.approx(0.51, abs=0.01)  # the hole stays a gap
    assert 0.45 * 800 < times.size < 0.55 * 800
    np.testing.assert_allclose(samples[:, 0], times, atol=1e-5)


def _fast_settings(tmp_path: Path) -> list[str]:
    values = {**FAST, "session.root": str(tmp_path / "runs")}
    del values["source.mode"]  # --replay sets it
    return [f"--set={k}={json.dumps(v) if isinstance(v, str) else v}" for k, v in values.items()]


@pytest.mark.slow
def test_import__gopro_video_in_one_command_then_end_to_end(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("telemetry_parser", reason="the [import] extra (telemetry-parser)")
    video = shared_data / "video_imu" / "gopro_walk.mp4"
    labels = tmp_path / "labels.csv"
    labels.write_text("start,stop,activity\n0.5,5.0,walking\n5.0,10.0,walking_on\n")
    out = tmp_path / "gopro"
    assert (
        app_main(["import", "--video", str(video), "--labels", str(labels), "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert "IMU samples at 197.5 Hz" in printed and "315 frame indices" in printed
    streams = {
        s["info"]["type"][0]: s
        for s in pyxdf.load_xdf(str(out / "session.xdf"), dejitter_timestamps=False)[0]
    }
    imu = streams["IMU"]
    assert "GoPro" in json.dumps(imu["info"]["desc"])  # the origin names the camera
    units = [c["unit"][0] for c in imu["info"]["desc"][0]["channels"][0]["channel"]]
    assert units == ["m/s^2"] * 3 + ["rad/s"] * 3
    data = np.asarray(imu["time_series"])
    assert np.linalg.norm(data[:, :3], axis=1).mean() == pytest.approx(9.8, abs=0.3)  # gravity
    reference = np.loadtxt(
        shared_data / "video_imu" / "gopro_walk_imu.csv", delimiter=",", skiprows=1
    )  # the camera's own IMU, gyro in deg/s
    assert np.abs(data[:, 3:]).max() == pytest.approx(
        np.abs(reference[:, 4:]).max() * DEG_TO_RAD, rel=0.05
    )
    assert len(streams["Markers"]["time_stamps"]) == 4
    # end to end: the imported session through the live pipeline (fast replay)
    argv = ["replay", str(out), "--headless", "--speed", "max", *_fast_settings(tmp_path)]
    assert app_main(argv) == 0
    done = capsys.readouterr().out
    line = next(s for s in done.splitlines() if s.startswith("fast replay done"))
    clips = int(line.split(" clips")[0].rsplit(" ", 1)[1])
    assert clips > 0, line
    folder = Path(done.split("stopped; session folder: ")[1].split()[0])
    records = [json.loads(s) for s in (folder / "metrics.jsonl").read_text().splitlines()]
    predictions = [r for r in records if r.get("type") == "prediction"]
    assert predictions, {r.get("type") for r in records}


def test_import__without_telemetry_parser_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "telemetry_parser", None)  # import fails
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a video")
    out = tmp_path / "session"
    assert app_main(["import", "--video", str(video), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "telemetry-parser" in err and "comodo-live[import]" in err and "--imu-csv" in err
    assert not (out / "session.xdf").exists()

"""Anti-aliased resampling (numpy only), checked against scipy.signal.resample_poly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from comodo_live.signal import half_length_s, needs_lowpass, resample
from tests.conftest import ROOT


def test_resample__matches_resample_poly_on_the_real_gopro_imu(shared_data: Path) -> None:
    from scipy.signal import resample_poly

    from comodo_live.imu_csv import read_imu_csv

    samples = read_imu_csv(shared_data / "video_imu" / "gopro_walk_imu.csv").samples  # (M, 6)
    times = np.arange(len(samples)) / 198.0  # the camera's ~198 Hz, as a regular stream
    reference = resample_poly(samples, 25, 99, axis=0).T  # (6, G) at 50 Hz: 198 * 25 / 99
    grid = np.arange(reference.shape[1]) / 50.0
    ours = resample(times, samples, grid, 50.0)  # (6, G)
    linear = np.stack([np.interp(grid, times, column) for column in samples.T])
    inner = slice(10, -10)  # scipy pads with zeros at the ends
    scale = samples.std(0)
    ours_rms = np.sqrt(((ours - reference)[:, inner] ** 2).mean(1)) / scale
    linear_rms = np.sqrt(((linear - reference)[:, inner] ** 2).mean(1)) / scale
    assert ours_rms.max() < 0.002, ours_rms  # measured: <= 0.0001 of each channel's std
    assert np.abs(ours - reference)[:, inner].max(1).max() / scale.min() < 0.01
    assert linear_rms.max() > 0.02, linear_rms  # plain interpolation: 1.5-6 % off


def test_resample__vibration_above_nyquist_is_removed() -> None:
    rate = 400.0
    times = np.arange(0, 20, 1 / rate)
    slow = np.sin(2 * np.pi * 1.3 * times)
    vibration = 3.0 * np.sin(2 * np.pi * 151.3 * times)  # folds to 1.3 Hz at 50 Hz
    grid = 0.5 + np.arange(900) / 50.0
    clean = resample(times, slow[:, None], grid, 50.0)[0]
    shaken = resample(times, (slow + vibration)[:, None], grid, 50.0)[0]
    assert shaken.std() / clean.std() == pytest.approx(1.0, abs=0.01)
    linear = np.interp(grid, times, slow + vibration)
    assert linear.std() / clean.std() > 3.0  # the aliasing this prevents


def test_resample__keeps_a_linear_trend_up_to_the_edges() -> None:
    rng = np.random.default_rng(0)
    regular = np.arange(600) * 0.005
    jittered = np.cumsum(rng.uniform(0.004, 0.006, 600))  # ~200 Hz, +-20 % jitter
    for times, tolerance in ((regular, 1e-9), (jittered, 0.01)):
        samples = np.stack([3.0 * times - 1.0, np.full_like(times, 9.81)], axis=1)
        grid = times[-1] - np.arange(int((times[-1] - times[0]) * 50))[::-1] / 50.0  # to the end
        out = resample(times, samples, grid, 50.0)
        np.testing.assert_allclose(out[0], 3.0 * grid - 1.0, atol=tolerance)
        np.testing.assert_allclose(out[1], 9.81, atol=1e-9)


def test_resample__same_rate_or_upsampling_is_linear_interpolation() -> None:
    times = np.arange(100) / 50.0
    samples = np.sin(times)[:, None] ** 3
    grid = 0.013 + np.arange(150) / 100.0
    assert not needs_lowpass(50.0, 50.0) and not needs_lowpass(50.0, 100.0)
    np.testing.assert_allclose(
        resample(times, samples, grid, 100.0)[0], np.interp(grid, times, samples[:, 0])
    )


def test_resample__whole_recording_equals_window_by_window() -> None:
    times = np.arange(0, 60, 1 / 200.0)  # more output points than one vectorised block
    samples = np.random.default_rng(1).standard_normal((len(times), 3))
    grid = 1.0 + np.arange(2900) / 50.0
    whole = resample(times, samples, grid, 50.0)
    half = half_length_s(50.0)
    for start in (0, 2047, 2800):
        g = grid[start : start + 100]
        keep = (times >= g[0] - half - 0.01) & (times <= g[-1] + half + 0.01)
        np.testing.assert_allclose(
            resample(times[keep], samples[keep], g, 50.0), whole[:, start : start + 100], atol=1e-9
        )


def test_resample__rejects_a_bad_rate() -> None:
    with pytest.raises(ValueError, match="out_rate_hz must be > 0, got 0"):
        resample(np.arange(3.0), np.zeros((3, 1)), np.arange(2.0), 0)


def test_runtime__signal_path_stays_numpy_only() -> None:
    code = (
        "import sys, comodo_live.runtime.cli, comodo_live.signal, comodo_live.imu_csv; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'torch', 'sklearn'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_preprocessing_contract__describes_the_filter_a_consumer_can_rebuild() -> None:
    from comodo_live.records import IMU_CHANNELS, IMU_UNITS
    from comodo_live.runtime.package import Preprocessing

    pre = Preprocessing(IMU_CHANNELS, IMU_UNITS, 50.0, 100, 0.5, (0.0,) * 6, (1.0,) * 6)
    spec = pre.to_json()["antialias"]
    rng = np.random.default_rng(2)
    times = np.arange(0, 6, 1 / 200.0)
    samples = rng.standard_normal((len(times), 2))
    grid = 1.0 + np.arange(200) / 50.0  # inside the data: no edge reflection needed
    dt = grid[:, None] - times[None, :]  # (G, M) s, from the JSON fields alone:
    u = dt / spec["half_length_s"]
    window = np.where(
        np.abs(u) <= 1,
        np.i0(spec["kaiser_beta"] * np.sqrt(np.clip(1 - u * u, 0, None)))
        / np.i0(spec["kaiser_beta"]),
        0.0,
    )
    weights = window * np.sinc(2 * spec["cutoff_hz"] * dt)
    rebuilt = (weights / weights.sum(1, keepdims=True)) @ samples  # (G, 2)
    assert spec["applied_above_hz"] < 200.0
    np.testing.assert_allclose(resample(times, samples, grid, 50.0).T, rebuilt, atol=1e-5)

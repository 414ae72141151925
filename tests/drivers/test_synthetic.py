"""drivers.synthetic*: activities differ in IMU and frames, repetitions vary, ground truth arrives."""

from __future__ import annotations

import time

import numpy as np
import pylsl
import pytest

import comodo_live  # noqa: F401
from comodo_live.streams.names import FRAME_INDEX_TYPE, IMU_TYPE, MARKER_TYPE
from drivers.synthetic import SyntheticSession, parse_script
from drivers.synthetic_motion import DEFAULT_SCRIPT, SyntheticMotion, validate_script
from drivers.synthetic_scene import SceneRenderer
from tests.drivers.conftest import pull_for

RATE = 50.0


def _segment_windows(
    motion: SyntheticMotion, segment: int, window_s: float = 2.0
) -> list[np.ndarray]:
    p = motion.params(segment)
    k0 = int(np.ceil(p.start_s * RATE))
    data = motion.imu(k0, k0 + int(p.duration_s * RATE), RATE)
    step = int(window_s * RATE)
    return [data[i : i + step] for i in range(0, len(data) - step + 1, step)]


def _imu_features(window: np.ndarray) -> np.ndarray:
    spectrum = np.abs(np.fft.rfft(window[:, 1] - window[:, 1].mean()))
    return np.concatenate([window[:, :3].mean(0), window.std(0), [np.argmax(spectrum)]])


def test_synthetic_motion__activities_differ_and_generalise_across_repetitions():
    motion = SyntheticMotion(DEFAULT_SCRIPT, seed=3)
    n = len(DEFAULT_SCRIPT)
    names = [a for a, _ in DEFAULT_SCRIPT]
    train = {
        a: np.mean([_imu_features(w) for w in _segment_windows(motion, j)], 0)
        for j, a in enumerate(names)
    }
    scale = np.std(np.stack(list(train.values())), 0) + 1e-6
    correct = total = 0
    for cycle in (1, 2):  # later repetitions, with their own frequencies, amplitudes and tilt
        for j, activity in enumerate(names):
            for window in _segment_windows(motion, cycle * n + j):
                distances = {
                    a: np.linalg.norm((_imu_features(window) - c) / scale) for a, c in train.items()
                }
                correct += min(distances, key=distances.get) == activity
                total += 1
    assert correct / total >= 0.9
    first, again = _segment_windows(motion, 0)[0], _segment_windows(motion, n)[0]
    assert not np.allclose(first, again, atol=0.05)  # a repetition is never a copy


def test_synthetic_motion__deterministic_given_seed_and_independent_of_chunking():
    a, b, c = SyntheticMotion(seed=7), SyntheticMotion(seed=7), SyntheticMotion(seed=8)
    whole = a.imu(0, 1500, RATE)
    np.testing.assert_array_equal(
        whole, np.concatenate([b.imu(0, 37, RATE), b.imu(37, 1500, RATE)])
    )
    assert not np.allclose(whole, c.imu(0, 1500, RATE))
    assert whole.dtype == np.float32 and whole.shape == (1500, 6)
    assert np.all(np.isfinite(whole))


def test_synthetic_motion__script_validation_and_lookup():
    with pytest.raises(ValueError, match="unknown activity 'flying'"):
        validate_script([("flying", 10.0)])
    with pytest.raises(ValueError, match="segment duration"):
        validate_script([("walking", 0.1)])
    assert parse_script("walking:12, sitting:8") == [("walking", 12.0), ("sitting", 8.0)]
    motion = SyntheticMotion([("walking", 10.0), ("sitting", 5.0)], t0=100.0)
    assert motion.activity_at(99.0) is None
    assert motion.activity_at(109.9) == "walking"
    assert motion.activity_at(112.0) == "sitting"
    assert motion.activity_at(116.0) == "walking"  # the script repeats
    assert len(DEFAULT_SCRIPT) >= 4 and all(8 <= d <= 20 for _, d in DEFAULT_SCRIPT)


def _frame_features(frame: np.ndarray) -> np.ndarray:
    small = frame.reshape(4, frame.shape[0] // 4, 4, frame.shape[1] // 4, 3).mean((1, 3))
    return small.ravel() / 255.0  # coarse colour layout, (48,)


def test_synthetic_scene__activities_differ_in_frames_and_moving_scenes_flow():
    motion = SyntheticMotion(DEFAULT_SCRIPT, seed=1)
    renderer = SceneRenderer((160, 120), seed=1)
    n = len(DEFAULT_SCRIPT)
    names = [a for a, _ in DEFAULT_SCRIPT]

    def frames(segment: int, count: int = 6) -> list[np.ndarray]:
        p = motion.params(segment)
        return [renderer.render(motion.pose(p.start_s + 0.5 + 1.3 * i)) for i in range(count)]

    centroids = {
        a: np.mean([_frame_features(f) for f in frames(j)], 0) for j, a in enumerate(names)
    }
    correct = total = 0
    for j, activity in enumerate(names):
        for frame in frames(n + j):  # the next repetition: other brightness, pose, phase
            distances = {
                a: np.linalg.norm(_frame_features(frame) - c) for a, c in centroids.items()
            }
            correct += min(distances, key=distances.get) == activity
            total += 1
    assert correct == total
    for j, activity in enumerate(names):
        p = motion.params(j)
        a, b = (
            renderer.render(motion.pose(p.start_s + 2.0 + dt)).astype(float) for dt in (0.0, 1 / 15)
        )
        assert np.abs(a - b).mean() > 0.5, (
            activity
        )  # head motion (and forward flow) moves the image


def test_synthetic_session__live_streams_ground_truth_and_camera_switch(source_id, open_inlet):
    script = [("walking", 1.5), ("sitting", 1.5), ("running", 1.5)]
    session = SyntheticSession(
        script,
        seed=0,
        imu_rate_hz=RATE,
        fps=15.0,
        source_id_prefix=source_id,
        teacher_size=(64, 64),
        start_delay_s=3.0,
    )
    with session:
        markers = open_inlet(session.marker_source_id, MARKER_TYPE)
        imu = open_inlet(session.imu_source_id, IMU_TYPE)
        frames = open_inlet(session.camera_source_id, FRAME_INDEX_TYPE)
        assert session.activities == ["walking", "sitting", "running"]
        t0 = session.t0
        assert t0 is not None and pylsl.local_clock() < t0, (
            "readers must subscribe before the script starts"
        )
        values, stamps = pull_for(imu, t0 + 3.2 - pylsl.local_clock())
        bus_frames = session.camera.bus.between(t0, t0 + 3.0)
        labels, label_stamps = pull_for(markers, 0.5)
        index_values, _ = pull_for(frames, 0.1)
        session.set_camera(False)
        assert session.camera.bus.latest() is None
        pushed = session.camera.frames_pushed
        time.sleep(0.3)
        assert session.camera.frames_pushed == pushed
        off_marker, _ = pull_for(markers, 1.0, min_samples=1)
    assert labels[:3, 0].tolist() == ["activity:walking", "activity:sitting", "activity:running"]
    np.testing.assert_allclose(label_stamps[:3] - t0, [0.0, 1.5, 3.0], atol=1e-6)
    assert off_marker[:, 0].tolist() == ["camera:off"]
    assert session.activity_at(t0 + 0.7) == "walking" and session.activity_at(t0 + 2.0) == "sitting"
    # IMU follows the script: gravity tilts forward while sitting at a desk.
    walking = values[(stamps > t0 + 0.2) & (stamps < t0 + 1.4)]
    sitting = values[(stamps > t0 + 1.7) & (stamps < t0 + 2.9)]
    assert len(walking) > 40 and len(sitting) > 40
    assert sitting[:, 2].mean() < walking[:, 2].mean() - 2.0  # accel_z, m/s²
    assert walking[:, :3].std(0).sum() > 5 * sitting[:, :3].std(0).sum()
    # Frames follow the script too, on the same clock.
    walk_frames = [f.rgb for f in bus_frames if session.activity_at(f.timestamp) == "walking"]
    sit_frames = [f.rgb for f in bus_frames if session.activity_at(f.timestamp) == "sitting"]
    assert len(walk_frames) >= 10 and len(sit_frames) >= 10
    assert np.abs(np.mean(walk_frames, (0, 1, 2)) - np.mean(sit_frames, (0, 1, 2))).max() > 20
    assert len(index_values) > 0 and np.all(index_values == -1)
    assert not session.running

"""Deterministic fast replay (``--speed max``): same seed → same student, every window, labels."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.live_utd import record_session, write_video
from comodo_live.config import AppConfig
from comodo_live.learning.guard import held_out
from comodo_live.learning.teacher import make_teacher
from comodo_live.session.fast_replay import CachedTeacher, FastReplay, load_recording
from tests.engine_fixtures import fast_config

DURATION_S = 12.0
IMU_HZ = 50.0
FPS = 10.0
LABELS = [(2.0, "label:start:walking"), (5.5, "label:stop"), (7.0, "label:start:waving")]
LABEL_END_S = 10.5  # waving stops here
SIZE = (64, 48)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-s session recorded through the recording path: IMU (50 Hz), video (10 fps), labels."""
    out = tmp_path_factory.mktemp("fast-replay") / "session"
    out.mkdir()
    rng = np.random.default_rng(0)
    imu_t = np.arange(int(DURATION_S * IMU_HZ)) / IMU_HZ
    phase = 2 * np.pi * np.outer(imu_t, [1.0, 1.5, 0.5, 2.0, 3.0, 0.7])
    imu = (np.sin(phase) + 0.1 * rng.normal(size=phase.shape)).astype(np.float32)
    imu[:, 2] += 9.81
    frame_t = np.arange(int(DURATION_S * FPS)) / FPS
    frames = (
        rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8) // (1 + k % 4)
        for k in range(frame_t.size)
    )
    video = out / "video.avi"
    write_video(video, frames, FPS)
    markers = [*LABELS, (LABEL_END_S, "label:stop")]
    record_session(out, imu_t, imu, frame_t, video, markers, IMU_HZ, FPS, SIZE)
    return out


def _config(tmp_path: Path, seed: int = 0) -> AppConfig:
    return fast_config(
        tmp_path,
        student__seed=seed,
        camera__width_px=SIZE[0],
        camera__height_px=SIZE[1],
        trainer__replay_size=256,
    )


def _weights(replay: FastReplay) -> dict[str, torch.Tensor]:
    trainer = replay.pipeline.trainer
    return {
        **{f"student.{k}": v.clone() for k, v in trainer.student.state_dict().items()},
        **{f"ema.{k}": v.clone() for k, v in trainer.ema.state_dict().items()},
    }


def test_fast_replay__same_seed_gives_the_same_student(session: Path, tmp_path: Path) -> None:
    runs = []
    for seed in (0, 0, 1):
        replay = FastReplay(_config(tmp_path, seed), session, teacher_cache=tmp_path / "cache")
        stats = replay.run()
        assert stats.steps > 0 and stats.pairs > 0
        runs.append((_weights(replay), stats.steps))
    (first, steps0), (second, steps1), (other, _) = runs
    assert steps0 == steps1
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    # a different student seed gives a different student: the check above can fail
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_fast_replay__processes_every_window_and_clip(session: Path, tmp_path: Path) -> None:
    config = _config(tmp_path).replace({"trainer.hold_out_every": 1})
    replay = FastReplay(config, session, steps_per_pair=1)
    stats = replay.run()
    rec = load_recording(session)
    span = float(rec.imu_t[-1] - rec.imu_t[0])
    duration = (config.window.samples - 1) / config.window.rate_hz
    expected = math.floor((span - duration) / config.window.hop_s + 1e-6) + 1
    assert stats.windows == expected
    assert stats.clips == stats.windows  # the camera covered every window
    warmup = config.teacher.stats_warmup_clips
    # held-out labelled stretches make no pair (hold_out_every 1: all): the guard's test data
    _, _, stretches = replay.labels.windows_by_stretch()
    kept_out = sum(held_out(replay.labels.ordinal(int(g)), 1) for g in stretches)
    assert 0 < kept_out == stretches.size < stats.clips - warmup
    assert stats.pairs == stats.clips - warmup - kept_out
    assert replay.pipeline.trainer.replay.added == stats.pairs
    assert stats.windower["skipped_backlog"] == 0 and stats.windower["missing_frames"] == 0
    assert stats.recording_s == pytest.approx(span)


def test_fast_replay__applies_labels_on_the_recording_clock(session: Path, tmp_path: Path) -> None:
    config = _config(tmp_path)
    replay = FastReplay(config, session, steps_per_pair=0)
    replay.run()
    rec = load_recording(session)
    t0 = float(rec.imu_t[0])
    duration = (config.window.samples - 1) / config.window.rate_hz
    ends = t0 + duration + config.window.hop_s * np.arange(replay.stats.windows)
    intervals = {"walking": (2.0, 5.5), "waving": (7.0, LABEL_END_S)}
    expected = {
        name: int(np.sum((ends - duration >= t0 + a - 1e-3) & (ends <= t0 + b + 1e-3)))
        for name, (a, b) in intervals.items()
    }
    assert all(n > 0 for n in expected.values())
    counts = replay.labels.counts()
    assert set(counts) == {"walking", "waving"}
    for name, n in expected.items():  # within one window of the exact count (marker jitter)
        assert abs(counts[name] - n) <= 1, (name, counts[name], n)
    assert replay.pipeline.classifier.head is not None
    assert set(replay.pipeline.classifier.head.activities) == {"walking", "waving"}


def test_cached_teacher__features_are_bit_identical(tmp_path: Path) -> None:
    config = _config(tmp_path)
    teacher = make_teacher(config.teacher)
    cached = CachedTeacher(teacher, tmp_path / "cache")
    clip = np.random.default_rng(1).integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)
    direct = teacher.embed([clip])
    first = cached.embed([clip])
    again = cached.embed([clip])
    assert cached.misses == 1 and cached.hits == 1
    assert torch.equal(direct, first) and torch.equal(direct, again)
    other = CachedTeacher(
        make_teacher(config.replace({"teacher.size_px": 32}).teacher), tmp_path / "cache"
    )
    assert other.directory != cached.directory  # another configuration: another cache


def test_cli__speed_max_runs_a_fast_replay(session: Path, tmp_path: Path) -> None:
    from comodo_app.cli import main
    from tests.engine_fixtures import FAST

    sets = [
        f"--set={k}={v}"
        for k, v in {
            **FAST,
            "camera.width_px": SIZE[0],
            "camera.height_px": SIZE[1],
            "trainer.replay_size": 256,
        }.items()
        if k not in ("source.mode",)
    ]
    root = tmp_path / "runs"
    code = main(
        ["--headless", "--replay", str(session), "--speed", "max", "--root", str(root), *sets]
    )
    assert code == 0
    (folder,) = list(root.iterdir())
    assert (folder / "checkpoints" / "latest.pt").is_file() or any(folder.rglob("*.pt"))
    assert (folder / "metrics.jsonl").stat().st_size > 0


def test_load_recording__refuses_streams_on_different_clocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An IMU stamped on LSL's clock and markers in Unix time (another tool's file): refused in
    words, as the real-time player does, instead of a replay that waits 56 years."""
    from comodo_live.recording import session as recorded

    units = [(f"accel_{a}", "m/s^2") for a in "xyz"] + [(f"gyro_{a}", "rad/s") for a in "xyz"]
    channel = [{"label": [label], "unit": [unit]} for label, unit in units]
    imu = {
        "info": {
            "name": ["IMU"], "type": ["IMU"], "source_id": ["x"], "channel_count": ["6"],
            "nominal_srate": ["50"], "channel_format": ["float32"], "stream_id": 1,
            "desc": [{"channels": [{"channel": channel}]}],
        },
        "time_stamps": 1000.0 + np.arange(100) / 50.0,
        "time_series": np.zeros((100, 6), np.float32),
    }  # fmt: skip
    markers = {
        "info": {
            "name": ["Markers"], "type": ["Markers"], "source_id": ["m"], "channel_count": ["1"],
            "nominal_srate": ["0"], "channel_format": ["string"], "stream_id": 2, "desc": [None],
        },
        "time_stamps": np.array([1.7e9]),
        "time_series": [["label:start:walk"]],
    }  # fmt: skip
    xdf = tmp_path / "other.xdf"
    monkeypatch.setattr(recorded, "find_session", lambda path: (xdf, tmp_path))
    monkeypatch.setattr(recorded, "load_session_xdf", lambda path: ([imu, markers], {}))
    with pytest.raises(ValueError, match=r"other\.xdf: its streams use different clocks"):
        load_recording(xdf)
    markers["time_stamps"] = np.array([1001.0])  # the same clock: loads
    assert load_recording(xdf).imu.shape == (100, 6)

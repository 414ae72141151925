"""The live UTD-MHAD benchmark's quick mode end to end (real data; skipped without it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import live_utd

pytestmark = pytest.mark.slow


def test_plan_session__one_labelled_trial_per_subject_and_activity(shared_data: Path) -> None:
    data = live_utd.load_trials(shared_data / "utd_mhad.npz", depth=False)
    plan = live_utd.plan_session(data, (1, 3), label_seed=0, actions=(0, 5))
    assert plan.labelled.sum() == 4  # 2 subjects x 2 activities
    assert len(plan.markers) == 8
    assert np.all(np.diff(plan.imu_t) > 0)
    assert plan.imu_t[-1] < plan.duration_s
    assert plan.frame_t.size == int(plan.duration_s * live_utd.FPS)
    other = live_utd.plan_session(data, (1, 3), label_seed=1, actions=(0, 5))
    assert np.array_equal(other.imu, plan.imu)  # the draw changes the labels only
    test = live_utd.test_windows(data, (2,), (0, 5))
    lengths = [data.imu[i].shape[0] for i in data.select((2,), (0, 5))]
    assert test.windows.shape[0] == sum((n - 100) // 25 + 1 for n in lengths)


@pytest.mark.timeout(900)  # ~1-2 min on a quiet machine, several under load
def test_quick_benchmark__writes_every_row(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "live_utd_quick.json"
    assert live_utd.main(["--quick", "--work", str(tmp_path / "work"), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    (run,) = report["runs"]
    for row in ("live", "untrained", "imu_stats", "offline", "shuffled", "personalise_live"):
        assert 0 <= run[row]["window"] <= 100 and 0 <= run[row]["trial"] <= 100, row
    assert run["replay"]["windows"] > 100 and run["replay"]["pairs"] > 0
    assert run["replay"]["windower"]["skipped_backlog"] == 0
    assert run["activities_labelled"] == 4
    assert sum(run["display"].values()) == pytest.approx(100.0, abs=0.1)
    assert [p["recording_s"] for p in run["curve"]] == sorted(
        p["recording_s"] for p in run["curve"]
    )
    assert report["machine"]["cpu_count"] >= 1 and report["commit"]

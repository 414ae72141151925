"""``distill --sessions``: pairs from recorded sessions, one process and torchrun (gloo, CPU),
a checkpoint the app resumes (issue 11)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.distill_ddp import ACTIVITIES, ROOT, distill_command, make_session, set_args
from comodo_live.config import load_config
from comodo_live.learning.labels import LabelStore
from comodo_live.learning.pipeline import Pipeline
from comodo_live.learning.predictions import PredictionBoard
from comodo_live.session.folder import checkpoint_path
from comodo_live.training import ddp
from comodo_live.training.sessions import cached_pairs

EPOCHS = 8


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two 12-s labelled sessions (every activity in each), recorded by the app's recorder."""
    root = tmp_path_factory.mktemp("distill-sessions")
    return [make_session(root / f"s{i}", seed=i, duration_s=12.0, segment_s=3.0) for i in (1, 2)]


def _config(run: Path):  # type: ignore[no-untyped-def]
    return load_config(run / "config.toml")


def test_distill_sessions__one_process_writes_a_checkpoint_the_app_resumes(
    sessions: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, cache = tmp_path / "run", tmp_path / "cache"
    argv = ["--sessions", *map(str, sessions), "--out", str(out), "--cache-dir", str(cache)]
    argv += ["--epochs", str(EPOCHS), "--no-progress", *set_args()]
    assert ddp.main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.count("pairs (teacher)") == 2
    summary = json.loads((out / "distill.json").read_text())
    assert summary["world_size"] == 1 and summary["pairs"] > 60
    assert len(summary["loss"]) == EPOCHS and summary["probe"] is not None
    log = (out / "train_log.txt").read_text().splitlines()
    assert [line.split()[1] for line in log] == [f"{e}/{EPOCHS}" for e in range(1, EPOCHS + 1)]
    # the session cache: keyed by teacher config + file hashes, read back identically
    config = _config(out)
    pipeline = Pipeline(config, LabelStore(), PredictionBoard(10))
    pairs, hit = cached_pairs(sessions[0], config, pipeline.teacher.teacher, cache)
    assert hit and pairs.imu.shape[1:] == (6, config.window.samples)
    assert set(pairs.labels.tolist()) - {""} == set(ACTIVITIES)
    # a rerun resumes from train_state.pt (nothing left to train) and reads the cache
    assert ddp.main(argv) == 0
    again = capsys.readouterr().out
    assert "resuming" in again and again.count("pairs (cache)") == 2
    # the app resumes from it: student, EMA and the labelled windows
    labels = LabelStore(config.predictor.max_windows_per_activity)
    app = Pipeline(config, labels, PredictionBoard(10))
    app.resume(checkpoint_path(out))
    saved = torch.load(checkpoint_path(out), map_location="cpu", weights_only=False)
    assert app.trainer.step == summary["steps"]
    assert set(labels.counts()) == set(ACTIVITIES) and min(labels.counts().values()) > 0
    fresh = Pipeline(config, LabelStore(), PredictionBoard(10)).trainer.ema.state_dict()
    resumed = app.trainer.ema.state_dict()
    assert any(not torch.equal(resumed[k], fresh[k]) for k in resumed)  # the distilled one
    assert saved  # a readable torch checkpoint


@pytest.mark.slow
def test_distill_sessions__torchrun_two_ranks_matches_one_process(
    sessions: list[Path], tmp_path: Path
) -> None:
    if shutil.which("torchrun") is None and not Path(ROOT / ".venv/bin/torchrun").exists():
        pytest.skip("torchrun not installed")
    results = {}
    for nproc in (1, 2):
        out = tmp_path / f"n{nproc}"
        command = distill_command(sessions, out, nproc, 0, EPOCHS, tmp_path / f"cache{nproc}")
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        results[nproc] = json.loads((out / "distill.json").read_text())
        if nproc == 2:  # feature extraction sharded: each rank ran the teacher on one session
            assert "[rank 0]" in done.stdout and "[rank 1]" in done.stdout
            assert done.stdout.count("pairs (teacher)") == 2
    one, two = results[1], results[2]
    assert two["world_size"] == 2 and two["backend"] == "gloo"
    assert two["pairs"] == one["pairs"] and two["steps"] == one["steps"]
    # same probe accuracy within noise (the benchmark measures the seed-to-seed spread)
    assert abs(two["probe"]["top1"] - one["probe"]["top1"]) <= 20.0
    assert np.isfinite(two["loss"]).all()

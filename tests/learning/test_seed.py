"""Starting a session from an exported model package (``--resume PACKAGE``)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from comodo_app import cli
from comodo_live.learning.state import load_state
from comodo_live.runtime.package import PackageError
from comodo_live.session.controller import Controller
from drivers.sources import make_sources
from tests.export.factory import ACTIVITIES, build_package

from .conftest import fast_config


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An exported package of a tiny student (4 activities, 1 s windows at 50 Hz)."""
    return build_package(tmp_path_factory.mktemp("seed") / "package")


@pytest.fixture(scope="module")
def l2_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same, with a classifier on L2-normalised embeddings."""
    return build_package(tmp_path_factory.mktemp("seed-l2") / "package", l2_normalise=True)


def _wait(condition: Any, timeout_s: float = 20.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _package_weights(package: Path) -> dict[str, np.ndarray]:
    with np.load(package / "student.npz", allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _assert_same_weights(state: dict[str, torch.Tensor], expected: dict[str, np.ndarray]) -> None:
    assert set(state) == set(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(state[key].numpy(), value, err_msg=key)


@pytest.mark.lsl
@pytest.mark.parametrize("l2_normalise", [False, True])
def test_seed__controller_starts_from_an_exported_package(
    l2_normalise: bool, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    package: Path = request.getfixturevalue("l2_package" if l2_normalise else "package")
    weights = _package_weights(package)
    activities = tuple(json.loads((package / "classifier.json").read_text())["activities"])
    assert sorted(activities) == sorted(ACTIVITIES)
    config = fast_config(tmp_path, session__record=False, session__resume=str(package))
    assert config.student.embed_dim != 32  # the package's student (32) overrides the config
    ctl = Controller(config, sources_factory=make_sources)
    ctl.set_camera(False)  # no teacher pairs → no training step: weights stay the package's
    ctl.start()
    try:
        pipeline = ctl.pipeline
        assert pipeline is not None and pipeline.resumed_from == package
        assert ctl.config.student.embed_dim == 32 and ctl.config.teacher.embed_dim == 16
        assert ctl.labels.activities == activities
        assert pipeline.trainer.step == 0 and len(pipeline.trainer.queue) == 0
        _assert_same_weights(pipeline.trainer.ema.state_dict(), weights)
        _assert_same_weights(pipeline.trainer.student.state_dict(), weights)
        # the package's classifier, kept as exported (L2-normalising or not), predicts before
        # this session has labelled anything
        seeded = pipeline.classifier.seed_head
        assert seeded is not None and seeded.l2_normalise == l2_normalise
        assert _wait(
            lambda: (
                (p := ctl.snapshot().prediction) is not None
                and set(p.probabilities) >= set(ACTIVITIES)
            )
        )
        assert pipeline.trainer.imu_stats.applied  # the package's normalisation is kept
    finally:
        ctl.stop()
    assert ctl.session_dir is not None
    saved = load_state(ctl.session_dir / "checkpoints" / "latest.pt")
    _assert_same_weights(saved["ema_student"], weights)
    assert saved["labels"]["activities"] == list(activities)
    assert saved["classifier"]["activities"] == list(activities)
    assert saved["classifier"]["l2_normalise"] == l2_normalise


def test_seed__tampered_package_refused_by_the_cli(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = Path(shutil.copytree(package, tmp_path / "bad"))
    data = bytearray((bad / "student.npz").read_bytes())
    data[len(data) // 2] ^= 0x01
    (bad / "student.npz").write_bytes(bytes(data))
    argv = ["--headless", "--demo", "--root", str(tmp_path / "rec"), "--resume", str(bad)]
    assert cli.main([*argv, "--no-record", "--duration", "1"]) == 2
    err = capsys.readouterr().err
    assert "package refused" in err and "student.npz was modified" in err
    assert "Traceback" not in err
    assert not (tmp_path / "rec").exists()  # refused before any session folder


def test_seed__foreign_package_refused_by_the_controller(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text(json.dumps({"format": "someone-else", "files": {}}))
    ctl = Controller(
        fast_config(tmp_path, session__record=False, session__resume=str(foreign)),
        sources_factory=make_sources,
    )
    with pytest.raises(PackageError, match="format"):
        ctl.start()
    assert not ctl.running and ctl.session_dir is None

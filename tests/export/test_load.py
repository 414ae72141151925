"""load_package: export → reload → same predictions; tampered/foreign/incompatible refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from comodo_live.export.graph import ActivityModel
from comodo_live.export.load import load_package
from comodo_live.runtime.package import PackageError, sha256_file
from tests.export.factory import fit_classifier, labelled_windows, tiny_student


def _copy(package: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(package, tmp_path / "copy"))


def _rehash(root: Path) -> None:
    """Re-sign the manifest, as someone crafting a consistent but bad package would."""
    manifest = json.loads((root / "manifest.json").read_text())
    for name in manifest["files"]:
        path = root / name
        manifest["files"][name] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    (root / "manifest.json").write_text(json.dumps(manifest))


def _edit_json(root: Path, name: str, **changes: object) -> None:
    doc = json.loads((root / name).read_text())
    doc.update(changes)
    (root / name).write_text(json.dumps(doc))


def test_load_package__reload_gives_the_same_predictions(exported_package: Path) -> None:
    imported = load_package(exported_package)
    fresh, _ = labelled_windows(per_activity=3, seed=21)
    with torch.no_grad():
        rebuilt = ActivityModel(imported.student, imported.head)(torch.from_numpy(fresh))
    onnx_out = ort.InferenceSession(str(exported_package / "model.onnx")).run(None, {"imu": fresh})
    for mine, theirs in zip(rebuilt, onnx_out, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs, atol=1e-4)
    original = tiny_student()
    windows, labels = labelled_windows()
    expected = fit_classifier(original, windows, labels).predict_proba(
        original.encode(torch.from_numpy(fresh)).detach().numpy()
    )
    assert list(rebuilt[2].argmax(1).numpy()) == list(expected.argmax(1))
    # The whole student came back (projection head too), ready to continue training.
    with torch.no_grad():
        np.testing.assert_allclose(
            imported.student(torch.from_numpy(fresh)).numpy(),
            original(torch.from_numpy(fresh)).numpy(),
            atol=1e-5,
        )
    imported.student.train()
    imported.student(torch.from_numpy(fresh)).sum().backward()
    assert imported.card["steps"] == 7 and imported.preprocessing.window_samples == 50


@pytest.mark.parametrize("name", ["model.onnx", "classifier.npz", "preprocessing.json"])
def test_load_package__tampered_file_refused(
    exported_package: Path, tmp_path: Path, name: str
) -> None:
    root = _copy(exported_package, tmp_path)
    data = bytearray((root / name).read_bytes())
    data[len(data) // 2] ^= 0x01  # same size, one bit flipped
    (root / name).write_bytes(bytes(data))
    with pytest.raises(
        PackageError, match=rf"{name} was modified: expected SHA-256 \w+, found \w+"
    ):
        load_package(root)


def test_load_package__missing_file_refused(exported_package: Path, tmp_path: Path) -> None:
    root = _copy(exported_package, tmp_path)
    (root / "student.npz").unlink()
    with pytest.raises(PackageError, match=r"student\.npz is listed in manifest\.json but missing"):
        load_package(root)


def test_load_package__foreign_or_not_a_package_refused(
    exported_package: Path, tmp_path: Path
) -> None:
    with pytest.raises(PackageError, match=r"manifest\.json is missing"):
        load_package(tmp_path)
    root = _copy(exported_package, tmp_path)
    _edit_json(root, "manifest.json", format="someone-elses-model")
    with pytest.raises(
        PackageError, match="foreign package format 'someone-elses-model', expected"
    ):
        load_package(root)
    _edit_json(root, "manifest.json", format="comodo-live-imu-model", format_version=99)
    with pytest.raises(PackageError, match="incompatible format_version 99"):
        load_package(root)


def test_load_package__wrong_channel_count_refused(exported_package: Path, tmp_path: Path) -> None:
    root = _copy(exported_package, tmp_path)
    pre = json.loads((root / "preprocessing.json").read_text())
    pre["channels"], pre["units"] = pre["channels"][:3], pre["units"][:3]
    norm = pre["normalisation"]
    norm["channel_mean"], norm["channel_std"] = norm["channel_mean"][:3], norm["channel_std"][:3]
    (root / "preprocessing.json").write_text(json.dumps(pre))
    _rehash(root)
    with pytest.raises(PackageError, match=r"model expects 3 channels .*this app needs 6 channels"):
        load_package(root)


def test_load_package__graph_shape_mismatch_refused(exported_package: Path, tmp_path: Path) -> None:
    root = _copy(exported_package, tmp_path)
    _edit_json(root, "preprocessing.json", window_samples=60)
    _rehash(root)
    with pytest.raises(
        PackageError, match=r"input shape expected \[batch, 6, 60\].*found \['batch', 6, 50\]"
    ):
        load_package(root)


def test_load_package__never_unpickles(exported_package: Path, tmp_path: Path) -> None:
    root = _copy(exported_package, tmp_path)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (marker,))  # type: ignore[return-value]

    evil = np.empty(1, dtype=object)
    evil[0] = Payload()
    np.savez(root / "student.npz", **{"stem.0.weight": evil})
    _rehash(root)
    with pytest.raises(PackageError, match=r"student\.npz:.*dtype object refused"):
        load_package(root)
    assert not marker.exists()


def test_load_package__seeds_an_engine_session(exported_package: Path, tmp_path: Path) -> None:
    """The seed uses the engine's checkpoint names; its classifier dict rebuilds the head."""
    from comodo_live.head import HeadSpec
    from comodo_live.models.student import build_student
    from comodo_live.training.checkpoint import load_checkpoint, save_checkpoint

    imported = load_package(exported_package)
    seed = imported.session_seed()
    save_checkpoint(tmp_path / "seed.pt", seed, "session")  # plain values only (weights_only)
    seed = load_checkpoint(tmp_path / "seed.pt", "session")
    student = build_student(seed["student_config"]).eval()
    student.load_state_dict(seed["ema_student"])
    head = HeadSpec.from_dict(seed["classifier"])
    assert head.to_dict() == imported.head.to_dict()
    fresh, _ = labelled_windows(per_activity=2, seed=5)
    with torch.no_grad():
        engine_probs = head.probabilities(student.encode(torch.from_numpy(fresh)).numpy())
    session = ort.InferenceSession(str(exported_package / "model.onnx"))
    np.testing.assert_allclose(
        engine_probs, session.run(["probabilities"], {"imu": fresh})[0], atol=1e-4
    )
    assert seed["preprocessing"]["window_samples"] == 50

"""Hostile packages: sizes bounded before allocating, no symlinks or special files, bounded JSON,
non-object manifest entries and unprintable activity names refused with one line."""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from comodo_live.export.load import load_package
from comodo_live.runtime import package as pkg
from comodo_live.runtime.package import PackageError, load_npz, open_package, sha256_file

ROOT = Path(__file__).resolve().parents[2]


def _copy(package: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(package, tmp_path / "copy"))


def _rehash(root: Path) -> None:
    """Re-hash the manifest, as someone crafting a consistent but hostile package would."""
    manifest = json.loads((root / "manifest.json").read_text())
    for name in manifest["files"]:
        path = root / name
        manifest["files"][name] = {"sha256": sha256_file(path), "bytes": os.lstat(path).st_size}
    (root / "manifest.json").write_text(json.dumps(manifest))


def _npy_bytes(header_shape: tuple[int, ...], data: bytes) -> bytes:
    """An .npy member whose header declares ``header_shape`` float32 but holds ``data``."""
    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": header_shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_load_npz__decompression_bomb_refused_from_the_zip_directory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("coef.npy", _npy_bytes((1_000_000,), bytes(4_000_000)))
    assert path.stat().st_size < 50_000  # 4 MB of zeros deflate to a few KB
    with pytest.raises(PackageError, match=r"would decompress to 4000\d{3} bytes; at most 1048576"):
        load_npz(path, limit=2**20)
    assert load_npz(path)["coef"].shape == (1_000_000,)  # within the default bound


def test_load_npz__header_larger_than_its_data_refused_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:  # claims 4 TB, holds 16 bytes
        archive.writestr("coef.npy", _npy_bytes((10**12,), bytes(16)))
    before = _max_rss_mb()
    with pytest.raises(PackageError, match=r"coef\.npy: header declares shape \(1000000000000,\)"):
        load_npz(path)
    assert _max_rss_mb() - before < 100
    with zipfile.ZipFile(tmp_path / "objects.npz", "w") as archive:
        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buffer, {"descr": "|O", "fortran_order": False, "shape": (1,)}
        )
        archive.writestr("x.npy", buffer.getvalue() + bytes(8))
    with pytest.raises(PackageError, match="dtype object refused"):
        load_npz(tmp_path / "objects.npz")


def test_open_package__symlink_inside_refused(exported_package: Path, tmp_path: Path) -> None:
    root = _copy(exported_package, tmp_path)
    outside = tmp_path / "outside.json"
    shutil.copy(root / "classifier.json", outside)
    (root / "classifier.json").unlink()
    (root / "classifier.json").symlink_to(outside)
    _rehash(root)
    with pytest.raises(PackageError, match=r"classifier\.json is a symbolic link"):
        open_package(root)


def test_open_package__fifo_refused_without_blocking(
    exported_package: Path, tmp_path: Path
) -> None:
    root = _copy(exported_package, tmp_path)
    manifest = json.loads((root / "manifest.json").read_text())
    os.mkfifo(root / "extra.bin")
    manifest["files"]["extra.bin"] = {"sha256": "0" * 64, "bytes": 0}
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PackageError, match=r"extra\.bin is not a regular file"):
        open_package(root)


def test_open_package__deep_or_non_object_json_refused(
    exported_package: Path, tmp_path: Path
) -> None:
    root = _copy(exported_package, tmp_path)
    manifest = json.loads((root / "manifest.json").read_text())
    (root / "manifest.json").write_text(json.dumps({**manifest, "x": "[" * 100_000}))
    open_package(root)  # a deep-looking string is fine
    (root / "manifest.json").write_text('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(PackageError, match=r"manifest\.json is nested deeper than 32 levels"):
        open_package(root)
    nested: object = 1
    for _ in range(40):
        nested = {"a": nested}
    (root / "manifest.json").write_text(json.dumps({**manifest, "card": nested}))
    with pytest.raises(PackageError, match="nested deeper than 32 levels"):
        open_package(root)
    (root / "manifest.json").write_text(
        json.dumps({**manifest, "files": {**manifest["files"], "model.onnx": "abc"}})
    )
    with pytest.raises(
        PackageError, match=r"the entry of 'model\.onnx' must be an object .* found str"
    ):
        open_package(root)
    (root / "manifest.json").write_text("x" * (pkg.MAX_JSON_BYTES + 1))
    with pytest.raises(PackageError, match=r"manifest\.json is 1048577 bytes; at most 1048576"):
        open_package(root)


def test_load_package__huge_student_config_refused_without_allocating(
    exported_package: Path, tmp_path: Path
) -> None:
    root = _copy(exported_package, tmp_path)
    doc = json.loads((root / "student.json").read_text())
    doc["config"]["width"] = 10**6  # ~10^13 parameters if anything were allocated
    (root / "student.json").write_text(json.dumps(doc))
    _rehash(root)
    before = _max_rss_mb()
    with pytest.raises(PackageError, match=r"student\.npz: .* shape expected"):
        load_package(root)
    assert _max_rss_mb() - before < 200
    doc["config"]["width"] = "wide"
    (root / "student.json").write_text(json.dumps(doc))
    _rehash(root)
    with pytest.raises(PackageError, match=r"student\.json: cannot build a student from config"):
        load_package(root)


@pytest.mark.parametrize("name", ["walk\x1b[2J", "two\nlines", "x" * 65, ""])
def test_open_package__unprintable_activity_names_refused(
    exported_package: Path, tmp_path: Path, name: str
) -> None:
    root = _copy(exported_package, tmp_path)
    doc = json.loads((root / "classifier.json").read_text())
    doc["activities"][0] = name
    (root / "classifier.json").write_text(json.dumps(doc))
    _rehash(root)
    with pytest.raises(
        PackageError, match=r"must be printable text of 1\.\.64 characters"
    ) as caught:
        open_package(root)
    assert str(caught.value).isprintable()


def test_runtime_cli__hostile_package_is_one_line_exit_2(
    exported_package: Path, tmp_path: Path
) -> None:
    root = _copy(exported_package, tmp_path)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["files"]["model.onnx"] = ["not", "an", "object"]
    (root / "manifest.json").write_text(json.dumps(manifest))
    result = subprocess.run(
        [sys.executable, "-m", "comodo_live.runtime", str(root), "--csv", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        "error: manifest.json: the entry of 'model.onnx' must be an object with 'bytes' and "
        "'sha256', found list"
    )

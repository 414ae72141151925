"""Tests of the optional Mantis-8M student's error paths (package and weights are not here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from comodo_live.models.student import build_student


def test_mantis__missing_weights_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"Mantis-8M weights not found in .*nowhere"):
        build_student({"type": "mantis", "weights_path": str(tmp_path / "nowhere")})


@pytest.mark.skipif(
    importlib.util.find_spec("mantis") is not None, reason="mantis-tsfm is installed"
)
def test_mantis__missing_package_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"placeholder")
    with pytest.raises(ImportError, match="mantis-tsfm"):
        build_student({"type": "mantis", "weights_path": str(tmp_path)})

"""Test-wide setup: LSL machine-scoped config before pylsl, offscreen Qt, workers re-raise."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["COMODO_RAISE"] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest

import comodo_live  # noqa: F401  (sets LSLAPICFG before any test imports pylsl)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("COMODO_SHARED_DATA", ROOT.parent / "shared" / "data"))

requires_shared = pytest.mark.skipif(
    not (SHARED_DATA / "README.md").exists(),
    reason=f"real data in ../shared/data is absent (looked in {SHARED_DATA})",
)


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"real data in ../shared/data is absent (looked in {SHARED_DATA})")
    return SHARED_DATA


@pytest.fixture
def source_id() -> str:
    """A unique LSL source_id per test: streams of other programs/tests are never picked up."""
    return f"comodo-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """``small_volume(megabytes)``: a real tmpfs of that size mounted under ``tmp_path`` (skips
    without root or mount rights); unmounted (lazily) after the test."""
    mounted: list[Path] = []

    def mount(megabytes: int) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs to fill needs root")
        volume = tmp_path / f"volume{len(mounted)}"
        volume.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(volume)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
        mounted.append(volume)
        return volume

    yield mount
    for volume in mounted:
        subprocess.run(["umount", "-l", str(volume)], check=False)

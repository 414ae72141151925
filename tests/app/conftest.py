"""Fast engine settings and fixtures shared by the session, learning and app tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.engine_fixtures import *  # noqa: F403


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

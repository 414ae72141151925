"""`python -m comodo_live.runtime ... | head`: the reader closes the pipe, the runtime stops
quietly (no BrokenPipeError, exit 141 as a tool stopped by SIGPIPE)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from comodo_live.pipes import SIGPIPE_EXIT
from tests.conftest import ROOT
from tests.export.factory import activity_signal, write_csv


def test_runtime_pipe__closed_reader_stops_quietly(exported_package: Path, tmp_path: Path) -> None:
    signal = activity_signal("walk", 120.0, 100.0, seed=3)  # (12000, 6): ~240 prediction lines
    times = np.arange(len(signal)) / 100.0
    csv = write_csv(tmp_path / "walk.csv", times, signal, accel="g", gyro="deg_s")
    proc = subprocess.Popen(
        [sys.executable, "-m", "comodo_live.runtime", str(exported_package), "--csv", str(csv)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does after its line
    stderr = proc.stderr.read()
    code = proc.wait(timeout=60)
    assert first.startswith("t="), first
    assert "BrokenPipeError" not in stderr and "Traceback" not in stderr, stderr
    assert code == SIGPIPE_EXIT, (code, stderr)

"""comodo_live.blas: numpy's OpenBLAS runs one thread per process, set once at import (never
toggled per fit), and a value the user set is kept. Each case is a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

REPORT = (
    "import json, threadpoolctl\n"
    "info = threadpoolctl.threadpool_info()\n"
    "print(json.dumps([i['num_threads'] for i in info if i['internal_api'] == 'openblas']))\n"
)


def _openblas_threads(prelude: str, **env: str) -> list[int]:
    clean = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    result = subprocess.run(
        [sys.executable, "-c", prelude + REPORT],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**clean, **env},
        check=True,
    )
    threads = json.loads(result.stdout.strip().splitlines()[-1])
    assert threads, "no OpenBLAS found in the process: " + result.stdout
    return list(threads)


def test_import__numpy_blas_runs_one_thread() -> None:
    assert set(_openblas_threads("import comodo_live, numpy, scipy.linalg\n")) == {1}


def test_import__numpy_loaded_first_is_limited_once_at_import() -> None:
    threads = _openblas_threads("import numpy\nimport comodo_live\nimport scipy.linalg\n")
    assert set(threads) == {1}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 cores to tell 2 threads from 1")
def test_import__the_users_setting_is_kept() -> None:
    assert set(_openblas_threads("import comodo_live, numpy\n", OPENBLAS_NUM_THREADS="2")) == {2}


def test_fit_head__leaves_the_process_blas_setting_alone() -> None:
    """The classifier fit (worker threads, every refit) never changes the thread count: that is
    a process-wide OpenBLAS setting, unsafe to change while another thread runs BLAS."""
    fit = (
        "import comodo_live, numpy as np, threadpoolctl\n"
        "from comodo_live.head import fit_head\n"
        "calls = []\n"
        "threadpoolctl.threadpool_limits = lambda *a, **k: calls.append(a)\n"
        "e = np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)\n"
        "labels = ['a', 'b'] * 20\n"
        "assert fit_head(e, labels, ('a', 'b')) is not None and not calls, calls\n"
    )
    assert set(_openblas_threads(fit)) == {1}

"""The plain numpy + onnxruntime snippet in comodo_live/runtime/README.md runs and predicts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

README = ROOT / "comodo_live" / "runtime" / "README.md"


def test_readme_snippet__runs_on_an_exported_package(exported_package: Path) -> None:
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code is not None, "no python block in the runtime README"
    snippet = code.group(1).replace('package = "exported"', f"package = {str(exported_package)!r}")
    assert str(exported_package) in snippet
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            snippet + "\nimport sys; print(sorted(m for m in sys.modules if m == 'torch'))",
        ],
        cwd=exported_package.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    label, confidence = result.stdout.splitlines()[0].split()
    assert label == "still" and 0.5 < float(confidence) <= 1.0  # gravity only: the "still" activity
    assert result.stdout.splitlines()[1] == "[]"  # no torch needed

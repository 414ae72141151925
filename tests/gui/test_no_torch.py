"""The GUI layer never imports torch (it talks to the engine controller only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import pkgutil, importlib, sys
import gui
names = [m.name for m in pkgutil.walk_packages(gui.__path__, "gui.")]
for name in names:
    importlib.import_module(name)
from PyQt6.QtWidgets import QApplication
from gui.main_window import MainWindow  # building widgets must not pull torch in either
app = QApplication([])
loaded = "torch" in sys.modules
print("modules:", len(names), "torch:", loaded)
sys.exit(1 if loaded or len(names) < 10 else 0)
"""


def test_gui__never_imports_torch() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "torch: False" in result.stdout

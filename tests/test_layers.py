"""Architecture rules: the core library never imports Qt; importing it sets up LSL safely."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import ROOT


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_core__never_imports_qt() -> None:
    result = _run(
        """
        import importlib, pkgutil, sys
        import comodo_live
        for mod in pkgutil.walk_packages(comodo_live.__path__, "comodo_live."):
            if mod.name.endswith("__main__"):
                continue
            importlib.import_module(mod.name)
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PyQt6", "PyQt5", "PySide6", "pyqtgraph"))
        print("QT:", bad)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "QT: []" in result.stdout, result.stdout


def test_core__import_sets_machine_scoped_lsl_config() -> None:
    result = _run(
        """
        import os
        os.environ.pop("LSLAPICFG", None)
        import comodo_live, sys
        from comodo_live.lslconfig import MACHINE_CFG
        assert os.environ["LSLAPICFG"] == str(MACHINE_CFG), os.environ["LSLAPICFG"]
        assert "pylsl" not in sys.modules
        text = MACHINE_CFG.read_text()
        assert "ResolveScope = machine" in text and "ListenAddress = 127.0.0.1" in text
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout

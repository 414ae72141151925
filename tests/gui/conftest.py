"""GUI tests: offscreen Qt (set in tests/conftest.py); any Qt warning fails the test.

pytest-qt's own capture only checks the test call; this handler covers setup and teardown too
(window creation, closing, stopping the engine), so pytest-qt's capture is switched off here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

from comodo_live.session.snapshot import EngineSnapshot

# Messages that are limitations of Qt's offscreen platform plugin, not of our code:
# QPlatformWindow's default propagateSizeHints() warns whenever a window's min/max size changes.
IGNORED_QT_MESSAGES = (re.compile(r"^This plugin does not support propagateSizeHints\(\)$"),)
_FAILING = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
_GUI_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _GUI_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.gui)
            item.add_marker(pytest.mark.no_qt_log)


@pytest.fixture(autouse=True)
def fail_on_qt_warnings() -> Iterator[list[str]]:
    """Record Qt warnings/criticals during the whole test and fail it if there were any."""
    records: list[str] = []

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str | None) -> None:
        text = message or ""
        if mode in _FAILING and not any(p.search(text) for p in IGNORED_QT_MESSAGES):
            records.append(f"{mode.name}: {text}")

    previous = qInstallMessageHandler(handler)
    yield records
    qInstallMessageHandler(previous)
    if records:
        pytest.fail("Qt warnings during the test:\n" + "\n".join(records), pytrace=False)


def make_snapshot(**overrides: object) -> EngineSnapshot:
    """A contract :class:`EngineSnapshot` with plain defaults (panel tests feed these directly)."""
    fields: dict[str, object] = {
        "camera_on": True,
        "recording": False,
        "session_dir": "",
        "recording_bytes": 0,
        "streams": (),
        "train": None,
        "loss_history": np.zeros((0, 2)),
        "agreement_history": np.zeros((0, 2)),
        "teacher_clips_per_s": 0.0,
        "teacher_skipped": 0,
        "teacher_duty": 0.0,
        "prediction": None,
        "teacher_prediction": None,
        "recent_predictions": (),
        "activities": (),
    }
    fields.update(overrides)
    return EngineSnapshot(**fields)  # type: ignore[arg-type]

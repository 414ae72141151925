"""The Qt-warning guard itself: a warning raised through Qt's logging is recorded."""

from __future__ import annotations

from PyQt6.QtCore import qWarning


def test_fail_on_qt_warnings__records_a_qt_warning(fail_on_qt_warnings: list[str]) -> None:
    qWarning(b"deliberate test warning")
    assert fail_on_qt_warnings == ["QtWarningMsg: deliberate test warning"]
    fail_on_qt_warnings.clear()  # recorded as expected; do not fail this test at teardown

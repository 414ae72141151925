from __future__ import annotations

import pytest

from gui.log_pane import LogPane, new_errors


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        ((), ("a",), ("a",)),
        (("a",), ("a",), ()),
        (("a", "b"), ("a", "b", "c"), ("c",)),
        (("a", "b", "c"), ("b", "c", "d"), ("d",)),  # rolling window dropped "a"
        (("a", "b"), ("x", "y"), ("x", "y")),  # window moved past everything shown
        (("a",), (), ()),
    ],
)
def test_new_errors__only_unseen_entries(previous, current, expected) -> None:
    assert new_errors(previous, current) == expected


def test_log_pane__bounded(qtbot) -> None:
    pane = LogPane(max_lines=3)
    qtbot.addWidget(pane)
    for i in range(5):
        pane.log("error", f"message {i}")
    assert len(pane.lines) == 3 and pane.lines[-1].endswith("[error] message 4")
    assert pane.blockCount() == 3
    with pytest.raises(ValueError, match="max_lines"):
        LogPane(max_lines=0)

from __future__ import annotations

from PyQt6.QtCore import Qt

from gui.activities_panel import ActivitiesPanel


def test_activities_panel__add_and_toggle_labelling(qtbot) -> None:
    panel = ActivitiesPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.activity_added) as added:
        qtbot.keyClicks(panel.name_edit, " walking ")
        qtbot.keyClick(panel.name_edit, Qt.Key.Key_Return)
    assert added.args == ["walking"] and panel.name_edit.text() == ""
    panel.sync(("walking", "sitting"), None, {"walking": 3})
    assert set(panel.buttons) == {"walking", "sitting"}
    assert panel.buttons["walking"].text() == "walking  (3 windows)"
    with qtbot.waitSignal(panel.label_started) as started:
        qtbot.mouseClick(panel.buttons["sitting"], Qt.MouseButton.LeftButton)
    assert started.args == ["sitting"]
    panel.sync(("walking", "sitting"), "sitting", {})
    with qtbot.waitSignal(panel.label_stopped):
        qtbot.mouseClick(panel.buttons["sitting"], Qt.MouseButton.LeftButton)
    panel.sync(("walking", "sitting"), None, {})
    assert not panel.buttons["sitting"].isChecked()


def test_activities_panel__hold_mode_and_rename(qtbot, monkeypatch) -> None:
    panel = ActivitiesPanel()
    qtbot.addWidget(panel)
    panel.sync(("walking",), None, {})
    panel.hold_mode.setChecked(True)
    events: list[str] = []
    panel.label_started.connect(lambda name: events.append(f"start {name}"))
    panel.label_stopped.connect(lambda: events.append("stop"))
    qtbot.mousePress(panel.buttons["walking"], Qt.MouseButton.LeftButton)
    qtbot.mouseRelease(panel.buttons["walking"], Qt.MouseButton.LeftButton)
    assert events == ["start walking", "stop"]
    monkeypatch.setattr(
        "gui.activities_panel.QInputDialog.getText", lambda *a, **k: (" strolling ", True)
    )
    with qtbot.waitSignal(panel.activity_renamed) as renamed:
        panel.rename("walking")
    assert renamed.args == ["walking", "strolling"]


def test_activities_panel__personalise_button_and_progress(qtbot) -> None:
    panel = ActivitiesPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.personalise_requested):
        qtbot.mouseClick(panel.personalise_button, Qt.MouseButton.LeftButton)
    panel.show_personalise(0.42)
    assert panel.personalise_button.text() == "Personalising… 42%"
    assert not panel.personalise_button.isEnabled()
    panel.show_personalise(None, "personalised: 200 steps")
    assert panel.personalise_button.text() == "Personalise"
    assert panel.personalise_button.isEnabled()
    assert "Last: personalised: 200 steps" in panel.personalise_button.toolTip()

from __future__ import annotations

from PyQt6.QtCore import Qt

from gui.controls_panel import ControlsPanel, export_target
from tests.gui.conftest import make_snapshot


def test_controls_panel__camera_toggle_and_mirror(qtbot) -> None:
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.camera_toggled) as toggled:
        panel.toggle_camera()
    assert toggled.args == [False] and "privacy" in panel.camera_button.text()
    panel.sync(
        make_snapshot(
            camera_on=True, recording=True, session_dir="rec/s1", recording_bytes=2_500_000
        )
    )
    assert panel.camera_button.isChecked() and panel.record_button.isChecked()
    assert "rec/s1" in panel.session_label.text() and "2.5 MB" in panel.session_label.text()


def test_controls_panel__export_dialog_and_progress(qtbot, monkeypatch, tmp_path) -> None:
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    monkeypatch.setattr(
        "gui.controls_panel.QFileDialog.getExistingDirectory", lambda *a, **k: str(tmp_path)
    )
    with qtbot.waitSignal(panel.export_requested) as requested:
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert requested.args == [str(tmp_path)]
    panel.sync(make_snapshot(export_progress=0.4))
    assert not panel.export_bar.isHidden() and panel.export_bar.value() == 40
    assert not panel.export_button.isEnabled()
    panel.sync(make_snapshot(export_progress=None, export_result=str(tmp_path)))
    assert panel.export_bar.isHidden() and str(tmp_path) in panel.export_label.text()


def test_export_target__empty_folder_or_new_subfolder(tmp_path) -> None:
    assert export_target(tmp_path, "rec/20261121-s1") == tmp_path  # empty: used as is
    (tmp_path / "other").mkdir()
    first = export_target(tmp_path, "rec/20261121-s1")
    assert first == tmp_path / "comodo-model-20261121-s1"
    first.mkdir()
    assert export_target(tmp_path, "rec/20261121-s1") == tmp_path / "comodo-model-20261121-s1-2"

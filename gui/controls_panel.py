"""Session controls: camera privacy toggle, recording, model export and replay."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from comodo_live.session.snapshot import EngineSnapshot
from gui.palette import human_bytes

PRIVACY_SHORTCUTS = ("Ctrl+P", "F9")
_CAMERA_ON_STYLE = (
    "QPushButton { background: #2e9d4f; color: white; font-weight: bold; padding: 6px; }"
)
_CAMERA_OFF_STYLE = (
    "QPushButton { background: #2b2d42; color: white; font-weight: bold; padding: 6px; }"
)


def export_target(chosen: Path, session_dir: str) -> Path:
    """Where a model package goes when the user picks the folder ``chosen``.

    An empty folder is used as is; otherwise a new sub-folder named after the session
    (``comodo-model-<session>``, then ``-2``, ``-3``, …) so nothing existing is overwritten.
    """
    if chosen.is_dir() and not any(chosen.iterdir()):
        return chosen
    stem = f"comodo-model-{Path(session_dir).name or 'session'}"
    target, n = chosen / stem, 1
    while target.exists():
        n += 1
        target = chosen / f"{stem}-{n}"
    return target


class ControlsPanel(QGroupBox):
    """Buttons for the session; emits the user's commands, mirrors the engine state."""

    camera_toggled = pyqtSignal(bool)
    recording_toggled = pyqtSignal(bool)
    export_requested = pyqtSignal(str)
    replay_requested = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Controls", parent)
        keys = " / ".join(PRIVACY_SHORTCUTS)
        self.camera_button = QPushButton()
        self.camera_button.setCheckable(True)
        self.camera_button.setChecked(True)
        self.camera_button.setToolTip(f"Camera on/off (privacy mode) — {keys}")
        self.camera_button.toggled.connect(self._camera_clicked)
        self.record_button = QPushButton("● Start recording")
        self.record_button.setCheckable(True)
        self.record_button.toggled.connect(self.recording_toggled.emit)
        self.session_label = QLabel("session: –")
        self.session_label.setWordWrap(True)
        self.export_button = QPushButton("Export model…")
        self.export_button.clicked.connect(self.ask_export)
        self.replay_button = QPushButton("Open recording…")
        self.replay_button.clicked.connect(self.ask_replay)
        self.export_bar = QProgressBar()
        self.export_bar.setRange(0, 100)
        self.export_bar.setFormat("exporting… %p%")
        self.export_bar.hide()
        self.export_label = QLabel("")
        for label in (self.session_label, self.export_label):
            label.setTextFormat(Qt.TextFormat.PlainText)  # paths and messages, never markup
        self.export_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.replay_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.camera_button)
        layout.addLayout(buttons)
        layout.addWidget(self.session_label)
        layout.addWidget(self.export_bar)
        layout.addWidget(self.export_label)
        self._show_camera(True)
        self._session_dir = ""

    def _show_camera(self, on: bool) -> None:
        keys = " / ".join(PRIVACY_SHORTCUTS)
        if on:
            self.camera_button.setText(f"Camera ON — press for privacy mode ({keys})")
            self.camera_button.setStyleSheet(_CAMERA_ON_STYLE)
        else:
            self.camera_button.setText(f"Camera OFF (privacy) — press to turn on ({keys})")
            self.camera_button.setStyleSheet(_CAMERA_OFF_STYLE)

    def _camera_clicked(self, on: bool) -> None:
        self._show_camera(on)
        self.camera_toggled.emit(on)

    def toggle_camera(self) -> None:
        """Flip the camera (the privacy keyboard shortcut)."""
        self.camera_button.toggle()

    def sync(self, snap: EngineSnapshot) -> None:
        """Mirror the engine's camera, recording and export state."""
        if self.camera_button.isChecked() != snap.camera_on:
            self.camera_button.blockSignals(True)
            self.camera_button.setChecked(snap.camera_on)
            self.camera_button.blockSignals(False)
            self._show_camera(snap.camera_on)
        if self.record_button.isChecked() != snap.recording:
            self.record_button.blockSignals(True)
            self.record_button.setChecked(snap.recording)
            self.record_button.blockSignals(False)
        self.record_button.setText("■ Stop recording" if snap.recording else "● Start recording")
        self._session_dir = snap.session_dir
        state = "recording" if snap.recording else "not recording"
        text = f"session: {snap.session_dir or '–'}\n{state} · {human_bytes(snap.recording_bytes)}"
        if self.session_label.text() != text:
            self.session_label.setText(text)
        if snap.export_progress is None:
            self.export_bar.hide()
            self.export_button.setEnabled(True)
        else:
            self.export_bar.show()
            self.export_bar.setValue(round(100 * snap.export_progress))
            self.export_button.setEnabled(False)
        result = f"last export: {snap.export_result}" if snap.export_result else ""
        if self.export_label.text() != result:
            self.export_label.setText(result)

    def ask_export(self) -> None:
        """Ask for a folder and emit :attr:`export_requested` with the package path in it."""
        chosen = QFileDialog.getExistingDirectory(self, "Save the personalised model package in…")
        if chosen:
            self.export_requested.emit(str(export_target(Path(chosen), self._session_dir)))

    def ask_replay(self) -> None:
        """Ask for an XDF recording and emit :attr:`replay_requested`."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a recording to replay", str(Path("recordings").resolve()), "XDF (*.xdf)"
        )
        if path:
            self.replay_requested.emit(path)

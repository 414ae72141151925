"""Activities: add, rename, delete, label what you are doing now (toggle or press-and-hold), and
personalise (fine-tune the student on the labelled windows)."""

from __future__ import annotations

from PyQt6.QtCore import QPoint, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.palette import activity_color

HELP = (
    "Click an activity to start labelling what you are doing now, click again to stop "
    "(or tick 'hold to label' and keep the button pressed). Right-click to rename or delete."
)
PERSONALISE_HELP = (
    "Fine-tune the IMU model on your labelled windows (needs at least two labelled "
    "activities); prediction and export then use the personalised model."
)


class ActivitiesPanel(QGroupBox):
    """Activity buttons mirroring the engine's activities; emits the user's label commands."""

    activity_added = pyqtSignal(str)
    activity_renamed = pyqtSignal(str, str)
    activity_deleted = pyqtSignal(str)
    label_started = pyqtSignal(str)
    label_stopped = pyqtSignal()
    personalise_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Activities", parent)
        self.setToolTip(HELP)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("new activity, e.g. walking")
        self.name_edit.returnPressed.connect(self._add)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self._add)
        self.hold_mode = QCheckBox("hold to label")
        self.personalise_button = QPushButton("Personalise")
        self.personalise_button.setToolTip(PERSONALISE_HELP)
        self.personalise_button.clicked.connect(self.personalise_requested)
        row = QHBoxLayout()
        row.addWidget(self.name_edit, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.hold_mode)
        row.addWidget(self.personalise_button)
        self._grid = QGridLayout()
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(self._grid)
        self.buttons: dict[str, QPushButton] = {}
        self._activities: tuple[str, ...] = ()

    def sync(
        self, activities: tuple[str, ...], labelling: str | None, counts: dict[str, int]
    ) -> None:
        """Mirror the engine: one button per activity, checked while it is being labelled."""
        if activities != self._activities:
            self._rebuild(activities)
        for name, button in self.buttons.items():
            text = f"{name}  ({counts.get(name, 0)} windows)"
            if button.text() != text:
                button.setText(text)
            if button.isChecked() != (labelling == name) and not button.isDown():
                button.blockSignals(True)
                button.setChecked(labelling == name)
                button.blockSignals(False)

    def show_personalise(self, progress: float | None, result: str | None = None) -> None:
        """Mirror the engine's fine-tune: disabled with its progress while it runs."""
        text = "Personalise" if progress is None else f"Personalising… {progress:.0%}"
        if self.personalise_button.text() != text:
            self.personalise_button.setText(text)
        self.personalise_button.setEnabled(progress is None)
        tip = PERSONALISE_HELP if not result else f"{PERSONALISE_HELP}\nLast: {result}"
        if self.personalise_button.toolTip() != tip:
            self.personalise_button.setToolTip(tip)

    def _rebuild(self, activities: tuple[str, ...]) -> None:
        for button in self.buttons.values():
            self._grid.removeWidget(button)
            button.deleteLater()
        self.buttons = {}
        self._activities = activities
        for i, name in enumerate(activities):
            button = QPushButton(name)
            button.setCheckable(True)
            button.setObjectName(f"activity:{name}")
            color = activity_color(name, activities).name()
            button.setStyleSheet(
                f"QPushButton {{ border-left: 8px solid {color}; padding: 6px; text-align: left; }}"
                f"QPushButton:checked {{ background: {color}; color: white; font-weight: bold; }}"
            )
            button.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            button.customContextMenuRequested.connect(
                lambda pos, n=name, b=button: self._menu(n, b.mapToGlobal(pos))
            )
            button.toggled.connect(lambda on, n=name: self._toggled(n, on))
            button.pressed.connect(lambda n=name: self._pressed(n))
            button.released.connect(lambda n=name: self._released(n))
            self._grid.addWidget(button, i // 2, i % 2)
            self.buttons[name] = button

    def _add(self) -> None:
        name = self.name_edit.text().strip()
        if name:
            self.activity_added.emit(name)
            self.name_edit.clear()

    def _toggled(self, name: str, on: bool) -> None:
        if self.hold_mode.isChecked():
            return
        if on:
            self.label_started.emit(name)
        else:
            self.label_stopped.emit()

    def _pressed(self, name: str) -> None:
        if self.hold_mode.isChecked():
            self.label_started.emit(name)

    def _released(self, name: str) -> None:
        if self.hold_mode.isChecked():
            self.label_stopped.emit()

    def _menu(self, name: str, at: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.rename(name))
        menu.addAction("Delete", lambda: self.activity_deleted.emit(name))
        menu.exec(at)

    def rename(self, name: str) -> None:
        """Ask for a new name of ``name`` and emit :attr:`activity_renamed`."""
        new, ok = QInputDialog.getText(
            self, "Rename activity", f"New name for {name!r}:", text=name
        )
        new = new.strip()
        if ok and new and new != name:
            self.activity_renamed.emit(name, new)

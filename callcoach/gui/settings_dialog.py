"""Settings: the devices (`device_settings`), the model, the pace band, the prompt budget,
privacy, the agent's name, the start/stop shortcut and the window. Values are checked by
the settings registry (`callcoach.settings.validate`) plus the rules that span fields;
errors show inline next to the field. Keys locked by the machine policy are shown
disabled, with a note.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QKeySequenceEdit, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from callcoach.gui import theme
from callcoach.gui.device_settings import DeviceSettings
from callcoach.gui.settings_field import Field
from callcoach.settings import OPTIONS, Key, Settings, SettingsError, validate


class SettingsDialog(QDialog):
    saved = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("CallCoach settings")
        self.setObjectName("SettingsDialog")
        self.setStyleSheet(theme.DIALOG_STYLE)
        self.settings = settings
        self.devices = DeviceSettings(settings)
        self.fields: dict[Key, Field] = dict(self.devices.fields)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.devices)
        layout.addWidget(self._model_group())
        layout.addWidget(self._coaching_group())
        layout.addWidget(self._privacy_group())
        buttons = QHBoxLayout()
        self.status = QLabel()
        self.status.setObjectName("SaveStatus")
        self.status.setProperty("role", "error")
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self._load_values()
        self.devices.loaded()
        self.finished.connect(self.devices.stop_test)

    # -- building ------------------------------------------------------------------------

    def _add(self, form: QFormLayout, label: str, field: Field) -> None:
        self.fields[field.key] = field
        form.addRow(label, field.row)

    def _add_text(self, form: QFormLayout, label: str, key: Key, empty_means: str) -> None:
        """A text setting, saved without the spaces around it; `empty_means` is shown while
        it is empty."""
        edit = QLineEdit()
        edit.setObjectName(key)
        edit.setPlaceholderText(empty_means)
        self._add(form, label, Field(key, edit, lambda: edit.text().strip(), edit.setText))

    def _model_group(self) -> QGroupBox:
        box = QGroupBox("Speech model")
        form = QFormLayout(box)
        model = QComboBox()
        model.setEditable(True)
        model.setObjectName("model")
        model.addItem("tiny.en")
        self._add(form, "Model", Field(Key.MODEL, model, lambda: model.currentText().strip(),
                                       model.setCurrentText))
        compute = QComboBox()
        compute.setObjectName("compute_device")
        compute.addItems(["cpu", "cuda"])
        self._add(form, "Runs on", Field(Key.COMPUTE_DEVICE, compute, compute.currentText,
                                         compute.setCurrentText))
        return box

    def _coaching_group(self) -> QGroupBox:
        box = QGroupBox("Coaching")
        form = QFormLayout(box)
        for key, label in ((Key.PACE_LOW, "Pace band from"), (Key.PACE_HIGH, "Pace band to")):
            spin = QDoubleSpinBox()
            spin.setObjectName(key)
            spin.setRange(0, 1000)  # the registry says what is valid, inline
            spin.setDecimals(0)
            spin.setSuffix(" wpm")
            self._add(form, label, Field(key, spin, spin.value, spin.setValue))
        budget = QSpinBox()
        budget.setObjectName("prompt_budget")
        budget.setRange(0, 1000)
        budget.setSuffix(" prompts per call")
        self._add(form, "Prompt budget", Field(Key.PROMPT_BUDGET, budget, budget.value, budget.setValue))
        return box

    def _privacy_group(self) -> QGroupBox:
        box = QGroupBox("Privacy and window")
        form = QFormLayout(box)
        for key, text in ((Key.REDACT, "Redact card numbers and personal data before saving"),
                          (Key.SHOW_TRANSCRIPT, "Show the live transcript")):
            check = QCheckBox(text)
            check.setObjectName(key)
            self._add(form, "", Field(key, check, check.isChecked, check.setChecked))
        self._add_text(form, "Sessions kept in", Key.SESSION_FOLDER, "the per-user data folder")
        self._add_text(form, "Your name for QA", Key.AGENT_NAME, "your login name")
        key = QKeySequenceEdit()
        key.setObjectName("hotkey")
        key.setMaximumSequenceLength(1)
        self._add(form, "Start/stop shortcut", Field(
            Key.HOTKEY, key, lambda: key.keySequence().toString(QKeySequence.SequenceFormat.PortableText),
            lambda v: key.setKeySequence(QKeySequence(v))))
        opacity = QDoubleSpinBox()
        opacity.setObjectName("opacity")
        opacity.setRange(0, 1)
        opacity.setSingleStep(0.05)
        opacity.setDecimals(2)
        self._add(form, "Opacity", Field(Key.OPACITY, opacity, opacity.value, opacity.setValue))
        return box

    def _load_values(self) -> None:
        for key, field in self.fields.items():
            field.write(self.settings.get(key))
            field.lock(self.settings.locked(key), self.settings.policy_path)

    # -- validation and saving -----------------------------------------------------------

    def errors(self) -> dict[Key, str]:
        """{key: message} for every field whose value cannot be saved."""
        values, errors = {}, {}
        for key, field in self.fields.items():
            if self.settings.locked(key):
                continue
            try:
                values[key] = validate(key, field.read())
            except SettingsError as exc:
                errors[key] = _explain(key, exc)
        if Key.PACE_LOW in values and Key.PACE_HIGH in values and values[Key.PACE_LOW] >= values[Key.PACE_HIGH]:
            errors[Key.PACE_HIGH] = "The end of the pace band must be above its start."
        errors.update(self.devices.errors())
        if Key.MODEL in values and Key.MODEL not in errors:
            from callcoach.engine.transcriber import resolve_model
            from callcoach.errors import CallCoachError

            try:
                resolve_model(values[Key.MODEL])
            except CallCoachError as exc:
                errors[Key.MODEL] = str(exc)
        return errors

    def save(self) -> bool:
        errors = self.errors()
        for key, field in self.fields.items():
            field.show_error(errors.get(key, ""))
        if errors:
            self.status.setText(f"{len(errors)} setting{'s' if len(errors) > 1 else ''} to fix")
            return False
        for key, field in self.fields.items():
            if not self.settings.locked(key) and field.read() != self.settings.get(key):
                self.settings.set(key, field.read())
        try:
            self.settings.save()
        except OSError as exc:
            self.status.setText(f"Could not save settings: {exc}")
            return False
        self.status.setText("")
        self.saved.emit()
        self.accept()
        return True


def _explain(key: Key, exc: SettingsError) -> str:
    option = OPTIONS[key]
    if option.hint:
        return f"Must be {option.hint}."
    return str(exc)

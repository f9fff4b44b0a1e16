"""Settings: the two devices by name (each with a test meter), the model, the pace band,
the prompt budget, privacy, the agent's name, the start/stop shortcut and the window. Values are checked by the settings registry
(`callcoach.settings.validate`) plus the rules that span fields; errors show inline next to
the field. Keys locked by the machine policy are shown disabled, with a note.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QKeySequenceEdit, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from callcoach.gui import theme
from callcoach.gui.bridge import Background, LevelProbe
from callcoach.gui.meters import LevelMeter
from callcoach.settings import OPTIONS, Settings, SettingsError, validate

DEVICE_KEYS = {"agent_device": "agent", "call_device": "customer"}


def _list_devices(refresh: bool) -> list[str]:
    from callcoach.audio import live

    if refresh:
        live.refresh_devices()
    return live.list_input_devices()


class _Field:
    """One setting's editor, its error line and how to read/write its value."""

    def __init__(self, key: str, editor: QWidget, read: Callable[[], Any], write: Callable[[Any], None],
                 extra: QWidget | None = None):
        self.key, self.editor, self.read, self.write = key, editor, read, write
        self.error = QLabel()
        self.error.setObjectName(f"error_{key}")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.row = QWidget()
        column = QVBoxLayout(self.row)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(editor, 1)
        if extra is not None:
            line.addWidget(extra)
        column.addLayout(line)
        self.locked_note = QLabel("locked by policy")
        self.locked_note.setObjectName(f"locked_{key}")
        self.locked_note.setProperty("role", "locked")
        self.locked_note.hide()
        column.addWidget(self.locked_note)
        column.addWidget(self.error)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))


class SettingsDialog(QDialog):
    saved = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None, refresh_devices: bool = False):
        super().__init__(parent)
        self.setWindowTitle("CallCoach settings")
        self.setObjectName("SettingsDialog")
        self.setStyleSheet(theme.DIALOG_STYLE)
        self.settings = settings
        self.fields: dict[str, _Field] = {}
        self.probes: dict[str, LevelProbe] = {}
        self.meters: dict[str, LevelMeter] = {}
        self.test_buttons: dict[str, QPushButton] = {}
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self._devices_group())
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
        self.finished.connect(self._stop_probes)
        self._lister = Background(lambda: _list_devices(refresh_devices), "callcoach-list-devices")
        self._lister.done.connect(self._devices_listed)
        self._lister.failed.connect(self._devices_failed)
        self._lister.start()

    # -- building ------------------------------------------------------------------------

    def _add(self, form: QFormLayout, label: str, field: _Field) -> None:
        self.fields[field.key] = field
        form.addRow(label, field.row)

    def _devices_group(self) -> QGroupBox:
        box = QGroupBox("Devices")
        form = QFormLayout(box)
        self.device_status = QLabel("Looking for input devices…")
        self.device_status.setObjectName("DeviceStatus")
        self.device_status.setProperty("role", "secondary")
        self.device_status.setWordWrap(True)
        form.addRow(self.device_status)
        for key, label in (("agent_device", "Your headset"), ("call_device", "Call audio")):
            combo = QComboBox()
            combo.setEditable(True)
            combo.setObjectName(key)
            combo.setMinimumWidth(220)
            combo.lineEdit().setPlaceholderText("input device name")
            test = QPushButton("Test")
            test.setObjectName(f"test_{key}")
            test.setCheckable(True)
            test.toggled.connect(lambda on, k=key: self._test(k, on))
            meter = LevelMeter()
            meter.setFixedWidth(70)
            self.meters[key], self.test_buttons[key] = meter, test
            extra = QWidget()
            row = QHBoxLayout(extra)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(test)
            row.addWidget(meter)
            self._add(form, label, _Field(key, combo, lambda c=combo: c.currentText().strip(),
                                          lambda v, c=combo: c.setCurrentText(v), extra))
        return box

    def _model_group(self) -> QGroupBox:
        box = QGroupBox("Speech model")
        form = QFormLayout(box)
        model = QComboBox()
        model.setEditable(True)
        model.setObjectName("model")
        model.addItem("tiny.en")
        self._add(form, "Model", _Field("model", model, lambda: model.currentText().strip(),
                                        model.setCurrentText))
        compute = QComboBox()
        compute.setObjectName("compute_device")
        compute.addItems(["cpu", "cuda"])
        self._add(form, "Runs on", _Field("compute_device", compute, compute.currentText,
                                          compute.setCurrentText))
        return box

    def _coaching_group(self) -> QGroupBox:
        box = QGroupBox("Coaching")
        form = QFormLayout(box)
        for key, label in (("pace_low", "Pace band from"), ("pace_high", "Pace band to")):
            spin = QDoubleSpinBox()
            spin.setObjectName(key)
            spin.setRange(0, 1000)  # the registry says what is valid, inline
            spin.setDecimals(0)
            spin.setSuffix(" wpm")
            self._add(form, label, _Field(key, spin, spin.value, spin.setValue))
        budget = QSpinBox()
        budget.setObjectName("prompt_budget")
        budget.setRange(0, 1000)
        budget.setSuffix(" prompts per call")
        self._add(form, "Prompt budget", _Field("prompt_budget", budget, budget.value, budget.setValue))
        return box

    def _privacy_group(self) -> QGroupBox:
        box = QGroupBox("Privacy and window")
        form = QFormLayout(box)
        for key, text in (("redact", "Redact card numbers and personal data before saving"),
                          ("show_transcript", "Show the live transcript")):
            check = QCheckBox(text)
            check.setObjectName(key)
            self._add(form, "", _Field(key, check, check.isChecked, check.setChecked))
        folder = QLineEdit()
        folder.setObjectName("session_folder")
        folder.setPlaceholderText("the per-user data folder")
        self._add(form, "Sessions kept in", _Field("session_folder", folder, lambda: folder.text().strip(),
                                                   folder.setText))
        name = QLineEdit()
        name.setObjectName("agent_name")
        name.setPlaceholderText("your login name")
        self._add(form, "Your name for QA", _Field("agent_name", name, lambda: name.text().strip(), name.setText))
        key = QKeySequenceEdit()
        key.setObjectName("hotkey")
        key.setMaximumSequenceLength(1)
        self._add(form, "Start/stop shortcut", _Field(
            "hotkey", key, lambda: key.keySequence().toString(QKeySequence.SequenceFormat.PortableText),
            lambda v: key.setKeySequence(QKeySequence(v))))
        opacity = QDoubleSpinBox()
        opacity.setObjectName("opacity")
        opacity.setRange(0, 1)
        opacity.setSingleStep(0.05)
        opacity.setDecimals(2)
        self._add(form, "Opacity", _Field("opacity", opacity, opacity.value, opacity.setValue))
        return box

    def _load_values(self) -> None:
        for key, field in self.fields.items():
            field.write(self.settings.get(key))
            locked = self.settings.locked(key)
            field.editor.setEnabled(not locked)
            field.locked_note.setVisible(locked)
            if locked:
                field.locked_note.setText(f"locked by policy ({self.settings.policy_path})")

    # -- devices -------------------------------------------------------------------------

    def _devices_listed(self, names: list[str]) -> None:
        for key in DEVICE_KEYS:
            combo = self.fields[key].editor
            current = combo.currentText()
            combo.clear()
            combo.addItems(names)
            combo.setCurrentText(current)
        self.device_status.setText(f"{len(names)} input devices found." if names else
                                   "No input devices found. Plug in your headset, then reopen Settings.")

    def _devices_failed(self, message: str) -> None:
        self.device_status.setText(f"Cannot list devices: {message}")
        self.device_status.setProperty("role", "error")
        self.device_status.style().polish(self.device_status)

    def _test(self, key: str, on: bool) -> None:
        probe = self.probes.pop(key, None)
        if probe is not None:
            probe.stop()
        self.meters[key].clear()
        if not on:
            return
        name = self.fields[key].read()
        if not name:
            self.fields[key].show_error("Pick a device first.")
            self.test_buttons[key].setChecked(False)
            return
        self.fields[key].show_error("")
        probe = LevelProbe({DEVICE_KEYS[key]: name}, name=f"callcoach-test-{key}")
        probe.bridge.connect_to(lambda e, m=self.meters[key]: m.set_level(e.rms_db))
        probe.failed.connect(lambda msg, k=key: self._test_failed(k, msg))
        self.probes[key] = probe
        probe.start()

    def _test_failed(self, key: str, message: str) -> None:
        self.fields[key].show_error(message)
        self.test_buttons[key].setChecked(False)

    def _stop_probes(self) -> None:
        for probe in self.probes.values():
            probe.stop()
        self.probes.clear()

    # -- validation and saving -----------------------------------------------------------

    def errors(self) -> dict[str, str]:
        """{key: message} for every field whose value cannot be saved."""
        values, errors = {}, {}
        for key, field in self.fields.items():
            if self.settings.locked(key):
                continue
            try:
                values[key] = validate(key, field.read())
            except SettingsError as exc:
                errors[key] = _explain(key, exc)
        if "pace_low" in values and "pace_high" in values and values["pace_low"] >= values["pace_high"]:
            errors["pace_high"] = "The end of the pace band must be above its start."
        if "model" in values and "model" not in errors:
            from callcoach.engine.transcriber import resolve_model
            from callcoach.errors import CallCoachError

            try:
                resolve_model(values["model"])
            except CallCoachError as exc:
                errors["model"] = str(exc)
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


def _explain(key: str, exc: SettingsError) -> str:
    option = OPTIONS[key]
    if option.hint:
        return f"Must be {option.hint}."
    return str(exc)

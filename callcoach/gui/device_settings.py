"""The settings dialog's devices, for a person: the headset microphone, and the call audio
as what the agent hears on an output, or (advanced) an input that carries the call.

Each list starts with the system's default, named as it is now; it is saved as "" and
followed when the agent switches headsets. Picking a microphone picks the output on the
same headset until the agent picks an output themselves. *Test* shows both meters the
way a call would hear them, and plays a tone on the chosen output: the call-audio meter
should move and the microphone's should not (unless the sound comes out of speakers).

Listing devices, opening them and playing the tone wait on the sound server, so they
run in the background (`Background`, `LevelProbe`); slots here only update widgets.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QWidget)

from callcoach.audio.devices import CallAudio, CapturePlan, DeviceKind, DeviceList
from callcoach.engine.events import Level
from callcoach.gui.bridge import Background, LevelProbe
from callcoach.gui.meters import LevelMeter
from callcoach.gui.settings_field import Field
from callcoach.gui.sound import Picked, list_devices, play_tone
from callcoach.settings import Key, Settings

OUTPUT_LABEL = "Call audio: what you hear in"
INPUT_LABEL = "Call audio: the input that carries it"
TONE = "Play a test tone"


class DeviceCombo(QComboBox):
    """Devices of one kind by name. The value is a device's name, or "" for the first entry:
    the system's default (named as it is now), or no choice yet."""

    def __init__(self, key: str, kind: DeviceKind, first: str, names_default: bool = True):
        super().__init__()
        self.setObjectName(key)
        self.setMinimumWidth(260)
        self.kind = kind
        self.first = first
        self.names_default = names_default
        self.set_devices(None)

    def value(self) -> str:
        return self.currentData() or ""

    def set_value(self, name: str) -> None:
        index = self.findData(name)
        if index < 0:  # chosen before and not plugged in now: kept, and said so
            self.addItem(f"{name} (not connected)", name)
            index = self.count() - 1
        self.setCurrentIndex(index)

    def set_devices(self, devices: DeviceList | None) -> None:
        """Fill from a listing (None: not listed yet), keeping the value."""
        value = self.value() if self.count() else ""
        self.blockSignals(True)
        self.clear()
        now = devices.default(self.kind) if devices and self.names_default else None
        self.addItem(f"{self.first} (now: {now.name})" if now else self.first, "")
        for device in devices.of(self.kind) if devices else ():
            self.addItem(device.name, device.name)
        self.set_value(value)
        self.blockSignals(False)


class DeviceSettings(QGroupBox):
    """The "Devices" group: its `fields` join the dialog's (checked, locked and saved there)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__("Devices", parent)
        self.settings = settings
        self.devices: DeviceList | None = None
        self.picked: Picked | None = None  # what the running test opened
        self.probe: LevelProbe | None = None
        self._tone: Background | None = None
        self._output_chosen = bool(settings.get(Key.CALL_OUTPUT))  # by the agent: not preselected
        self._build()
        self._lister = Background(list_devices, "callcoach-list-devices")
        self._lister.done.connect(self._listed)
        self._lister.failed.connect(self._listing_failed)
        self._lister.start()

    def _build(self) -> None:
        self.form = form = QFormLayout(self)
        self.status = QLabel("Looking for devices…")
        self.status.setObjectName("DeviceStatus")
        self.status.setProperty("role", "secondary")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        self.mic = DeviceCombo("agent_device", DeviceKind.INPUT, "Default microphone")
        self.output = DeviceCombo("call_output", DeviceKind.OUTPUT, "Default output")
        self.call_input = DeviceCombo("call_device", DeviceKind.INPUT, "Choose the input", names_default=False)
        self.mode = QCheckBox("Advanced: an input carries the call")
        self.mode.setObjectName("call_audio")
        self.mode.setToolTip("A desk-phone tap or a virtual cable brings the customer in as an input")
        self.fields = {f.key: f for f in (
            Field(Key.AGENT_DEVICE, self.mic, self.mic.value, self.mic.set_value),
            Field(Key.CALL_OUTPUT, self.output, self.output.value, self.output.set_value),
            Field(Key.CALL_DEVICE, self.call_input, self.call_input.value, self.call_input.set_value),
            Field(Key.CALL_AUDIO, self.mode, lambda: "input" if self.mode.isChecked() else "output",
                  lambda v: self.mode.setChecked(v == CallAudio.INPUT.value)),
        )}
        form.addRow("Your headset (microphone)", self.fields[Key.AGENT_DEVICE].row)
        form.addRow(OUTPUT_LABEL, self.fields[Key.CALL_OUTPUT].row)
        form.addRow(INPUT_LABEL, self.fields[Key.CALL_DEVICE].row)
        form.addRow("", self.fields[Key.CALL_AUDIO].row)
        form.addRow("", self._test_row())
        self.mic.activated.connect(self._mic_picked)
        self.output.activated.connect(self._output_picked)
        for combo in (self.mic, self.output, self.call_input):
            combo.currentIndexChanged.connect(self._restart_test)
        self.mode.toggled.connect(self._mode_changed)

    def _test_row(self) -> QWidget:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        self.test_button = QPushButton("Test")
        self.test_button.setObjectName("test_devices")
        self.test_button.setCheckable(True)
        self.test_button.toggled.connect(self._test)
        self.meters = {"agent": LevelMeter(), "customer": LevelMeter()}
        self.tone_button = QPushButton(TONE)
        self.tone_button.setObjectName("test_tone")
        self.tone_button.setEnabled(False)
        self.tone_button.clicked.connect(self._play_tone)
        line.addWidget(self.test_button)
        for role, label in (("agent", "Mic"), ("customer", "Call")):
            caption = QLabel(label)
            caption.setProperty("role", "secondary")
            line.addWidget(caption)
            line.addWidget(self.meters[role], 1)
        line.addWidget(self.tone_button)
        self.test_error = QLabel()
        self.test_error.setObjectName("error_test")
        self.test_error.setProperty("role", "error")
        self.test_error.setWordWrap(True)
        self.test_error.hide()
        box = QWidget()
        column = QFormLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.addRow(row)
        column.addRow(self.test_error)
        return box

    def loaded(self) -> None:
        """After the dialog wrote the settings into the fields: the mode as calls use it."""
        plan = CapturePlan.from_settings(self.settings)
        self.mode.setChecked(plan.call is CallAudio.INPUT)
        # An older policy that locks the call's input (no call_audio then) locks the mode too.
        if self.settings.source(Key.CALL_AUDIO) == "default" and self.settings.locked(Key.CALL_DEVICE):
            self.fields[Key.CALL_AUDIO].lock(True, self.settings.policy_path)
        self._mode_changed(self.mode.isChecked())

    def plan(self) -> CapturePlan:
        """What the dialog's choices would capture."""
        mode = CallAudio.INPUT if self.mode.isChecked() else CallAudio.OUTPUT
        call = self.call_input.value() if mode is CallAudio.INPUT else self.output.value()
        return CapturePlan(self.mic.value() or None, mode, call or None)

    def errors(self) -> dict[Key, str]:
        """{key: message} for the rules across the device fields."""
        if self.mode.isChecked() and not self.call_input.value():
            return {Key.CALL_DEVICE: "Choose the input that carries the call."}
        return {}

    # -- listing -------------------------------------------------------------------------

    def _listed(self, devices: DeviceList) -> None:
        self.devices = devices
        for combo in (self.mic, self.output, self.call_input):
            combo.set_devices(devices)
        mics, outputs = len(devices.inputs), len(devices.outputs)
        if not mics:
            self.status.setText(f"{devices.backend}: no microphone found. Plug in your headset, "
                                "then reopen Settings.")
            return
        found = f"{devices.backend}: {mics} microphone{'s' * (mics != 1)}, {outputs} output{'s' * (outputs != 1)}."
        why = devices.why_no_outputs
        self.status.setText(f"{found} {why[:1].upper()}{why[1:]}." if why else found)

    def _listing_failed(self, message: str) -> None:
        self.status.setText(f"Cannot list devices: {message}")
        self.status.setProperty("role", "error")
        self.status.style().polish(self.status)

    # -- choosing ------------------------------------------------------------------------

    def _mic_picked(self) -> None:
        """The output follows the microphone's headset until the agent picks one."""
        if self._output_chosen or self.devices is None or not self.output.isEnabled():
            return
        name = self.mic.value()  # the default microphone keeps the default output
        mic = next((d for d in self.devices.inputs if d.name == name), None) if name else None
        same_card = self.devices.matching_output(mic) if mic else None
        self.output.set_value(same_card.name if same_card else "")

    def _output_picked(self) -> None:
        self._output_chosen = True

    def _mode_changed(self, input_mode: bool) -> None:
        self.form.setRowVisible(self.fields[Key.CALL_OUTPUT].row, not input_mode)
        self.form.setRowVisible(self.fields[Key.CALL_DEVICE].row, input_mode)
        self._restart_test()

    # -- testing -------------------------------------------------------------------------

    def _test(self, on: bool) -> None:
        self.stop_test()
        self.test_button.setText("Stop" if on else "Test")
        if on:
            self._show_test_error("")
            self.probe = LevelProbe(self.plan(), name="callcoach-test-devices")
            self.probe.bridge.connect_to(self._tested)
            self.probe.failed.connect(self._test_failed)
            self.probe.start()

    def _restart_test(self) -> None:
        if self.test_button.isChecked():
            self._test(True)

    def _tested(self, event: object) -> None:
        handler = self._TEST_EVENTS.get(type(event))
        if handler:
            handler(self, event)

    def _test_level(self, event: Level) -> None:
        self.meters[event.role].set_level(event.rms_db)

    def _test_picked(self, event: Picked) -> None:
        self.picked = event
        self.tone_button.setEnabled(event.plan.call is CallAudio.OUTPUT)

    _TEST_EVENTS = {Level: _test_level, Picked: _test_picked}

    def _test_failed(self, message: str) -> None:
        self._show_test_error(message)
        self.test_button.setChecked(False)

    def _play_tone(self) -> None:
        if self.picked is None:
            return
        output = self.picked.call
        self.tone_button.setEnabled(False)
        self.tone_button.setText("Playing…")
        self._tone = Background(lambda: play_tone(output), "callcoach-test-tone")
        self._tone.failed.connect(self._show_test_error)
        self._tone.finished.connect(self._tone_played)
        self._tone.start()

    def _tone_played(self) -> None:
        self.tone_button.setText(TONE)
        self.tone_button.setEnabled(self.picked is not None and self.picked.plan.call is CallAudio.OUTPUT)

    def _show_test_error(self, message: str) -> None:
        self.test_error.setText(message[:1].upper() + message[1:])
        self.test_error.setVisible(bool(message))

    def stop_test(self) -> None:
        """Stop the meters (at once; the probe's thread ends by itself)."""
        if self.probe is not None:
            self.probe.stop()
            self.probe = None
        self.picked = None
        self.tone_button.setEnabled(False)
        for meter in self.meters.values():
            meter.clear()

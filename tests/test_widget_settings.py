"""The settings dialog: devices listed by a real private sound server (tests/sound_servers.py),
chosen by name and tested, inline validation, locked keys, persistence."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from callcoach.errors import CallCoachError
from callcoach.gui.device_settings import TONE
from callcoach.gui.settings_dialog import SettingsDialog
from callcoach.settings import Key, Settings
from tests.widget_helpers import items, no_leftover_threads, pick  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("no_leftover_threads")


NO_SERVER = "unix:/nonexistent/pulse/native"  # no sound server answers: the PortAudio fallback


def listed(d: SettingsDialog) -> bool:
    """The device listing has come back (or failed)."""
    return d.devices.devices is not None or "Cannot" in d.devices.status.text()


@pytest.fixture
def dialog(qtbot):
    def make():
        d = SettingsDialog(Settings())
        qtbot.addWidget(d)
        d.show()
        qtbot.waitUntil(lambda: listed(d), timeout=10_000)
        return d

    return make


def test_the_devices_listed_are_real_inputs_and_outputs_and_the_choice_is_saved(sound_server, dialog):
    d = dialog()
    mics, outputs = items(d.devices.mic), items(d.devices.output)
    assert mics == ["Default microphone (now: Test Microphone)", "Test Microphone"], "never a monitor"
    assert not any("monitor" in name.lower() for name in mics + items(d.devices.call_input))
    assert outputs[0] == "Default output (now: Test Headset)" and "Test Headset" in outputs
    assert d.devices.status.text().startswith(("PulseAudio", "PipeWire"))
    assert not d.devices.form.isRowVisible(d.fields["call_device"].row), "the input row is advanced"
    pick(d.devices.mic, "Test Microphone")
    pick(d.devices.output, "Test Headset")
    d.fields["prompt_budget"].editor.setValue(6)
    assert d.save()
    again = Settings()
    assert (again.get(Key.AGENT_DEVICE), again.get(Key.CALL_OUTPUT)) == ("Test Microphone", "Test Headset")
    assert again.source(Key.CALL_AUDIO) == "default" and again.get(Key.PROMPT_BUDGET) == 6
    assert again.source(Key.PACE_LOW) == "default", "unchanged values are not written"


def test_nothing_chosen_saves_the_defaults_that_follow_the_system(sound_server, dialog):
    d = dialog()
    assert d.devices.mic.currentIndex() == 0 and d.devices.output.currentIndex() == 0
    d.fields["opacity"].editor.setValue(0.9)
    assert d.save()
    assert Settings().source(Key.AGENT_DEVICE) == "default" and Settings().source(Key.CALL_OUTPUT) == "default"


def test_advanced_an_input_carries_the_call(pulse_server, dialog, qtbot):
    pulse_server.add_microphone("desk_phone", "Desk Phone Tap", feed="desk_feed")
    d = dialog()
    devices = d.devices
    assert items(devices.call_input) == ["Choose the input", "Test Microphone", "Desk Phone Tap"]
    devices.mode.click()
    assert devices.mode.isChecked()
    assert devices.form.isRowVisible(d.fields["call_device"].row)
    assert not devices.form.isRowVisible(d.fields["call_output"].row)
    assert not d.save(), "an input must be chosen"
    assert d.fields["call_device"].error.text() == "Choose the input that carries the call."
    pick(devices.call_input, "Desk Phone Tap")
    assert d.save()
    again = Settings()
    assert (again.get(Key.CALL_AUDIO), again.get(Key.CALL_DEVICE)) == ("input", "Desk Phone Tap")


def test_older_settings_naming_the_calls_input_open_in_advanced_mode(pulse_server, dialog):
    older = Settings()
    older.set(Key.CALL_DEVICE, "Test Microphone")  # written before outputs could be captured
    older.save()
    d = dialog()
    assert d.devices.mode.isChecked() and d.devices.call_input.currentText() == "Test Microphone"
    assert d.devices.form.isRowVisible(d.fields["call_device"].row)


def test_a_policy_naming_the_calls_input_is_shown_locked(pulse_server, qtbot, fresh_settings):
    (fresh_settings / "policy.toml").write_text('[settings]\ncall_device = "Desk phone tap"\n'
                                                '[locked]\nkeys = ["call_device"]\n')
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: listed(d), timeout=10_000)
    devices = d.devices
    assert devices.mode.isChecked() and not devices.mode.isEnabled(), "the policy's mode is locked with it"
    assert devices.call_input.currentText() == "Desk phone tap (not connected)"
    assert not devices.call_input.isEnabled() and d.fields["call_device"].locked_note.isVisible()
    assert devices.mic.isEnabled() and not d.fields["agent_device"].locked_note.isVisible()
    assert d.save()
    assert Settings().get(Key.CALL_DEVICE) == "Desk phone tap"


def test_the_test_tone_moves_the_call_audio_meter_and_not_the_microphones(sound_server, dialog, qtbot):
    d = dialog()
    devices = d.devices
    assert not devices.tone_button.isEnabled(), "a tone needs the meters running"
    qtbot.mouseClick(devices.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(devices.tone_button.isEnabled, timeout=10_000)
    assert devices.test_button.text() == "Stop"
    qtbot.mouseClick(devices.tone_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: devices.meters["customer"].fraction() > 0.5, timeout=10_000)
    assert devices.meters["agent"].fraction() == 0.0, "a headset's microphone does not hear its earpiece"
    qtbot.waitUntil(lambda: devices.tone_button.text() == TONE and devices.tone_button.isEnabled(), timeout=10_000)
    assert not devices.test_error.isVisible()
    d.reject()  # stops the meters; the leftover-thread check waits for them


def test_picking_a_microphone_picks_the_output_on_the_same_headset(dialog):
    """A test server's null sinks belong to no sound card: this listing is a headset's."""
    from callcoach.audio.devices import Device, DeviceKind, DeviceList

    d = dialog()
    d.devices._listed(DeviceList(
        (Device("mic0", "Built-in Microphone", DeviceKind.INPUT, True, "pc"),
         Device("jabra_in", "Jabra Evolve2 65 Mono", DeviceKind.INPUT, False, "jabra")),
        (Device("spk", "Speakers", DeviceKind.OUTPUT, True, "pc"),
         Device("jabra_out", "Jabra Evolve2 65 Stereo", DeviceKind.OUTPUT, False, "jabra")),
        "PulseAudio 16.1"))
    pick(d.devices.mic, "Jabra Evolve2 65 Mono")
    assert d.devices.output.currentText() == "Jabra Evolve2 65 Stereo"
    pick(d.devices.mic, "Default microphone (now: Built-in Microphone)")
    assert d.devices.output.currentText() == "Default output (now: Speakers)"
    pick(d.devices.output, "Speakers")  # the agent's own choice stays
    pick(d.devices.mic, "Jabra Evolve2 65 Mono")
    assert d.devices.output.currentText() == "Speakers"


def test_agent_name_and_shortcut_are_saved(dialog, qtbot):
    from PySide6.QtGui import QKeySequence

    d = dialog()
    assert d.fields["hotkey"].read() == "Ctrl+Shift+Space"
    d.fields["agent_name"].editor.setText("  Sam Rivera ")
    d.fields["hotkey"].editor.setKeySequence(QKeySequence("Shift"))  # a modifier alone cannot be one
    assert not d.save()
    assert d.fields["hotkey"].error.text() == "Must be like Ctrl+Shift+Space."
    d.fields["hotkey"].editor.setKeySequence(QKeySequence("Ctrl+Alt+F9"))
    assert d.save()
    assert Settings().get(Key.AGENT_NAME) == "Sam Rivera" and Settings().get(Key.HOTKEY) == "Ctrl+Alt+F9"


def test_invalid_values_are_shown_inline_and_not_saved(dialog, qtbot):
    d = dialog()
    d.fields["pace_low"].editor.setValue(200)
    d.fields["pace_high"].editor.setValue(150)
    d.fields["opacity"].editor.setValue(0.1)
    d.fields["model"].editor.setCurrentText("/no/such/model-folder")
    qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    assert d.isVisible(), "the dialog stays open"
    errors = {k: f.error.text() for k, f in d.fields.items() if f.error.isVisible()}
    assert errors == {
        "pace_high": "The end of the pace band must be above its start.",
        "opacity": "Must be 0.3-1.0.",
        "model": "model folder not found: /no/such/model-folder",
    }
    assert d.status.text() == "3 settings to fix"
    assert Settings().source(Key.OPACITY) == "default"
    d.fields["pace_high"].editor.setValue(220)
    d.fields["opacity"].editor.setValue(0.9)
    d.fields["model"].editor.setCurrentText("tiny.en")
    assert d.save()
    assert not any(f.error.isVisible() for f in d.fields.values())
    assert Settings().get(Key.PACE_HIGH) == 220.0


def test_locked_keys_are_disabled_with_a_note(qtbot, fresh_settings):
    (fresh_settings / "policy.toml").write_text(
        '[settings]\nprompt_budget = 5\nmodel = "tiny.en"\n[locked]\nkeys = ["prompt_budget", "model"]\n')
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    d.show()
    for key in ("prompt_budget", "model"):
        field = d.fields[key]
        assert not field.editor.isEnabled()
        assert field.locked_note.isVisible() and field.locked_note.text().startswith("locked by policy")
    assert d.fields["prompt_budget"].editor.value() == 5
    assert d.fields["pace_low"].editor.isEnabled() and not d.fields["pace_low"].locked_note.isVisible()
    d.fields["pace_low"].editor.setValue(110)
    assert d.save()
    assert Settings().get(Key.PACE_LOW) == 110.0 and Settings().get(Key.PROMPT_BUDGET) == 5
    qtbot.waitUntil(lambda: listed(d), timeout=10_000)


def test_locked_policy_value_wins_over_the_users_and_shows_locked(qtbot, fresh_settings):
    """The user had chosen values; IT's policy sets and locks others: the dialog shows IT's,
    greyed, and saving keeps them."""
    user = Settings()
    user.set(Key.PROMPT_BUDGET, 30)
    user.set(Key.REDACT, False)
    user.set(Key.SESSION_FOLDER, "/home/agent/sessions")
    user.save()
    (fresh_settings / "policy.toml").write_text(
        '[settings]\nprompt_budget = 5\nredact = true\nsession_folder = "/srv/callcoach"\n'
        '[locked]\nkeys = ["prompt_budget", "redact", "session_folder"]\n')
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    d.show()
    assert d.fields["prompt_budget"].editor.value() == 5
    assert d.fields["redact"].editor.isChecked()
    assert d.fields["session_folder"].editor.text() == "/srv/callcoach"
    for key in ("prompt_budget", "redact", "session_folder"):
        assert not d.fields[key].editor.isEnabled() and d.fields[key].locked_note.isVisible(), key
    d.fields["opacity"].editor.setValue(0.8)
    assert d.save()
    again = Settings()
    assert (again.get(Key.PROMPT_BUDGET), again.get(Key.REDACT), again.get(Key.SESSION_FOLDER)) == (5, True, "/srv/callcoach")
    assert again.get(Key.OPACITY) == 0.8
    qtbot.waitUntil(lambda: listed(d), timeout=10_000)


def test_device_listing_failure_is_explained(qtbot, monkeypatch):
    from callcoach.audio import live

    def no_portaudio():
        raise CallCoachError("PortAudio is not installed (libportaudio2); install it to use live devices")

    monkeypatch.setenv("PULSE_SERVER", NO_SERVER)
    monkeypatch.setattr(live, "_sounddevice", no_portaudio)
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: "Cannot list devices" in d.devices.status.text(), timeout=10_000)
    assert "PortAudio is not installed" in d.devices.status.text()
    # The device test says the same under its meters, instead of failing.
    qtbot.mouseClick(d.devices.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.devices.test_error.isVisible(), timeout=10_000)
    assert "PortAudio" in d.devices.test_error.text()
    assert not d.devices.test_button.isChecked() and d.devices.test_button.text() == "Test"

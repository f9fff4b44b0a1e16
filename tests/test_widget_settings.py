"""The settings dialog: devices by name, inline validation, locked keys, persistence."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from callcoach.errors import CallCoachError
from callcoach.gui.settings_dialog import SettingsDialog
from callcoach.settings import Settings
from tests.widget_helpers import no_leftover_threads  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("no_leftover_threads")


@pytest.fixture
def devices(monkeypatch):
    from callcoach.audio import live

    names = ["Built-in Microphone", "USB Headset Mono", "Call audio (loopback)"]
    monkeypatch.setattr(live, "list_input_devices", lambda: list(names))
    monkeypatch.setattr(live, "refresh_devices", lambda: None)
    return names


@pytest.fixture
def dialog(qtbot, devices):
    def make():
        d = SettingsDialog(Settings())
        qtbot.addWidget(d)
        d.show()
        qtbot.waitUntil(lambda: d.fields["agent_device"].editor.count() == len(devices), timeout=5000)
        return d

    return make


def test_devices_are_chosen_by_name_and_saved(dialog, devices):
    d = dialog()
    assert "3 input devices found" in d.device_status.text()
    combo = d.fields["agent_device"].editor
    assert [combo.itemText(i) for i in range(combo.count())] == devices
    combo.setCurrentText("USB Headset Mono")
    d.fields["call_device"].editor.setCurrentText("Call audio (loopback)")
    d.fields["prompt_budget"].editor.setValue(6)
    d.fields["redact"].editor.setChecked(False)
    assert d.save()
    again = Settings()
    assert again.get("agent_device") == "USB Headset Mono"
    assert again.get("call_device") == "Call audio (loopback)"
    assert again.get("prompt_budget") == 6 and again.get("redact") is False
    assert again.source("pace_low") == "default", "unchanged values are not written"


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
    assert Settings().get("agent_name") == "Sam Rivera" and Settings().get("hotkey") == "Ctrl+Alt+F9"


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
    assert Settings().source("opacity") == "default"
    d.fields["pace_high"].editor.setValue(220)
    d.fields["opacity"].editor.setValue(0.9)
    d.fields["model"].editor.setCurrentText("tiny.en")
    assert d.save()
    assert not any(f.error.isVisible() for f in d.fields.values())
    assert Settings().get("pace_high") == 220.0


def test_locked_keys_are_disabled_with_a_note(qtbot, devices, fresh_settings):
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
    assert Settings().get("pace_low") == 110.0 and Settings().get("prompt_budget") == 5
    qtbot.waitUntil(lambda: d.fields["agent_device"].editor.count() == len(devices), timeout=5000)


def test_locked_policy_value_wins_over_the_users_and_shows_locked(qtbot, devices, fresh_settings):
    """The user had chosen values; IT's policy sets and locks others: the dialog shows IT's,
    greyed, and saving keeps them."""
    user = Settings()
    user.set("prompt_budget", 30)
    user.set("redact", False)
    user.set("session_folder", "/home/agent/sessions")
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
    assert (again.get("prompt_budget"), again.get("redact"), again.get("session_folder")) == (5, True, "/srv/callcoach")
    assert again.get("opacity") == 0.8
    qtbot.waitUntil(lambda: d.fields["agent_device"].editor.count() == len(devices), timeout=5000)


def test_device_listing_failure_is_explained(qtbot, monkeypatch):
    from callcoach.audio import live

    def no_portaudio():
        raise CallCoachError("PortAudio is not installed (libportaudio2); install it to use live devices")

    monkeypatch.setattr(live, "_sounddevice", no_portaudio)
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: "Cannot list devices" in d.device_status.text(), timeout=5000)
    assert "PortAudio is not installed" in d.device_status.text()
    # The device test meter says the same, next to the device, instead of failing.
    d.fields["agent_device"].editor.setCurrentText("Headset")
    qtbot.mouseClick(d.test_buttons["agent_device"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.fields["agent_device"].error.isVisible(), timeout=5000)
    assert "PortAudio" in d.fields["agent_device"].error.text()
    assert not d.test_buttons["agent_device"].isChecked()


def test_device_test_needs_a_device(dialog, qtbot):
    d = dialog()
    d.fields["call_device"].editor.setCurrentText("")
    qtbot.mouseClick(d.test_buttons["call_device"], Qt.MouseButton.LeftButton)
    assert d.fields["call_device"].error.text() == "Pick a device first."

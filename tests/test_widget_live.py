"""End to end on live devices: the widget, set up with the two PulseAudio virtual devices by
name, hears a call played into them and shows the escalation (see .ci/pulse-setup.sh)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from callcoach.engine.events import Level, ModelReady
from callcoach.gui.app import CoachApp
from callcoach.settings import Settings
from tests import callgen as cg
from tests.test_live_engine import play, play_channels, wait_players
from tests.conftest import VIRTUAL_SINKS
from tests.widget_helpers import no_leftover_threads, shut_down  # noqa: F401 (fixture)

pytestmark = [pytest.mark.pulse, pytest.mark.slow, pytest.mark.usefixtures("no_leftover_threads")]

A, C = cg.AGENT, cg.CUSTOMER
SCRIPT = [
    cg.Turn(A, "Thank you for calling, this is Sam. How can I help you today?"),
    cg.Turn(C, "I have been waiting three weeks for my refund and nobody has called me back."),
    cg.Turn(A, "I am sorry about that. Let me look into the refund for you."),
    cg.Turn(C, "No. I want to speak to your manager right now."),
    cg.Turn(A, "Of course.", gap_before=4.0),
]
DEVICE_START_TIMEOUT_MS = 30_000
ESCALATION_TIMEOUT_MS = 30_000  # after playback ends


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    """The script rendered once; each channel in its own (stereo) wav, for its own sink."""
    folder = tmp_path_factory.mktemp("widget_live_call")
    truth = cg.render_call(SCRIPT, folder / "call.wav", trailing_silence=1.0)
    return truth, cg.split_for_sinks(truth.path, folder)


def _tone(path, seconds=3.0, rate=44100):
    t = np.arange(int(rate * seconds)) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(path, np.stack([tone, tone], axis=1), rate)
    return path


def test_widget_on_virtual_devices_shows_the_escalation(pulse_devices, call, qtbot, tmp_path):
    truth, paths = call
    settings = Settings()
    settings.set("agent_device", pulse_devices[A])  # by name, as the agent picks them
    settings.set("call_device", pulse_devices[C])
    settings.save()
    coach = CoachApp(Settings(), mode="live")
    try:
        coach.start()
        w = coach.window
        assert not w.message.isVisible(), w.message.text.text()

        # Before the call: the meters show the mic works.
        qtbot.waitUntil(lambda: coach.probe is not None and coach.probe.is_running(), timeout=5000)
        tone = play(VIRTUAL_SINKS[pulse_devices[A]], _tone(tmp_path / "tone.wav"))
        try:
            qtbot.waitUntil(lambda: w.meters.meters[A].fraction() > 0.5, timeout=DEVICE_START_TIMEOUT_MS)
        finally:
            tone.kill()
            tone.communicate()
        assert w.meters.meters[C].fraction() == 0.0, "the call-audio meter moved with the headset"

        # Start the call with the button; wait until both devices feed the engine.
        heard: set[str] = set()
        ready: list[ModelReady] = []

        def on_event(event):
            if isinstance(event, Level):
                heard.add(event.role)
            elif isinstance(event, ModelReady):
                ready.append(event)

        coach.call_started.connect(lambda: coach.runner.bridge.connect_to(on_event))
        qtbot.mouseClick(w.title_bar.call_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(ready) and heard >= {A, C}, timeout=DEVICE_START_TIMEOUT_MS)
        assert w.title_bar.state.text() == "On call"
        assert w.title_bar.call_button.text() == "■"

        players = play_channels(paths, pulse_devices)
        qtbot.waitUntil(lambda: w.card.prompt is not None and w.card.prompt.kind == "escalate",
                        timeout=int(truth.duration * 1000) + ESCALATION_TIMEOUT_MS)
        card = w.card
        assert card.isVisible() and card.title.text() == "Customer asked for a manager"
        assert card.copy_button.isVisible()
        qtbot.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
        note = QGuiApplication.clipboard().text()
        assert note.startswith("Escalation handoff") and "waiting three weeks" in note.lower(), note
        wait_players(players, truth.duration + 30)

        with qtbot.waitSignal(coach.call_finished, timeout=60_000) as finished:
            qtbot.mouseClick(w.title_bar.call_button, Qt.MouseButton.LeftButton)
        summary = finished.args[0]
        assert summary is not None, w.message.text.text()
        assert {u["speaker"] for u in summary["utterances"]} == {A, C}
        assert any(p["kind"] == "escalate" for p in summary["prompts"])
        assert w.title_bar.state.text() == "Call ended"
    finally:
        shut_down(coach)


def test_settings_dialog_lists_the_devices_and_tests_the_headset(pulse_devices, qtbot, tmp_path):
    from callcoach.gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), refresh_devices=True)
    qtbot.addWidget(dialog)
    dialog.show()
    combo = dialog.fields["agent_device"].editor
    qtbot.waitUntil(lambda: combo.findText(pulse_devices[A]) >= 0, timeout=DEVICE_START_TIMEOUT_MS)
    combo.setCurrentText(pulse_devices[A])
    qtbot.mouseClick(dialog.test_buttons["agent_device"], Qt.MouseButton.LeftButton)
    meter = dialog.meters["agent_device"]
    tone = play(VIRTUAL_SINKS[pulse_devices[A]], _tone(tmp_path / "tone.wav"))
    try:
        qtbot.waitUntil(lambda: meter.fraction() > 0.5, timeout=DEVICE_START_TIMEOUT_MS)
    finally:
        tone.kill()
        tone.communicate()
    assert not dialog.fields["agent_device"].error.isVisible()
    dialog.reject()  # stops the test meter; the leftover-thread check waits for it

"""End to end on a private PulseAudio server (tests/sound_servers.py) with the devices a
desktop has: a Test Headset (an output; the customer is what plays on it) and a Test
Microphone. The widget, with the devices chosen in its settings dialog, hears a call
played into them and shows the escalation; the first run uses the system's defaults and
says which they are; older settings naming the call's input still hear the call there;
a microphone unplugged mid-call is said, and comes back."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from callcoach.engine.events import Level, ModelReady
from callcoach.gui.app import CoachApp
from callcoach.settings import Key, Settings
from tests import callgen as cg
from tests.sound_servers import TEST_HEADSET, TEST_MIC_FEED, TEST_MICROPHONE
from tests.test_coaching_scenarios import MANAGER_DEMAND
from tests.widget_helpers import no_leftover_threads, pick, shut_down  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_leftover_threads")]

A, C = cg.AGENT, cg.CUSTOMER
START_TIMEOUT_MS = 30_000  # the model, then both devices feeding the engine
ESCALATION_TIMEOUT_MS = 30_000  # after playback ends
LOUD_DB = -30.0  # a level a played tone reaches; silence stays far below


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    """The manager demand rendered once; each side in its own (stereo) wav, for its own sink."""
    folder = tmp_path_factory.mktemp("widget_live_call")
    truth = cg.render_call(MANAGER_DEMAND, folder / "call.wav", trailing_silence=1.0)
    return truth, cg.split_for_sinks(truth.path, folder)


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    rate = 44100
    t = np.arange(int(rate * 2.0)) / rate
    wave = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(path, np.stack([wave, wave], axis=1), rate)
    return path


class Heard:
    """What a call's runner posted: the model ready, and the loudest level per role."""

    def __init__(self, coach: CoachApp):
        self.ready = False
        self.loudest = {A: -200.0, C: -200.0}
        self.roles: set[str] = set()
        coach.call_started.connect(lambda: coach.calls.runner.bridge.connect_to(self._event))

    def _event(self, event) -> None:
        if isinstance(event, ModelReady):
            self.ready = True
        elif isinstance(event, Level):
            self.roles.add(event.role)
            self.loudest[event.role] = max(self.loudest[event.role], event.rms_db)

    def live(self) -> bool:
        return self.ready and self.roles >= {A, C}

    def quiet(self) -> None:
        self.loudest = {A: -200.0, C: -200.0}


def start_call(coach: CoachApp, qtbot) -> Heard:
    heard = Heard(coach)
    qtbot.mouseClick(coach.window.title_bar.call_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(heard.live, timeout=START_TIMEOUT_MS)
    assert coach.window.title_bar.state.text() == "On call"
    return heard


def finish(player, qtbot, timeout_ms: int = 30_000) -> None:
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=timeout_ms)
    assert player.returncode == 0, player.stderr.read()


def test_devices_chosen_in_the_dialog_hear_the_call_and_show_the_escalation(pulse_server, call, qtbot):
    truth, paths = call
    coach = CoachApp(Settings(), mode="live")
    try:
        coach.start()
        w = coach.window
        qtbot.mouseClick(w.title_bar.settings_button, Qt.MouseButton.LeftButton)
        dialog = coach.dialog
        qtbot.waitUntil(lambda: dialog.devices.devices is not None, timeout=10_000)
        pick(dialog.devices.mic, "Test Microphone")
        pick(dialog.devices.output, "Test Headset")
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: coach.dialog is None, timeout=5000)
        saved = Settings()
        assert (saved.get(Key.AGENT_DEVICE), saved.get(Key.CALL_OUTPUT)) == ("Test Microphone", "Test Headset")

        heard = start_call(coach, qtbot)
        players = [pulse_server.play(paths[C], TEST_HEADSET), pulse_server.play(paths[A], TEST_MIC_FEED)]
        qtbot.waitUntil(lambda: w.card.prompt is not None and w.card.prompt.kind == "escalate",
                        timeout=int(truth.duration * 1000) + ESCALATION_TIMEOUT_MS)
        card = w.card
        assert card.isVisible() and card.title.text() == "Customer asked for a manager"
        qtbot.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
        note = QGuiApplication.clipboard().text()
        assert note.startswith("Escalation handoff") and "waiting three weeks" in note.lower(), note
        for player in players:
            finish(player, qtbot)
        assert heard.loudest[A] > LOUD_DB and heard.loudest[C] > LOUD_DB

        with qtbot.waitSignal(coach.call_finished, timeout=60_000) as finished:
            qtbot.mouseClick(w.title_bar.call_button, Qt.MouseButton.LeftButton)
        summary = finished.args[0]
        assert summary is not None, w.message.text.text()
        assert {u["speaker"] for u in summary["utterances"]} == {A, C}
        assert any(p["kind"] == "escalate" for p in summary["prompts"])
        assert w.title_bar.state.text() == "Call ended"
    finally:
        shut_down(coach)


def test_first_run_listens_to_the_defaults_and_says_which_they_are(pulse_server, tone, qtbot):
    coach = CoachApp(Settings(), mode="live")  # nothing chosen
    try:
        coach.start()
        w, msg = coach.window, coach.window.message
        qtbot.waitUntil(lambda: msg.isVisible() and msg.level == "info", timeout=10_000)
        assert msg.text.text() == "Listening to Test Microphone and what plays on Test Headset"
        assert msg.hint.text() == "Change them in ⚙ Settings." and msg.button.text() == "Settings…"
        player = pulse_server.play(tone, TEST_MIC_FEED)  # the agent tries the headset
        qtbot.waitUntil(lambda: w.meters.meters[A].fraction() > 0.5, timeout=10_000)
        assert w.meters.meters[C].fraction() == 0.0, "the call-audio meter moved with the microphone"
        finish(player, qtbot)

        heard = start_call(coach, qtbot)
        assert msg.isVisible() and msg.text.text().startswith("Listening to Test Microphone"), "said again"
        heard.quiet()
        finish(pulse_server.play(tone, TEST_HEADSET), qtbot)  # the customer, on the default output
        qtbot.waitUntil(lambda: heard.loudest[C] > LOUD_DB, timeout=10_000)
        assert heard.loudest[A] < LOUD_DB
        with qtbot.waitSignal(coach.call_finished, timeout=60_000) as finished:
            coach.stop_call()
        assert finished.args[0] is not None
    finally:
        shut_down(coach)


def test_older_settings_naming_the_calls_input_hear_the_call_there(pulse_server, tone, qtbot):
    pulse_server.add_microphone("desk_phone", "Desk Phone Tap", feed="desk_feed")
    older = Settings()  # written before outputs could be captured: call_device only
    older.set(Key.AGENT_DEVICE, "Test Microphone")
    older.set(Key.CALL_DEVICE, "Desk Phone Tap")
    older.save()
    coach = CoachApp(Settings(), mode="live")
    try:
        coach.start()
        heard = start_call(coach, qtbot)
        assert not coach.window.message.isVisible(), "both devices were chosen: nothing to say"
        finish(pulse_server.play(tone, TEST_HEADSET), qtbot)  # not the call now
        assert heard.loudest[C] < LOUD_DB
        finish(pulse_server.play(tone, "desk_feed"), qtbot)
        qtbot.waitUntil(lambda: heard.loudest[C] > LOUD_DB, timeout=10_000)
        assert heard.loudest[A] < LOUD_DB
        with qtbot.waitSignal(coach.call_finished, timeout=60_000):
            coach.stop_call()
    finally:
        shut_down(coach)


def test_a_microphone_unplugged_mid_call_is_said_and_comes_back(pulse_server, qtbot):
    settings = Settings()
    settings.set(Key.AGENT_DEVICE, "Test Microphone")
    settings.save()
    coach = CoachApp(Settings(), mode="live")
    try:
        coach.start()
        start_call(coach, qtbot)
        msg = coach.window.message
        pulse_server.unload(pulse_server.microphone_module)
        qtbot.waitUntil(lambda: msg.isVisible() and msg.text.text() == "Microphone lost – reconnecting",
                        timeout=10_000)
        assert msg.level == "warning" and coach.call_active()
        pulse_server.add_microphone(TEST_MICROPHONE, "Test Microphone", TEST_MIC_FEED)  # plugged back in
        qtbot.waitUntil(lambda: msg.text.text().startswith("Microphone back after"), timeout=10_000)
        with qtbot.waitSignal(coach.call_finished, timeout=60_000) as finished:
            coach.stop_call()
        assert finished.args[0] is not None
    finally:
        shut_down(coach)

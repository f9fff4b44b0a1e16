"""The widget without the model: focus flags, geometry per screen, collapse, the prompt
card, settings, and problems shown in the widget instead of thrown. (The real demo call
through the real model is in test_widget_demo.py; live devices in test_widget_live.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QLineEdit, QWidget

from callcoach.coach.events import CoachState, Prompt, PromptCleared
from callcoach.engine.events import Level, Partial, Utterance
from callcoach.errors import CallCoachError
from callcoach.gui import app as app_module
from callcoach.gui.app import CoachApp
from callcoach.gui.settings_dialog import SettingsDialog
from callcoach.gui.geometry import DEFAULT_SIZE
from callcoach.gui.window import COLLAPSED_HEIGHT, CoachWindow
from callcoach.settings import Key, Settings
from tests.widget_helpers import no_leftover_threads, shut_down  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("no_leftover_threads")

ESCALATE = Prompt(id=7, t=33.2, kind="escalate", severity="critical", title="Customer asked for a manager",
                  message="Offer the supervisor now.", phrase="I'll bring in my supervisor and brief them.",
                  tactic="Know when to escalate", because='customer said "speak to a manager"',
                  rule="escalate-manager-request", priority=100, sticky=True,
                  handoff="Escalation handoff - 0:33 on call\nWhy now: Customer asked for a manager")
APOLOGIZE = Prompt(id=3, t=12.6, kind="apologize", severity="warning", title="Apologize and own it", message="Own it.",
                   phrase="I'm sorry you've had to wait and chase this.", tactic="Take ownership and apologize",
                   because='customer said "third time"', rule="apologize", priority=50, sticky=False)


@pytest.fixture
def window(qtbot):
    w = CoachWindow(Settings())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def coach(qtbot):
    apps = []

    def make(mode="live", **kwargs):
        c = CoachApp(Settings(), mode=mode, **kwargs)
        apps.append(c)
        return c

    yield make
    for c in apps:
        shut_down(c)


def _stereo(path, seconds=1.0):
    sf.write(path, np.zeros((int(16000 * seconds), 2), np.float32), 16000)
    return str(path)


# --- focus -----------------------------------------------------------------------------------


def test_window_flags_keep_it_on_top_and_out_of_the_focus_chain(window):
    flags = window.windowFlags()
    for flag in (Qt.WindowType.WindowStaysOnTopHint, Qt.WindowType.FramelessWindowHint,
                 Qt.WindowType.WindowDoesNotAcceptFocus):
        assert flags & flag, f"{flag} not set"
    assert flags & Qt.WindowType.Tool == Qt.WindowType.Tool
    assert window.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert window.focusPolicy() == Qt.FocusPolicy.NoFocus
    buttons = window.findChildren(QAbstractButton)
    assert len(buttons) >= 7  # call, collapse, settings, close, copy, done, not helpful, ...
    takes_focus = [b.objectName() or b.text() for b in buttons if b.focusPolicy() != Qt.FocusPolicy.NoFocus]
    assert not takes_focus, f"buttons that can take focus: {takes_focus}"
    focusable = [w for w in window.findChildren(QWidget) if w.focusPolicy() != Qt.FocusPolicy.NoFocus]
    assert not focusable, f"widgets that can take focus: {focusable}"
    assert window.size().width() == 360 and 220 <= window.size().height() <= 270


def test_clicking_done_leaves_the_focus_in_the_crm(window, qtbot):
    crm = QLineEdit()
    qtbot.addWidget(crm)
    crm.show()
    crm.activateWindow()
    crm.setFocus()
    qtbot.waitUntil(lambda: crm.hasFocus())
    window.on_event(APOLOGIZE)
    qtbot.mouseClick(window.card.done_button, Qt.MouseButton.LeftButton)
    assert crm.hasFocus(), f"focus moved to {QGuiApplication.focusObject()}"
    assert QGuiApplication.focusWindow() is crm.windowHandle()
    qtbot.keyClicks(crm, "typing on")
    assert crm.text() == "typing on"


def test_start_stop_shortcut(window, qtbot):
    window.activateWindow()  # a shortcut needs one of CallCoach's windows to be active
    with qtbot.waitSignal(window.call_requested, timeout=2000):
        qtbot.keyClick(window, Qt.Key.Key_Space,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


# --- geometry and collapse ---------------------------------------------------------------------


def _saved(settings_dir) -> dict:
    path = settings_dir / "settings.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_position_and_size_are_remembered_per_screen(window, qtbot, fresh_settings):
    window.move(140, 90)
    window.resize(420, 300)
    qtbot.waitUntil(lambda: bool(_saved(fresh_settings).get("window_geometry")), timeout=3000)
    screen = window.screen()
    saved = _saved(fresh_settings)["window_geometry"]
    assert list(saved.values()) == [{"x": 140, "y": 90, "w": 420, "h": 300}], saved
    window.close()

    again = CoachWindow(Settings())
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.screen() is screen
    assert again.geometry() == QRect(140, 90, 420, 300)


def test_saved_geometry_off_every_screen_falls_back_to_the_top_right(qtbot, fresh_settings):
    settings = Settings()
    settings.set(Key.WINDOW_GEOMETRY, {"DP-9 (unplugged)": {"x": 5000, "y": 5000, "w": 400, "h": 300}})
    settings.save()
    w = CoachWindow(Settings())
    qtbot.addWidget(w)
    w.show()
    area = w.screen().availableGeometry()
    assert area.contains(w.geometry()), (w.geometry(), area)
    assert w.geometry().right() > area.center().x(), "not on the right"


def test_collapse_to_a_bar_and_back(window, qtbot):
    height = window.height()
    window.on_event(ESCALATE)
    window.on_event(CoachState(40, -0.5, "frustrated", "worsening", 150, 150, (120, 190), 0.5, 0, 0, True))
    qtbot.mouseClick(window.title_bar.collapse_button, Qt.MouseButton.LeftButton)
    assert window.collapsed and window.height() == COLLAPSED_HEIGHT
    assert not window.body.isVisible()
    bar = window.title_bar
    # With a prompt, the mood is its color and arrow; the title gets the room.
    assert bar.mood.isVisible() and bar.mood.text() == "● ↓" and bar.mood.toolTip() == "Customer: Frustrated ↓"
    assert bar.prompt.full_text == "Customer asked for a manager" and bar.prompt.text() == bar.prompt.full_text
    assert not bar.timer.isVisible()
    window.on_event(PromptCleared(7, 50.0, "done"))
    assert bar.mood.text() == "Frustrated ↓" and bar.timer.isVisible()
    window.on_event(ESCALATE)
    assert Settings().get(Key.COLLAPSED) is True
    # A new window starts collapsed, as the agent left it.
    again = CoachWindow(Settings())
    qtbot.addWidget(again)
    assert again.collapsed
    qtbot.mouseClick(bar.collapse_button, Qt.MouseButton.LeftButton)
    assert not window.collapsed and window.height() >= height and window.card.isVisible()
    window.on_event(PromptCleared(7, 60.0, "expired"))
    assert window.height() == height  # grown for the card only while it showed


# --- what is on screen -------------------------------------------------------------------------


def test_prompt_card_shows_title_phrase_tactic_and_why_and_expires(window):
    window.on_event(APOLOGIZE)
    card = window.card
    assert card.isVisible()
    assert card.title.text() == "Apologize and own it"
    assert card.phrase.text() == "“I'm sorry you've had to wait and chase this.”"
    assert card.tactic.full_text == "Tactic: Take ownership and apologize"
    assert card.why.full_text == 'Why: customer said "third time"'
    assert card.done_button.isVisible() and card.unhelpful_button.isVisible()
    assert not card.copy_button.isVisible()
    window.on_event(PromptCleared(99, 20.0, "expired"))  # another prompt's: no effect
    assert card.isVisible()
    window.on_event(PromptCleared(3, 27.6, "expired"))
    assert not card.isVisible()


def test_default_size_is_small_and_a_card_grows_it_only_while_shown(window, qtbot, fresh_settings):
    from dataclasses import replace

    assert (window.width(), window.height()) == DEFAULT_SIZE == (360, 220)
    long_card = replace(ESCALATE, phrase="I'll bring in my supervisor and brief them, so you won't have to "
                                         "repeat yourself. They can approve the refund today.")
    window.on_event(long_card)
    qtbot.waitUntil(lambda: window.height() > 220)  # the whole card is readable, nothing overlaps
    card = window.card
    assert card.copy_button.geometry().bottom() < card.height()
    bottom = card.mapTo(window, card.rect().bottomLeft()).y()
    assert 0 <= window.height() - bottom <= 16, "no blank band under the card"
    window.on_event(PromptCleared(ESCALATE.id, 40.0, "expired"))
    assert window.height() == 220  # back to the size the agent had
    window.geometry_keeper.save()
    saved = next(iter(_saved(fresh_settings)["window_geometry"].values()))
    assert (saved["w"], saved["h"]) == (360, 220)


def test_escalation_card_copies_the_handoff_note(window, qtbot):
    QGuiApplication.clipboard().clear()
    window.on_event(ESCALATE)
    card = window.card
    assert card.copy_button.isVisible()
    qtbot.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == ESCALATE.handoff
    assert card.copy_button.text() == "Copied ✓"


def test_feedback_buttons_report_the_prompt(window, qtbot):
    window.on_event(APOLOGIZE)
    with qtbot.waitSignal(window.feedback) as signal:
        qtbot.mouseClick(window.card.unhelpful_button, Qt.MouseButton.LeftButton)
    assert signal.args == [3, "not_helpful"]


def test_gauges_meters_timer_and_transcript(window):
    window.on_event(Level("agent", 65.2, -18.0))
    window.on_event(Level("customer", 65.3, -70.0))
    window.on_event(CoachState(65, -0.7, "angry", "improving", 205.0, 160.0, (120.0, 190.0), 0.62, 0, 0, False))
    window.on_event(Utterance("customer", 60.0, 64.0, "This is the third time I call.", (), None, None))
    window.on_event(Partial("agent", 64.5, 65.0, "I am so sorry", None))
    assert window.title_bar.timer.text() == "01:05"
    assert window.meters.meters["agent"].fraction() == pytest.approx(0.7)
    assert window.meters.meters["customer"].fraction() == 0.0
    assert window.mood.state_text() == "Angry ↑"
    assert window.mood.bar.position > 2 / 3
    assert window.pace.value.text() == "205 wpm · fast"
    assert window.talk.value.text() == "you 62% · them 38%"
    text = window.transcript.plain_text()
    assert "Customer: This is the third time I call." in text
    assert "You: I am so sorry…" in text  # text in progress, shown as such
    window.on_event(Utterance("agent", 64.5, 66.0, "I am so sorry about that.", (), None, None))
    assert "sorry…" not in window.transcript.plain_text()


# --- problems shown, not thrown ------------------------------------------------------------------


def test_a_chosen_device_that_is_not_there_is_said_plainly_with_a_settings_button(pulse_server, coach, qtbot):
    settings = Settings()
    settings.set(Key.AGENT_DEVICE, "Jabra Evolve2 65")  # chosen once, unplugged now
    settings.save()
    c = coach("live")
    c.start()  # the idle meters open the devices first
    msg = c.window.message
    qtbot.waitUntil(msg.isVisible, timeout=10_000)
    assert msg.level == "error"
    assert msg.text.text() == "Your microphone 'Jabra Evolve2 65' is not connected"
    assert msg.hint.text() == "Plug it in, or choose another in Settings."
    assert msg.button.isVisible() and msg.button.text() == "Settings…"
    qtbot.waitUntil(lambda: not c.busy(), timeout=10_000)
    with qtbot.waitSignal(c.call_finished, timeout=20_000) as finished:  # ▶ anyway: the same, no traceback
        qtbot.mouseClick(c.window.title_bar.call_button, Qt.MouseButton.LeftButton)
    assert finished.args == [None] and c.window.title_bar.state.text() == "Stopped"
    assert msg.text.text() == "Your microphone 'Jabra Evolve2 65' is not connected"
    qtbot.mouseClick(msg.button, Qt.MouseButton.LeftButton)
    assert isinstance(c.dialog, SettingsDialog) and c.dialog.isVisible()
    c.dialog.reject()


def _no_portaudio():
    raise CallCoachError("PortAudio is not installed (libportaudio2); install it to use live devices "
                         "(cannot load library 'libportaudio.so.2')")


def test_missing_portaudio_is_explained_in_the_widget(coach, qtbot, monkeypatch):
    """Without a PulseAudio or PipeWire server, devices come through PortAudio."""
    from callcoach.audio import live

    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/pulse/native")
    monkeypatch.setattr(live, "_sounddevice", _no_portaudio)
    settings = Settings()
    settings.set(Key.AGENT_DEVICE, "Headset")
    settings.set(Key.CALL_DEVICE, "Call")  # an input carries the call: PortAudio can do that
    settings.save()
    c = coach("live")
    c.start()  # the idle meters open the devices first
    qtbot.waitUntil(lambda: "PortAudio" in c.window.message.text.text(), timeout=5000)
    assert "libportaudio2" in c.window.message.hint.text()
    qtbot.waitUntil(lambda: not c.busy(), timeout=5000)
    c.window.message.dismiss()
    with qtbot.waitSignal(c.call_finished, timeout=20000) as finished:
        c.start_call()
    assert finished.args == [None]
    assert "PortAudio" in c.window.message.text.text()
    assert c.window.title_bar.state.text() == "Stopped"
    assert "Traceback" not in c.window.message.text.text()


def test_model_that_will_not_load_is_explained_in_the_widget(coach, qtbot, tmp_path):
    settings = Settings()
    settings.set(Key.MODEL, str(tmp_path / "no-such-model"))
    settings.save()
    c = coach("demo", demo_call=_stereo(tmp_path / "call.wav"))
    with qtbot.waitSignal(c.call_finished, timeout=30000):
        c.start()
    msg = c.window.message
    assert msg.isVisible() and "Model folder not found" in msg.text.text()
    assert "model folder in Settings" in msg.hint.text() and msg.button.text() == "Settings…"
    assert not c.window.title_bar.call_button.property("active") == "true"


def test_missing_demo_call_is_explained_in_the_widget(coach, monkeypatch):
    def missing(_name):
        raise FileNotFoundError("asset demo_call.flac not found")

    import callcoach.paths

    monkeypatch.setattr(callcoach.paths, "asset_path", missing)
    c = coach("demo")
    c.start()
    assert "demo call (demo_call.flac) is missing" in c.window.message.text.text()
    assert "Reinstall" in c.window.message.hint.text()
    assert not c.call_active()


def test_unexpected_error_is_one_line_not_a_traceback(coach, qtbot, monkeypatch, tmp_path):
    def broken(*_args, **_kwargs):
        raise RuntimeError("decoder exploded\n  at line 3")

    monkeypatch.setattr("callcoach.audio.files.read_call", broken)
    c = coach("demo", demo_call=_stereo(tmp_path / "call.wav"))
    with qtbot.waitSignal(c.call_finished, timeout=60000):
        c.start()
    text = c.window.message.text.text()
    assert text.startswith("Unexpected error (RuntimeError: decoder exploded at line 3)"), text
    assert "\n" not in text and "Traceback" not in text


def test_demo_command_plays_the_bundled_asset(monkeypatch):
    from callcoach import cli

    seen = {}
    monkeypatch.setattr(app_module, "run", lambda mode, call=None: seen.update(mode=mode, call=call) or 0)
    assert cli.main(["demo"]) == 0
    assert seen == {"mode": "demo", "call": None}
    assert cli.main([]) == 0 and seen["mode"] == "live"
    assert app_module.demo_call_path().endswith("assets/demo_call.flac")


# --- tray ------------------------------------------------------------------------------------------


def test_tray_menu_drives_the_window(coach):
    c = coach("live")
    c.start()
    texts = [a.text() for a in c.tray.menu.actions() if a.text()]
    assert texts == ["Hide window", "Start call", "Collapse to a bar", "Settings…", "Quit CallCoach"]
    c.tray.collapse_action.trigger()
    assert c.window.collapsed
    c.tray.show_action.trigger()
    assert not c.window.isVisible() and c.tray.show_action.text() == "Show window"
    c.tray.show_action.trigger()
    assert c.window.isVisible()


def test_window_drags_by_its_background(window, qtbot):
    start = window.pos()
    qtbot.mousePress(window.title_bar.state, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.mouseMove(window.title_bar.state, QPoint(45, 35))
    qtbot.mouseRelease(window.title_bar.state, Qt.MouseButton.LeftButton, pos=QPoint(45, 35))
    assert window.pos() == start + QPoint(40, 30)

"""The system-wide start/stop shortcut, on a real X server (Xvfb) with keys pressed through
XTEST (xdotool), as if the agent pressed them while typing in another program."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

import numpy as np
import pytest
import soundfile as sf

from callcoach import hotkeys
from callcoach.gui.app import CoachApp
from callcoach.settings import Settings
from tests.widget_helpers import no_leftover_threads, run_until, shut_down  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def x_display():
    """A private X server; its display name (":N")."""
    missing = [tool for tool in ("Xvfb", "xdotool") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (apt-get install xvfb xdotool)")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        number = fh.readline().strip()  # written once the server accepts clients
    if not number:
        server.kill()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(10)


def press(display: str, *xdotool_args: str) -> None:
    subprocess.run(["xdotool", *xdotool_args], env={**os.environ, "DISPLAY": display}, check=True, timeout=20)


class Presses:
    def __init__(self):
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, n: int, timeout: float = 5.0) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self.count >= n, timeout)
            return self.count


def test_parse_accepts_shortcuts_and_refuses_plain_keys():
    assert str(hotkeys.parse("ctrl+shift+space")) == "Ctrl+Shift+Space"
    assert str(hotkeys.parse("Control+Alt+k")) == "Ctrl+Alt+K"
    assert str(hotkeys.parse("Super+F9")) == "Meta+F9"
    for bad in ("Space", "Shift+", "Ctrl+Shift+Space+", "Hyper+K", "Ctrl+F99", "Ctrl+é", ""):
        assert not hotkeys.valid(bad), bad
    with pytest.raises(hotkeys.HotkeyUnavailable, match="not a modifier"):
        hotkeys.register("Hyper+K", lambda: None)


def test_one_press_one_toggle_even_when_held(x_display):
    presses = Presses()
    grab = hotkeys.register("Ctrl+Shift+Space", presses, display=x_display)
    try:
        press(x_display, "key", "ctrl+shift+space")
        assert presses.wait_for(1) == 1
        press(x_display, "key", "shift+space", "ctrl+space", "space")  # not the shortcut
        # Held for most of a second: the key repeats, the shortcut fires once. (Presses are
        # a human 0.4 s apart: faster ones count as a key bounce.)
        press(x_display, "sleep", "0.4", "keydown", "ctrl+shift+space", "sleep", "0.8", "keyup", "ctrl+shift+space")
        press(x_display, "sleep", "0.4", "key", "ctrl+shift+space")
        # Events arrive in order: when the third press is in, any extra one would be too.
        assert presses.wait_for(3) == 3
    finally:
        grab.close()


def test_a_shortcut_taken_by_another_program_is_refused_with_a_reason(x_display):
    first = hotkeys.register("Ctrl+Alt+K", lambda: None, display=x_display)
    try:
        with pytest.raises(hotkeys.HotkeyUnavailable, match="Ctrl\\+Alt\\+K is already used by another program"):
            hotkeys.register("Ctrl+Alt+K", lambda: None, display=x_display)
    finally:
        first.close()
    hotkeys.register("Ctrl+Alt+K", lambda: None, display=x_display).close()  # released on close


def test_no_x_display_is_explained():
    with pytest.raises(hotkeys.HotkeyUnavailable, match="cannot open the X display"):
        hotkeys.register("Ctrl+Shift+Space", lambda: None, display=":4242")


@pytest.mark.usefixtures("no_leftover_threads")
def test_the_widget_starts_and_stops_a_call_from_another_program(x_display, monkeypatch, tmp_path, qtbot):
    """The widget (offscreen, never focused) and the shortcut pressed on the X display."""
    monkeypatch.setenv("DISPLAY", x_display)
    call = tmp_path / "quiet.wav"
    sf.write(call, np.zeros((16000 * 60, 2), np.float32), 16000)  # a minute: long enough to stop early
    coach = CoachApp(Settings(), mode="demo", demo_call=str(call))
    finished = []
    coach.call_finished.connect(finished.append)
    try:
        coach.start()
        assert coach.hotkey is not None, coach.window.title_bar.call_button.toolTip()
        assert run_until(lambda: coach.window.title_bar.state.text() == "Demo call", 60)
        press(x_display, "key", "ctrl+shift+space")
        assert run_until(lambda: finished, 30), "the shortcut did not stop the call"
        assert finished[0]["duration_s"] < 60
        assert coach.window.title_bar.call_button.text() == "▶"
        press(x_display, "sleep", "0.4", "key", "ctrl+shift+space")
        assert run_until(coach.call_active, 10), "the shortcut did not start the next call"
    finally:
        shut_down(coach)
    assert coach.hotkey is None  # released when CallCoach quits

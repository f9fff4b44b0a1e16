"""`callcoach demo` on a real X desktop (Xvfb + IceWM with its tray + a compositor), beside
a stand-in CRM the agent is typing in. What a window manager sees and does is what counts
here: focus never moves to CallCoach, it stays above other windows with its opacity, its
tray icon works, and the system-wide shortcut stops the call while the agent types."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.desktop import Desktop, missing_tools, wait_until

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def desktop():
    missing = missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (tools/setup.sh --test installs them)")
    with Desktop() as d:
        yield d


class Crm:
    """The CRM process; `text` is what its field holds."""

    def __init__(self, desktop: Desktop):
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "desktop_apps" / "crm.py")],
                                     env=desktop.env(QT_QPA_PLATFORM="xcb"), stdout=subprocess.PIPE, text=True)
        self.text = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.text = line.rstrip("\n")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _log() -> str:
    path = Path(os.environ["CALLCOACH_LOG_DIR"]) / "callcoach.log"
    return path.read_text() if path.exists() else ""


def test_widget_on_a_real_desktop_never_takes_the_agents_focus(desktop):
    crm = Crm(desktop)
    coach = None
    try:
        [crm_window] = wait_until(lambda: desktop.windows("CRM"), 20)
        desktop.x("xdotool", "windowactivate", "--sync", crm_window)
        desktop.x("xdotool", "type", "--delay", "20", "Refund")
        assert wait_until(lambda: crm.text == "Refund", 10), crm.text

        coach = subprocess.Popen([sys.executable, "-m", "callcoach", "demo"], env=desktop.env(QT_QPA_PLATFORM="xcb"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert wait_until(lambda: "call started" in _log(), 60), _log()
        [widget] = wait_until(lambda: desktop.windows("CallCoach"), 10)
        assert desktop.active_name() == "CRM", "showing the widget took the focus"

        props = desktop.x("xprop", "-id", widget, "_NET_WM_STATE", "_NET_WM_WINDOW_OPACITY", "WM_HINTS")
        assert "_NET_WM_STATE_ABOVE" in props, props  # above the CRM, as the window manager keeps it
        opacity = int(props.split("_NET_WM_WINDOW_OPACITY(CARDINAL) = ")[1].split()[0])
        assert opacity / 0xFFFFFFFF == pytest.approx(0.95, abs=0.001), "the opacity setting reaches the screen"
        assert "accepts input or input focus: False" in props
        x, y, w, h = desktop.geometry(widget)
        assert (w, h) == (360, 220) and x + w <= 1280 and y < 100, "small, in the top-right corner"

        desktop.click(x + 40, y + 70)  # on the widget, as an agent glancing at the mood would
        assert desktop.active_name() == "CRM", "a click on the widget took the focus"
        desktop.x("xdotool", "type", "--delay", "20", " issued")
        assert wait_until(lambda: crm.text == "Refund issued", 10), "typing no longer reaches the CRM"
        # A hand's drag: press, move a little, then on, with the pauses a hand makes.
        desktop.x("xdotool", "mousemove", "--sync", str(x + 40), str(y + 70), "mousedown", "1",
                  "mousemove", "--sync", str(x + 30), str(y + 80), "sleep", "0.3",
                  "mousemove", "--sync", str(x - 100), str(y + 120), "sleep", "0.3",
                  "mousemove", "--sync", str(x - 200), str(y + 170), "sleep", "0.3", "mouseup", "1")
        moved = wait_until(lambda: desktop.geometry(widget)[:2] != (x, y) and desktop.geometry(widget), 10)
        assert moved and moved[0] < x and moved[1] > y, f"dragging did not move the window: {moved}"
        assert desktop.active_name() == "CRM", "dragging the widget took the focus"
        x, y = moved[:2]

        tray = [t for t in desktop.x("xdotool", "search", "--onlyvisible", "--class", "CallCoach").split()
                if t != widget and desktop.geometry(t)[2] <= 32]
        assert tray, "no CallCoach icon in the desktop's tray"
        tx, ty, tw, th = desktop.geometry(tray[0])
        desktop.click(tx + tw // 2, ty + th // 2)
        assert wait_until(lambda: not desktop.windows("CallCoach"), 10), "the tray icon did not hide the window"
        desktop.click(tx + tw // 2, ty + th // 2)
        assert wait_until(lambda: desktop.windows("CallCoach"), 10), "the tray icon did not bring it back"

        desktop.x("xdotool", "key", "ctrl+shift+space")  # typed in the CRM, heard system-wide
        assert wait_until(lambda: "call ended" in _log(), 30), "the shortcut did not stop the call"
        assert crm.text == "Refund issued", "the shortcut reached the CRM as text"
        assert desktop.active_name() == "CRM"

        coach.send_signal(signal.SIGINT)  # how a desktop session ends it
        assert coach.wait(30) == 0, coach.stderr.read()
        assert "Traceback" not in coach.stderr.read()
    finally:
        if coach is not None and coach.poll() is None:
            coach.kill()
        crm.close()

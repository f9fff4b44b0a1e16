"""Screenshots of the real widget for docs/ and the README, taken from the screen of an X
server (Xvfb, started here when there is no DISPLAY) with the xcb platform plugin.

    .venv/bin/python tools/screenshots.py [--out docs] [--only first-run,idle,settings]
    .venv/bin/python tools/screenshots.py --messages FOLDER

Everything on screen comes from the real pipeline with the real model, at real time, and
real devices: a private PulseAudio server (tests/sound_servers.py) with a Test Headset and
a Test Microphone. The first run (nothing chosen: the defaults, and what they are), idle
(devices chosen, the headset meter live), the settings dialog testing the devices with
its tone, a calm call (a generated billing call), then the bundled demo call for an upset
customer, the escalation and the collapsed bar. Takes about three minutes.
With --messages: every message the window can show (tests/window_messages.py), one each.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_xvfb() -> subprocess.Popen:
    """An X server of our own; DISPLAY points at it."""
    if not shutil.which("Xvfb"):
        sys.exit("screenshots: Xvfb is not installed (apt-get install xvfb)")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        number = fh.readline().strip()
    if not number:
        server.kill()
        sys.exit("screenshots: Xvfb did not start")
    os.environ["DISPLAY"] = f":{number}"
    return server


@contextlib.contextmanager
def private_desktop(prefix: str) -> Iterator[Path]:
    """An X display (an Xvfb of our own when there is none) for the xcb plugin, and settings,
    policy and sessions in a private folder, never the developer's own; undone afterwards."""
    xvfb = start_xvfb() if not os.environ.get("DISPLAY") else None
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    folder = tempfile.mkdtemp(prefix=prefix)
    os.environ["CALLCOACH_CONFIG_DIR"] = folder
    os.environ["CALLCOACH_POLICY_FILE"] = os.path.join(folder, "policy.toml")
    os.environ["CALLCOACH_DATA_DIR"] = os.path.join(folder, "data")
    try:
        yield Path(folder)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def save_window(window, path: Path) -> None:
    """What the screen shows where the window is (not a re-render of it)."""
    g = window.frameGeometry()
    window.screen().grabWindow(0, g.x(), g.y(), g.width(), g.height()).save(str(path))
    print(f"screenshots: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNGs")
    parser.add_argument("--only", default=",".join(STEPS), help=f"some of: {', '.join(STEPS)}")
    parser.add_argument("--messages", metavar="FOLDER", help="instead: every message the window can show")
    args = parser.parse_args()
    steps = args.only.split(",")
    if not set(steps) <= set(STEPS):
        parser.error(f"--only takes some of: {', '.join(STEPS)}")
    out = Path(args.messages or args.out)
    out.mkdir(parents=True, exist_ok=True)
    with private_desktop("callcoach-shots-"):
        shooter = Shooter(out)
        status = shooter.messages() if args.messages else shooter.run(steps)
    sys.stdout.flush()
    os._exit(status)  # skip interpreter teardown: PySide6 can crash garbage-collecting at exit


class Shooter:
    def __init__(self, out: Path):
        from PySide6.QtWidgets import QApplication

        from callcoach.gui.tray import app_icon

        self.app = QApplication.instance() or QApplication(["callcoach-screenshots"])
        self.app.setWindowIcon(app_icon())
        self.out = out

    def wait(self, predicate, timeout_s: float) -> bool:
        from PySide6.QtCore import QEventLoop, QTimer

        loop, deadline, ok = QEventLoop(), time.monotonic() + timeout_s, [False]

        def check():
            if predicate():
                ok[0] = True
                loop.quit()
            elif time.monotonic() > deadline:
                loop.quit()

        timer = QTimer()
        timer.timeout.connect(check)
        timer.start(50)
        loop.exec()
        timer.stop()
        return ok[0]

    def expect(self, predicate, timeout_s: float, what: str) -> None:
        """Wait for the moment a screenshot is about; never shoot the wrong one."""
        if not self.wait(predicate, timeout_s):
            raise SystemExit(f"screenshots: {what} did not happen within {timeout_s:.0f} s")

    def pause(self, seconds: float) -> None:
        self.wait(lambda: False, seconds)

    def shoot(self, widget, name: str) -> None:
        """What the screen shows where the widget is (not a re-render of it)."""
        self.pause(0.3)  # let the X server draw
        save_window(widget, self.out / f"widget-{name}.png")

    def app_for(self, mode: str, demo_call: str | None = None):
        from callcoach.gui.app import CoachApp
        from callcoach.settings import Settings

        coach = CoachApp(Settings(), mode=mode, demo_call=demo_call)
        coach.window.move(40, 40)
        return coach

    def close(self, coach) -> None:
        coach.shutdown()
        self.wait(lambda: not coach.busy(), 60)
        coach.window.deleteLater()

    def run(self, steps: list[str]) -> int:
        if {"first-run", "idle", "settings"} & set(steps):
            self.on_test_devices(steps)
        if {"calm", "difficult"} & set(steps):
            from tests import callgen

            calm_call = Path(tempfile.mkdtemp(prefix="callcoach-calm-")) / "billing.wav"
            callgen.render_call(callgen.BILLING_CALL, calm_call)
            if "calm" in steps:
                self.calm(calm_call)
            if "difficult" in steps:
                self.difficult()
        return 0

    def on_test_devices(self, steps: list[str]) -> None:
        """The shots of a desktop's devices, on a private PulseAudio server of their own."""
        from tests import callgen, sound_servers

        folder = Path(tempfile.mkdtemp(prefix="callcoach-shots-pulse-"))
        server = sound_servers.start_pulseaudio(folder / "server")
        os.environ["PULSE_SERVER"] = server.env["PULSE_SERVER"]
        try:
            server.add_test_devices()
            speech = folder / "speech.wav"  # the agent trying the headset
            callgen.render_call(callgen.BILLING_CALL[:1], speech, trailing_silence=5.0)
            if "first-run" in steps:
                self.first_run(server, speech)
            if "idle" in steps:
                self.idle(server, speech)
            if "settings" in steps:
                self.settings(server)
        finally:
            server.stop()

    def speaking(self, server, speech: Path):
        """The agent says something into the Test Microphone, stereo as a real mic hears it."""
        from tests import callgen, sound_servers

        paths = callgen.split_for_sinks(speech, speech.parent)
        return server.play(paths[callgen.AGENT], sound_servers.TEST_MIC_FEED)

    def first_run(self, server, speech: Path) -> None:
        coach = self.app_for("live")  # nothing chosen yet
        coach.start()
        w = coach.window
        self.expect(lambda: w.message.isVisible() and w.message.level == "info", 15, "what the first run picked")
        player = self.speaking(server, speech)
        self.expect(lambda: w.meters.meters["agent"].fraction() > 0.4, 15, "the headset meter moving")
        self.shoot(w, "first-run")
        player.kill()
        player.wait()
        self.close(coach)

    def idle(self, server, speech: Path) -> None:
        from callcoach.settings import Key, Settings

        settings = Settings()
        settings.set(Key.AGENT_DEVICE, "Test Microphone")
        settings.set(Key.CALL_OUTPUT, "Test Headset")
        settings.save()
        coach = self.app_for("live")
        coach.start()
        player = self.speaking(server, speech)
        meter = coach.window.meters.meters["agent"]
        self.expect(lambda: meter.fraction() > 0.4, 15, "the headset meter moving")
        self.shoot(coach.window, "idle")
        player.kill()
        player.wait()
        self.close(coach)
        Path(settings.user_path).unlink()

    def settings(self, server) -> None:
        """The dialog testing the chosen devices: the test tone moves the call-audio meter."""
        from callcoach.gui.device_settings import TONE

        coach = self.app_for("live")
        coach.start()
        coach.open_settings()
        dialog = coach.dialog
        dialog.move(440, 40)
        devices = dialog.devices
        self.expect(lambda: devices.devices is not None, 10, "the device list")
        devices.mic.set_value("Test Microphone")
        devices.mic.activated.emit(devices.mic.currentIndex())  # as the agent picks it
        devices.test_button.setChecked(True)
        self.expect(lambda: devices.tone_button.isEnabled(), 10, "the test meters")
        devices.tone_button.click()
        self.expect(lambda: devices.meters["customer"].fraction() > 0.5, 10, "the tone on the call-audio meter")
        self.shoot(dialog, "settings")
        self.expect(lambda: devices.tone_button.text() == TONE, 10, "the end of the tone")
        dialog.reject()
        self.close(coach)

    def messages(self) -> int:
        from callcoach.gui.window import CoachWindow
        from callcoach.settings import Settings
        from tests.window_messages import all_messages, set_state, show

        window = CoachWindow(Settings())
        window.move(40, 40)
        window.resize(360, 220)
        window.show()
        for message in all_messages(Path(tempfile.mkdtemp(prefix="callcoach-messages-"))):
            set_state(window, "call" if message.name.endswith(("lost", "back", "dropped", "gap")) else "idle")
            show(window, message)
            self.shoot(window, f"message-{message.name}")
            window.message.dismiss()
        window.close()
        return 0

    def calm(self, path: Path) -> None:
        coach = self.app_for("demo", str(path))
        coach.start()
        w = coach.window
        # After the customer's second turn: a calm mood, some transcript, pace and talk share.
        self.expect(lambda: len(w.transcript.lines) >= 5 and w.pace.track.wpm is not None, 90, "the calm call")
        self.shoot(w, "calm")
        self.close(coach)

    def difficult(self) -> None:
        coach = self.app_for("demo")  # the bundled demo call
        coach.start()
        w = coach.window
        self.expect(lambda: w.card.prompt is not None and w.mood.state in ("frustrated", "angry"), 150,
                    "an upset customer")
        self.shoot(w, "frustrated")
        self.expect(lambda: w.card.prompt is not None and w.card.prompt.kind == "escalate", 150,
                    "the escalation card")
        self.pause(1.5)  # the gauges follow once a second of call audio
        self.shoot(w, "escalation")
        w.set_collapsed(True)
        self.pause(0.5)
        self.shoot(w, "collapsed")
        self.close(coach)


STEPS = ("first-run", "idle", "settings", "calm", "difficult")


if __name__ == "__main__":
    sys.exit(main())

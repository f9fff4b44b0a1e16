"""Screenshots of the real widget for docs/ and the README, taken from the screen of an X
server (Xvfb, started here when there is no DISPLAY) with the xcb platform plugin.

    .venv/bin/python tools/screenshots.py [--out docs]

Everything on screen comes from the real pipeline with the real model, at real time:
idle (before a call), a calm call (a generated billing call), then the bundled demo call
for an upset customer and the escalation, the collapsed bar, and the settings dialog.
Takes about three minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNGs")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = start_xvfb() if not os.environ.get("DISPLAY") else None
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    config = tempfile.mkdtemp(prefix="callcoach-shots-")
    os.environ["CALLCOACH_CONFIG_DIR"] = config  # never the developer's own settings
    os.environ["CALLCOACH_POLICY_FILE"] = os.path.join(config, "policy.toml")
    try:
        status = Shooter(out).run()
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(config, ignore_errors=True)
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
        g = widget.frameGeometry()
        pixmap = widget.screen().grabWindow(0, g.x(), g.y(), g.width(), g.height())
        path = self.out / f"widget-{name}.png"
        pixmap.save(str(path))
        print(f"screenshots: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

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

    def run(self) -> int:
        from tests import callgen

        calm_call = Path(tempfile.mkdtemp(prefix="callcoach-calm-")) / "billing.wav"
        callgen.render_call(callgen.BILLING_CALL, calm_call)
        self.idle(calm_call)
        self.calm(calm_call)
        self.difficult()
        return 0

    def idle(self, speech: Path) -> None:
        from callcoach.audio import live
        from callcoach.errors import CallCoachError
        from callcoach.settings import Settings

        try:  # the PulseAudio virtual devices (.ci/pulse-setup.sh), when present
            names = live.list_input_devices()
        except CallCoachError:
            names = []
        if {"agent_mic", "call_audio"} <= set(names):
            settings = Settings()
            settings.set("agent_device", "agent_mic")
            settings.set("call_device", "call_audio")
            settings.save()
        coach = self.app_for("live")
        coach.start()
        player = None
        if coach.probe is not None and shutil.which("paplay"):  # the agent tries the headset
            player = subprocess.Popen(["paplay", "--device=agentmic", str(speech)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            meter = coach.window.meters.meters["agent"]
            self.wait(lambda: meter.fraction() > 0.4, 15)
        else:
            self.pause(2.0)
        self.shoot(coach.window, "idle")
        if player is not None:
            player.kill()
            player.wait()
        self.close(coach)

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
        w.set_collapsed(False)
        coach.open_settings()
        dialog = coach.dialog
        dialog.move(440, 40)
        self.wait(lambda: "input devices" in dialog.device_status.text() or "Cannot" in dialog.device_status.text(), 10)
        self.shoot(dialog, "settings")
        dialog.reject()
        self.close(coach)


if __name__ == "__main__":
    sys.exit(main())

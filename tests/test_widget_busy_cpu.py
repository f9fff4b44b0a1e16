"""The widget answers within 50 ms while other programs keep both cores busy.

An agent's softphone and browser take CPU too. Two busy processes (`while True: pass`) run
beside the real widget (offscreen) while it plays the first minute of the bundled demo call
through the live pipeline with the real model; a 10 ms timer on the GUI thread measures the
longest the event loop went without running. What makes it hold: the model's compute
threads run at background priority (callcoach/engine/priority.py), the GUI thread, the
audio intake and the GIL-holding threads at normal priority; CTranslate2 uses one thread on
2 cores (no OpenMP team spinning at barriers beside the GUI).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from callcoach.engine.events import Level, ModelReady
from callcoach.gui.app import CoachApp, preload_model
from callcoach.settings import Settings
from tests.widget_helpers import StallMeter, run_until, shut_down

pytestmark = pytest.mark.slow

BUSY_PROCESSES = 2
PLAYED_S = 60.0  # seconds of the demo call (its first prompt comes at ~13 s)
RUN_TIMEOUT_S = 240
MAX_STALL_S = 0.050
FREEZE_S = 0.150  # not even once (see StallMeter)


def test_event_loop_holds_beside_two_busy_processes(qapp, tmp_path):
    settings = Settings(tmp_path / "settings.json", tmp_path / "policy.toml")
    preload_model(settings)  # as `callcoach demo` does before its event loop starts
    coach = CoachApp(settings, mode="demo", store_path=str(tmp_path / "sessions.db"))
    start_meter, call_meter = StallMeter(), StallMeter()
    heard = {"t": 0.0}

    def on_event(event):
        if isinstance(event, ModelReady):
            start_meter.stop()
            call_meter.start()
        elif isinstance(event, Level):
            heard["t"] = max(heard["t"], event.t)

    def started():
        start_meter.start()
        coach.calls.runner.bridge.connect_to(on_event)

    coach.call_started.connect(started)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY_PROCESSES)]
    try:
        coach.start()
        played = run_until(lambda: heard["t"] >= PLAYED_S, RUN_TIMEOUT_S)
        call_meter.stop()
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
        shut_down(coach)
    print(f"beside {BUSY_PROCESSES} busy processes on {os.cpu_count()} cores: max event-loop stall "
          f"{call_meter.max_gap_s * 1000:.1f} ms during {heard['t']:.0f} s of the call "
          f"({call_meter.over(MAX_STALL_S)} over {MAX_STALL_S * 1000:.0f} ms), "
          f"{start_meter.max_gap_s * 1000:.1f} ms while it started; {call_meter.ticks} ticks")
    assert played, f"only {heard['t']:.0f} s of the call played in {RUN_TIMEOUT_S} s"
    assert call_meter.ticks > 0.5 * PLAYED_S * 100, "the 10 ms timer hardly ran"
    call_meter.assert_no_recurring_stall(MAX_STALL_S, FREEZE_S, "beside the busy processes")
    # The call's start (VAD session, opening the file, gc.freeze) is only printed here: beside
    # the busy processes it measured 13-47 ms, too near the limit to assert on a shared machine
    # (tests/test_widget_demo.py asserts it on its own).

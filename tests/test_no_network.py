"""No network: `callcoach analyze` and the widget playing a demo call open no internet
socket and look up no host name, in Python or in native code (see tests/netguard)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import soundfile as sf

from callcoach import logs
from callcoach.paths import asset_path
from tests.netguard import NetGuard

DEMO = str(asset_path("demo_call.flac"))


def test_the_guard_catches_python_and_native_attempts(tmp_path):
    guard = NetGuard(tmp_path)
    code = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 9), timeout=0.1)\nexcept OSError:\n    pass"
    subprocess.run(guard.command([sys.executable, "-c", code]), env=guard.env(), check=True, timeout=60)
    assert any("create_connection" in a for a in guard.attempts())
    if guard.strace:  # bash opens /dev/tcp with a plain socket() call: native code, no Python
        native = NetGuard(tmp_path / "native")
        (tmp_path / "native").mkdir()
        subprocess.run(native.command(["bash", "-c", "echo > /dev/tcp/127.0.0.1/9"]), capture_output=True,
                       timeout=60)
        assert any("AF_INET" in a for a in native.attempts()), native.trace.read_text()


@pytest.mark.slow
def test_analyze_opens_no_socket(tmp_path):
    guard = NetGuard(tmp_path)
    out = tmp_path / "out.json"
    result = subprocess.run(guard.command([sys.executable, "-m", "callcoach", "analyze", DEMO, "--json", str(out)]),
                            env=guard.env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert not guard.attempts(), guard.attempts()
    summary = json.loads(out.read_text())
    assert len(summary["utterances"]) >= 15 and "escalate" in [p["kind"] for p in summary["prompts"]]


@pytest.mark.slow
def test_widget_demo_call_opens_no_socket(tmp_path):
    """`callcoach demo` (the real widget, offscreen) plays the first 20 s of the demo call."""
    audio, rate = sf.read(DEMO, dtype="float32")
    call = tmp_path / "demo_start.wav"
    sf.write(str(call), audio[: 20 * rate], rate)
    guard = NetGuard(tmp_path)
    env = guard.env({**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    widget = subprocess.Popen(guard.command([sys.executable, "-m", "callcoach", "demo", "--call", str(call)]),
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    log = logs.log_path()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and widget.poll() is None:
            if log.exists() and "call ended" in log.read_text():
                break
            time.sleep(0.2)
        text = log.read_text() if log.exists() else ""
        assert "call ended" in text, text
        os.killpg(widget.pid, signal.SIGINT)  # the widget quits cleanly on Ctrl+C
        output = widget.communicate(timeout=60)[0]
    finally:
        if widget.poll() is None:
            os.killpg(widget.pid, signal.SIGKILL)
            widget.wait()
    assert widget.returncode == 0, output
    assert "widget ready" in text and "prompt raised: apologize" in text, text
    assert not guard.attempts(), guard.attempts()

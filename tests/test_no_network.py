"""No network: `callcoach analyze` and the widget playing a demo call open no internet
socket and look up no host name, in Python or in native code (see tests/netguard)."""

from __future__ import annotations

import json
import os
import re
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


_CONNECT = re.compile(r"connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\),.*?"
                      r"(?:inet_addr\(\"([\d.]+)\"\)|inet_pton\(AF_INET6, \"([0-9a-f:]+)\")")


@pytest.mark.slow
def test_with_a_team_store_the_widget_talks_to_it_and_nothing_else(central_db, tmp_path):
    """central_store set: the widget plays a call and sends it to the team store. Every
    internet connection any of its processes makes, native code included, goes to the
    configured host and port."""
    from callcoach.central.admin import init

    guard = NetGuard(tmp_path)
    if not guard.strace:
        pytest.skip("strace cannot trace here (ptrace not allowed): the native connections cannot be seen")
    init(central_db.admin_dsn)
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[settings]\ncentral_store = {json.dumps(central_db.dsn('desktop-PC0001', 'callcoach_desktop'))}\n")
    audio, rate = sf.read(DEMO, dtype="float32")
    call = tmp_path / "demo_start.wav"
    sf.write(str(call), audio[: 12 * rate], rate)
    # strace alone: the Python layer refuses every host name lookup, and psycopg looks the
    # configured host up in Python. Lookups that reach the network show as connect() too.
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CALLCOACH_POLICY_FILE": str(policy)}
    widget = subprocess.Popen(guard.command([sys.executable, "-m", "callcoach", "demo", "--call", str(call)]),
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and widget.poll() is None and not _sessions_on(central_db):
            time.sleep(0.2)
        os.killpg(widget.pid, signal.SIGINT)
        output = widget.communicate(timeout=60)[0]
    finally:
        if widget.poll() is None:
            os.killpg(widget.pid, signal.SIGKILL)
            widget.wait()
    assert _sessions_on(central_db) == 1, output
    connects = [line for line in guard.attempts() if "connect(" in line]
    parsed = [m for line in connects if (m := _CONNECT.search(line))]
    assert len(parsed) == len(connects), connects  # every connection understood
    targets = {(int(m.group(1)), m.group(2) or m.group(3)) for m in parsed}
    assert targets and targets <= {(central_db.server.port, "127.0.0.1"), (central_db.server.port, "::1")}, targets


def _sessions_on(db) -> int:
    return int(db.admin_sql("SELECT count(*) FROM callcoach.sessions"))

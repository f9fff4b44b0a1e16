"""The Linux bundle, as IT gets it: build_installer.py builds it, the tarball is unpacked,
and the BUILT program runs `doctor --json`, `analyze` on the demo call and the widget,
with no network (a network namespace without interfaces where `unshare -n` works, and the
socket trace of tests/netguard). About 1.5 minutes, most of it PyInstaller and gzip."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from callcoach import logs
from callcoach.paths import asset_path
from tests.netguard import NetGuard

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux bundle")]

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE_LIMIT = 250e6
READY_LIMIT_S = 3.0


def _offline() -> list[str]:
    """`unshare -n`: the command sees no network interface at all (needs root or user namespaces)."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    pytest.importorskip("PyInstaller", reason="the build extra is not installed: pip install -e '.[build]'")
    folder = tmp_path_factory.mktemp("bundle")
    build = subprocess.run([sys.executable, str(ROOT / "build_installer.py"), "--dist", str(folder / "dist"),
                            "--no-deb"], capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "biggest parts:" in build.stdout and "tiny.en speech model" in build.stdout
    archive, = (folder / "dist").glob("callcoach-*-linux-*.tar.gz")
    assert archive.stat().st_size <= ARCHIVE_LIMIT, f"{archive.stat().st_size / 1e6:.0f} MB"
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "unpacked", filter="tar")
    return folder / "unpacked" / "callcoach" / "callcoach"


def _run(guard: NetGuard, cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*_offline(), *guard.command(cmd)], env=guard.env(), capture_output=True, text=True,
                          timeout=300, **kwargs)


@pytest.mark.pulse
def test_built_doctor_passes_offline(bundle, pulse_server, fresh_settings, tmp_path):
    (fresh_settings / "policy.toml").write_text(
        '[settings]\nagent_device = "Test Microphone"\ncall_output = "Test Headset"\n')
    guard = NetGuard(tmp_path)
    result = _run(guard, [str(bundle), "doctor", "--json", "--tone"])  # the bundle's libpulse client too
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["bundle"] is True
    checks = {c["name"]: c for c in report["checks"]}
    assert {c["status"] for c in checks.values()} == {"ok"}, checks
    assert "help you today" in checks["transcription"]["details"]["heard"].lower()
    assert not guard.attempts(), guard.attempts()


def test_built_analyze_reads_the_demo_call_offline(bundle, tmp_path):
    guard = NetGuard(tmp_path)
    out = tmp_path / "session.json"
    result = _run(guard, [str(bundle), "analyze", str(asset_path("demo_call.flac")), "--json", str(out)])
    assert result.returncode == 0, result.stderr
    summary = json.loads(out.read_text())
    assert summary["schema"] == "callcoach.session.v1" and len(summary["utterances"]) >= 15
    kinds = [p["kind"] for p in summary["prompts"]]
    assert "apologize" in kinds and "escalate" in kinds, kinds
    assert not guard.attempts(), guard.attempts()


def test_built_widget_is_ready_within_3_s(bundle, tmp_path):
    """From launch to the widget shown with its event loop running (the log's "widget ready"
    line), `callcoach demo` from the bundle, offscreen."""
    guard = NetGuard(tmp_path)
    env = guard.env({**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    log = logs.log_path()
    launched = time.time()
    widget = subprocess.Popen([*_offline(), *guard.command([str(bundle), "demo"])], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (log.exists() and "widget ready" in log.read_text()):
            time.sleep(0.02)
        line = next((x for x in log.read_text().splitlines() if "widget ready" in x), "") if log.exists() else ""
        assert line, f"no 'widget ready' in the log; the widget's exit status: {widget.poll()}"
        os.killpg(widget.pid, signal.SIGINT)
        widget.communicate(timeout=60)
    finally:
        if widget.poll() is None:
            os.killpg(widget.pid, signal.SIGKILL)
            widget.wait()
    ready = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp() - launched
    print(f"launch to widget ready: {ready:.2f} s")
    assert ready <= READY_LIMIT_S, line
    assert widget.returncode == 0
    assert not guard.attempts(), guard.attempts()

"""Shared pytest fixtures."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Let plain `pytest` (not only `python -m pytest`) import the package from the checkout.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VIRTUAL_DEVICES = {"agent": "agent_mic", "customer": "call_audio"}
# The PulseAudio sink that feeds each device (play into it with paplay --device=SINK).
VIRTUAL_SINKS = {"agent_mic": "agentmic", "call_audio": "callaudio"}


def _portaudio_lists_virtual_devices() -> bool:
    from callcoach.audio import live
    from callcoach.errors import CallCoachError

    try:
        live.refresh_devices()  # pick up devices added since PortAudio started
        return set(VIRTUAL_DEVICES.values()) <= set(live.list_input_devices())
    except CallCoachError:
        return False


@pytest.fixture(scope="session")
def pulse_devices() -> dict[str, str]:
    """Virtual input devices {role: device name} backed by PulseAudio null sinks.

    Runs .ci/pulse-setup.sh when the devices are not there yet; skips the test when
    PulseAudio or PortAudio cannot provide them (e.g. a machine without pulseaudio).
    """
    missing = [tool for tool in ("pulseaudio", "pactl", "paplay") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"PulseAudio tools not installed: {', '.join(missing)}")
    sinks = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True)
    have_sinks = all(sink in sinks.stdout.split() for sink in VIRTUAL_SINKS.values())
    if not (have_sinks and _portaudio_lists_virtual_devices()):
        setup = subprocess.run(
            ["bash", str(ROOT / ".ci" / "pulse-setup.sh")],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHON": sys.executable},
        )
        if setup.returncode != 0:
            detail = (setup.stderr or setup.stdout).strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"virtual PulseAudio devices unavailable: {detail[0]}")
        if not _portaudio_lists_virtual_devices():
            pytest.skip("PortAudio does not list agent_mic/call_audio after pulse-setup.sh")
    return dict(VIRTUAL_DEVICES)


def pytest_configure(config):
    """Before any fixture, even a module-scoped one, runs: point every per-user folder at a
    private temporary one, so no test can touch the developer's own settings or sessions."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="callcoach-tests-"))
    for var, name in (("CALLCOACH_CONFIG_DIR", "config"), ("CALLCOACH_DATA_DIR", "data"),
                      ("CALLCOACH_LOG_DIR", "logs")):
        os.environ[var] = str(base / name)
    os.environ["CALLCOACH_POLICY_FILE"] = str(base / "config" / "policy.toml")


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path_factory, monkeypatch):
    """Every test gets empty user settings, no machine policy, an empty session store and its
    own log folder, never the developer's own."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("CALLCOACH_CONFIG_DIR", str(folder))
    monkeypatch.setenv("CALLCOACH_POLICY_FILE", str(folder / "policy.toml"))
    monkeypatch.setenv("CALLCOACH_DATA_DIR", str(tmp_path_factory.mktemp("data")))  # the session store
    monkeypatch.setenv("CALLCOACH_LOG_DIR", str(tmp_path_factory.mktemp("logs")))
    return folder

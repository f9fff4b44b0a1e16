"""`callcoach doctor`: run for real (real devices, model and sample), passing and failing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from callcoach import doctor
from callcoach.errors import CallCoachError
from callcoach.settings import Key, Settings


def _doctor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcoach", "doctor", *args], capture_output=True, text=True,
                          timeout=120)


def _checks(report: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


def _policy(folder, text: str) -> None:
    (folder / "policy.toml").write_text(text)


@pytest.mark.pulse
def test_healthy_desktop_passes_and_shows_where_settings_come_from(sound_server, fresh_settings):
    _policy(fresh_settings, '[settings]\nagent_device = "Test Microphone"\ncall_output = "Test Headset"\n'
                            '[locked]\nkeys = ["call_output"]\n')
    user = Settings()
    user.set(Key.PACE_HIGH, 200)
    user.save()
    result = _doctor("--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    checks = _checks(report)
    assert report["ok"] and report["schema"] == "callcoach.doctor.v1"
    assert {c["status"] for c in checks.values()} == {"ok"}, checks
    assert list(checks) == ["settings", "sound system", "devices", "open devices", "model", "transcription",
                            "session store", "team store", "log folder"]
    assert checks["team store"]["message"] == "off: sessions stay on this PC, nothing opens a network connection"
    devices = {(d["kind"], d["name"]): d["matches"] for d in checks["devices"]["details"]["devices"]}
    assert devices[("input", "Test Microphone")] == ["agent_device"]
    assert devices[("output", "Test Headset")] == ["call_output"]
    assert ("input", "Monitor of Test Headset") not in devices
    assert checks["devices"]["message"] == "microphone Test Microphone; call audio: what plays on Test Headset"
    server = "PipeWire" if sound_server.kind == "pipewire" else "PulseAudio"
    assert checks["sound system"]["message"].startswith(server)
    assert checks["transcription"]["details"]["words_matched"] >= 0.8
    assert "help you today" in checks["transcription"]["details"]["heard"].lower()
    assert os.environ["CALLCOACH_DATA_DIR"] in checks["session store"]["message"]
    assert os.environ["CALLCOACH_LOG_DIR"] in checks["log folder"]["message"]
    settings = report["settings"]
    assert settings["call_output"] == {"value": "Test Headset", "source": "policy", "locked": True}
    assert settings["agent_device"]["source"] == "policy" and not settings["agent_device"]["locked"]
    assert settings["pace_high"] == {"value": 200.0, "source": "user", "locked": False}
    assert settings["model"] == {"value": "tiny.en", "source": "default", "locked": False}


@pytest.mark.pulse
def test_a_configured_device_that_is_not_there_fails(sound_server, fresh_settings):
    _policy(fresh_settings, '[settings]\nagent_device = "Test Microphone"\ncall_output = "Jabra Link 380"\n')
    result = _doctor()
    assert result.returncode == 1, result.stdout
    lines = result.stdout.splitlines()
    failed = [line for line in lines if line.lstrip().startswith("FAIL")]
    assert failed == ["  FAIL  devices        no output named 'Jabra Link 380'; the outputs here: Test Headset, "
                      "Test Microphone feed",
                      "  FAIL  open devices   not checked: no devices"]
    assert lines[-1] == "2 problems: devices, open devices"
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.pulse
def test_nothing_chosen_uses_and_names_the_defaults(sound_server):
    checks = _checks(doctor.run_checks(Settings()))
    assert checks["devices"]["status"] == "ok"
    assert checks["devices"]["message"] == ("microphone Test Microphone (default); call audio: what plays on "
                                            "Test Headset (default output)")
    assert checks["open devices"]["status"] == "ok"


def test_without_a_sound_server_the_call_cannot_come_from_an_output(monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/no-server")
    checks = _checks(doctor.run_checks(Settings()))
    assert checks["sound system"]["status"] == "warn"
    assert "no PulseAudio or PipeWire server answered" in checks["sound system"]["message"]
    assert checks["devices"]["status"] == "fail"
    assert "what plays on an output cannot be captured" in checks["devices"]["message"]


def test_missing_portaudio_fails_the_audio_checks(monkeypatch):
    from callcoach.audio import live

    def no_portaudio():
        raise CallCoachError("PortAudio is not installed (libportaudio2); install it to use live devices")

    monkeypatch.setattr(live, "_sounddevice", no_portaudio)
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/no-server")  # PortAudio is all there is
    report = doctor.run_checks(Settings())
    checks = _checks(report)
    assert not report["ok"]
    assert checks["sound system"]["status"] == "fail" and "libportaudio2" in checks["sound system"]["message"]
    assert checks["devices"]["message"] == "not checked: no sound system"
    assert checks["model"]["status"] == "ok", "the other checks still run"


def test_a_model_that_does_not_load_fails_and_skips_the_sample(fresh_settings):
    _policy(fresh_settings, '[settings]\nmodel = "/opt/models/none"\n')
    checks = _checks(doctor.run_checks(Settings()))
    assert checks["model"]["status"] == "fail" and "model folder not found" in checks["model"]["message"]
    assert checks["transcription"]["message"] == "not checked: no model"


def test_a_bad_policy_fails_the_settings_check_naming_the_line(fresh_settings):
    _policy(fresh_settings, '[settings]\nprompt_budget = "five"\n')
    check = doctor._settings(Settings(), {})
    assert check.status == "fail" and ", line 2: prompt_budget must be int" in check.message


def test_a_storage_place_that_cannot_be_written_fails(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CALLCOACH_DATA_DIR", str(blocker))
    monkeypatch.setenv("CALLCOACH_LOG_DIR", str(blocker / "logs"))
    checks = _checks(doctor.run_checks(Settings()))
    assert checks["session store"]["status"] == "fail" and "not a folder" in checks["session store"]["message"]
    assert checks["log folder"]["message"].startswith(f"cannot create the log folder {blocker}")

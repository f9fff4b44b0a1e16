"""The machine policy: where it lives per OS, what it can lock, and what a bad one does."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from callcoach import settings as settings_module
from callcoach.settings import OPTIONS, Key, Settings, SettingsError, policy_path

# What IT can set and lock (issue 6): devices by name, the model, redaction, the storage
# place, thresholds (the pace band; every rule's thresholds live in the playbook) and the
# prompt budget.
USER = {"agent_device": "Built-in Microphone", "call_device": "Loopback", "model": "small.en",
        "redact": False, "session_folder": "/home/agent/sessions", "pace_low": 100.0, "pace_high": 220.0,
        "playbook": "/home/agent/mine.toml", "prompt_budget": 30}
POLICY = {"agent_device": "Jabra Evolve2", "call_device": "Softphone (loopback)", "model": "tiny.en",
          "redact": True, "session_folder": "/srv/callcoach/sessions", "pace_low": 130.0, "pace_high": 180.0,
          "playbook": "/etc/callcoach/playbook.toml", "prompt_budget": 5}


def _toml(value) -> str:
    return json.dumps(value)  # strings, numbers and booleans: JSON and TOML agree


def write_policy(path: Path, values: dict, locked: list[str]) -> None:
    lines = ["# CallCoach machine policy", "[settings]"]
    lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    lines += ["", "[locked]", f"keys = {_toml(locked)}"]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def paths(tmp_path):
    user = tmp_path / "user" / "settings.json"
    user.parent.mkdir()
    user.write_text(json.dumps(USER))
    return user, tmp_path / "policy.toml"


@pytest.mark.parametrize("platform, expected", [
    ("linux", "/etc/callcoach/policy.toml"),
    ("darwin", "/Library/Application Support/CallCoach/policy.toml"),
    ("win32", r"D:\ProgramData\CallCoach\policy.toml"),
])
def test_policy_lives_in_the_machine_wide_place(monkeypatch, platform, expected):
    monkeypatch.delenv("CALLCOACH_POLICY_FILE")
    monkeypatch.setenv("PROGRAMDATA", r"D:\ProgramData")
    monkeypatch.setattr(settings_module.sys, "platform", platform)
    assert str(policy_path()).replace("/", "\\" if platform == "win32" else "/") == expected


def test_locked_policy_values_win_over_the_users_and_cannot_be_changed(paths):
    user, policy = paths
    write_policy(policy, POLICY, list(POLICY))
    s = Settings(user, policy)
    assert not s.errors
    for key, value in POLICY.items():
        assert (s.get(key), s.source(key), s.locked(key)) == (value, "policy", True), key
        with pytest.raises(SettingsError, match="locked by the machine policy"):
            s.set(key, USER[key])
    s.set(Key.OPACITY, 0.8)  # what is not locked stays the user's
    s.save()
    assert json.loads(user.read_text())["prompt_budget"] == 30, "the user's own file is left as it was"
    assert Settings(user, policy).get(Key.PROMPT_BUDGET) == 5


def test_unlocked_policy_values_are_defaults_the_user_may_change(paths):
    user, policy = paths
    write_policy(policy, {"pace_high": 180.0, "show_transcript": False}, [])
    s = Settings(user, policy)
    assert s.get(Key.SHOW_TRANSCRIPT) is False and s.source(Key.SHOW_TRANSCRIPT) == "policy"
    s.set(Key.SHOW_TRANSCRIPT, True)  # allowed: not locked


def test_locking_without_a_value_pins_the_default(paths):
    user, policy = paths
    write_policy(policy, {}, ["redact", "model"])
    s = Settings(user, policy)
    assert s.get(Key.REDACT) is True and s.get(Key.MODEL) == OPTIONS[Key.MODEL].default
    assert s.source(Key.REDACT) == "default" and s.locked(Key.REDACT)
    assert s.get(Key.AGENT_DEVICE) == USER["agent_device"], "unlocked keys stay the user's"


def test_a_policy_that_cannot_be_read_runs_on_safe_defaults(paths, caplog):
    user, policy = paths
    policy.write_text('[settings]\nmodel = "tiny.en"\nprompt_budget = 5 5\n')
    with caplog.at_level(logging.WARNING, logger="callcoach.events"):
        s = Settings(user, policy)
    assert len(s.errors) == 1 and s.policy_errors == s.errors
    assert str(policy) in s.errors[0] and "line 3" in s.errors[0] and "safe defaults" in s.errors[0]
    assert "\n" not in s.errors[0]
    assert any("line 3" in r.getMessage() for r in caplog.records), "the error is logged"
    # Privacy keys fall back to their defaults, locked, whatever the user chose...
    assert s.get(Key.REDACT) is True and s.locked(Key.REDACT)
    assert s.get(Key.SESSION_FOLDER) == "" and s.locked(Key.SESSION_FOLDER)
    # ...and nothing else from the bad file applies; the user's other choices do.
    assert s.get(Key.PROMPT_BUDGET) == USER["prompt_budget"] and s.get(Key.MODEL) == USER["model"]


def test_bad_entries_are_named_by_line_and_the_rest_applies(paths):
    user, policy = paths
    policy.write_text("\n".join([
        "[settings]",
        'model = "tiny.en"',
        'prompt_budget = "five"',
        "pace_high = 900",
        'session_folder = "relative/folder"',
        "no_such_key = 1",
        "[locked]",
        'keys = ["model", "modle"]',
        "[setting]",
        "redact = false",
    ]) + "\n")
    s = Settings(user, policy)
    lines = {e.split(": ", 1)[0].rsplit(", ", 1)[-1] for e in s.policy_errors}
    assert lines == {"line 3", "line 4", "line 5", "line 6", "line 8", "line 9"}, s.policy_errors
    assert all(e.startswith(f"{policy}, line ") for e in s.policy_errors)
    assert any("unknown section [setting]" in e for e in s.policy_errors)
    assert s.get(Key.MODEL) == "tiny.en" and s.locked(Key.MODEL)
    assert s.get(Key.PROMPT_BUDGET) == USER["prompt_budget"], "a bad value is ignored, not half-applied"


def test_the_storage_place_setting_moves_the_session_store(paths, tmp_path, monkeypatch):
    from callcoach.store import SessionStore, default_store_path

    user, policy = paths
    folder = tmp_path / "shared" / "sessions"
    write_policy(policy, {"session_folder": str(folder)}, ["session_folder"])
    monkeypatch.setenv("CALLCOACH_CONFIG_DIR", str(user.parent))
    monkeypatch.setenv("CALLCOACH_POLICY_FILE", str(policy))
    assert default_store_path(Settings()) == folder / "sessions.db"
    SessionStore(default_store_path(Settings())).close()
    assert (folder / "sessions.db").exists()


def test_folder_settings_expand_the_home_and_variables(monkeypatch):
    monkeypatch.setenv("CC_TEST_ROOT", "/srv")
    assert settings_module.expand_path("$CC_TEST_ROOT/cc") == "/srv/cc"
    assert settings_module.validate("session_folder", "~/calls") == "~/calls"
    with pytest.raises(SettingsError, match="absolute folder path"):
        settings_module.validate("session_folder", "calls")

"""The option registry: precedence, locking, validation, persistence, corrupt files."""

from __future__ import annotations

import json
import os
import stat

import pytest

from callcoach.settings import OPTIONS, Key, Settings, SettingsError


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "user" / "settings.json", tmp_path / "policy.toml"


def test_defaults_then_user_then_policy(paths):
    user, policy = paths
    s = Settings(user, policy)
    assert s.get(Key.PACE_HIGH) == OPTIONS[Key.PACE_HIGH].default and s.source(Key.PACE_HIGH) == "default"
    s.set(Key.PACE_HIGH, 200)
    s.set(Key.MODEL, "small.en")
    s.save()
    policy.write_text('[settings]\nmodel = "tiny.en"\n[locked]\nkeys = ["model"]\n')
    again = Settings(user, policy)
    assert again.get(Key.PACE_HIGH) == 200.0 and again.source(Key.PACE_HIGH) == "user"
    assert again.get(Key.MODEL) == "tiny.en" and again.source(Key.MODEL) == "policy"
    assert again.locked(Key.MODEL) and not again.locked(Key.PACE_HIGH)
    with pytest.raises(SettingsError, match="locked"):
        again.set(Key.MODEL, "small.en")


def test_invalid_values_are_refused(paths):
    s = Settings(*paths)
    with pytest.raises(SettingsError):
        s.set(Key.OPACITY, 3.0)
    with pytest.raises(SettingsError):
        s.set(Key.PROMPT_BUDGET, "ten")
    with pytest.raises(SettingsError):
        s.set("no_such_thing", 1)


def test_saved_file_is_private(paths):
    user, policy = paths
    s = Settings(user, policy)
    s.set(Key.OPACITY, 0.8)
    s.save()
    assert stat.S_IMODE(os.stat(user).st_mode) == 0o600
    assert json.loads(user.read_text()) == {"opacity": 0.8}


def test_corrupt_user_file_is_reported_and_kept(paths):
    user, policy = paths
    user.parent.mkdir(parents=True)
    user.write_text("{ this is not json")
    s = Settings(user, policy)
    assert len(s.errors) == 1 and str(user) in s.errors[0] and "\n" not in s.errors[0]
    assert s.get(Key.OPACITY) == OPTIONS[Key.OPACITY].default
    s.set(Key.OPACITY, 0.7)
    s.save()
    backups = list(user.parent.glob("settings.bad-*.json"))
    assert backups and backups[0].read_text() == "{ this is not json", "the bad file is kept"


def test_bad_policy_runs_on_defaults_and_says_so(paths):
    user, policy = paths
    policy.write_text("[settings\nmodel = 3")
    s = Settings(user, policy)
    assert s.errors and "policy" in s.errors[0] and "line 1" in s.errors[0]
    assert s.get(Key.MODEL) == "tiny.en"


def test_wrong_typed_entries_are_ignored_one_by_one(paths):
    user, policy = paths
    user.parent.mkdir(parents=True)
    user.write_text(json.dumps({"opacity": "high", "pace_low": 100}))
    s = Settings(user, policy)
    assert s.get(Key.PACE_LOW) == 100.0
    assert s.get(Key.OPACITY) == OPTIONS[Key.OPACITY].default
    assert any("opacity" in e for e in s.errors)

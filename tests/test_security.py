"""Security, end to end: what a normal run writes, where, and who may read it; and that a
machine policy cannot be weakened by the user's settings.

The store's and the log's own permission tests are in tests/test_store.py and
tests/test_logs.py; "no network" is tests/test_no_network.py. Here the real command runs
with a fresh home folder, as a new user's first call would.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from callcoach.paths import asset_path
from tests import callgen
from tests.pii_call import CARD_CALL, planted_card

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DEMO = str(asset_path("demo_call.flac"))
APP_VARS = ("CALLCOACH_CONFIG_DIR", "CALLCOACH_DATA_DIR", "CALLCOACH_LOG_DIR")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _fresh_user(root: Path, app_dirs: bool) -> dict[str, str]:
    """The environment of a user who never ran CallCoach: an empty home and XDG folders,
    no machine policy; the app's folders either the platform's defaults or CALLCOACH_*."""
    env = {k: v for k, v in os.environ.items() if k not in APP_VARS and not k.startswith("XDG_")}
    home = root / "home"
    env["HOME"] = str(home)
    for var, name in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                      ("XDG_STATE_HOME", ".local/state"), ("XDG_CACHE_HOME", ".cache")):
        (home / name).mkdir(parents=True)
        env[var] = str(home / name)
    env["TMPDIR"] = str(root / "tmp")
    (root / "tmp").mkdir()
    env["CALLCOACH_POLICY_FILE"] = str(root / "etc" / "policy.toml")  # none
    if app_dirs:
        for var, name in zip(APP_VARS, ("config", "data", "logs")):
            env[var] = str(home / "callcoach" / name)
    return env


def _app_folders(env: dict[str, str]) -> list[Path]:
    """Where this environment's CallCoach keeps settings, sessions and logs (asked of it)."""
    code = ("from callcoach import logs, settings, store; "
            "print(settings.user_settings_path().parent); print(store.default_store_path(settings.Settings()).parent); "
            "print(logs.log_dir())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return [Path(line) for line in out.stdout.split()]


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize("app_dirs", [False, True], ids=["platform folders", "CALLCOACH_* folders"])
def test_a_normal_run_writes_only_into_the_app_folders_and_keeps_them_private(tmp_path, app_dirs):
    env = _fresh_user(tmp_path, app_dirs)
    folders = _app_folders(env)
    assert all(str(f).startswith(env["HOME"]) for f in folders), folders
    out = tmp_path / "out" / "session.json"
    out.parent.mkdir()
    before = _tree(tmp_path)
    result = subprocess.run([sys.executable, "-m", "callcoach", "analyze", DEMO, "--json", str(out)], env=env,
                            capture_output=True, text=True, timeout=300, cwd=ROOT,
                            preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stderr
    new = _tree(tmp_path) - before

    def ours(p: Path) -> bool:
        return p == out or any(p == f or f in p.parents for f in folders)

    def above_ours(p: Path) -> bool:  # a folder made on the way to one of ours (e.g. .../CallCoach)
        return p.is_dir() and any(p in f.parents for f in folders)

    stray = sorted(str(p.relative_to(tmp_path)) for p in new if not ours(p) and not above_ours(p))
    assert not stray, f"written outside the app's folders: {stray}"
    files = sorted(p for p in new if p.is_file())
    store = [p for p in files if p.name.startswith("sessions.db")]
    log = [p for p in files if p.name.startswith("callcoach.log")]
    assert store and log and out in files, [str(p.relative_to(tmp_path)) for p in files]
    assert not list((tmp_path / "tmp").iterdir()), "nothing left in the temporary folder"
    # Readable by this user only: the folders 0700, every file 0600, the --json output too.
    for folder in folders:
        if folder.exists():
            assert _mode(folder) == 0o700, (folder, oct(_mode(folder)))
    modes = {str(p.relative_to(tmp_path)): oct(_mode(p)) for p in files}
    assert all(mode == "0o600" for mode in modes.values()), modes
    for p in new:
        if above_ours(p):
            assert not _mode(p) & 0o022, f"{p} is writable by others"
    assert json.loads(out.read_text())["utterances"], "and the call was analyzed"


def _policy_run(tmp_path, wav: Path, policy: str | None) -> tuple[bytes, dict, bytes]:
    """analyze with the user's settings saying redact=false; returns the store's bytes, the
    stored session and the --json output."""
    root = tmp_path / ("policy" if policy else "no-policy")
    root.mkdir()
    env = _fresh_user(root, app_dirs=True)
    config = Path(env["CALLCOACH_CONFIG_DIR"])
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps({"redact": False}))
    if policy:
        Path(env["CALLCOACH_POLICY_FILE"]).parent.mkdir()
        Path(env["CALLCOACH_POLICY_FILE"]).write_text(policy)
    out = root / "session.json"
    result = subprocess.run([sys.executable, "-m", "callcoach", "analyze", str(wav), "--json", str(out)], env=env,
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    folder = Path(env["CALLCOACH_DATA_DIR"])
    data = b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.name.startswith("sessions.db"))
    code = "import json; from callcoach.settings import Settings; from callcoach.store import SessionStore, default_store_path; s = SessionStore(default_store_path(Settings())); " \
           "print(json.dumps(s.get(s.list_sessions()[0]['id'])))"
    stored = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                            cwd=ROOT)
    return data, json.loads(stored.stdout), out.read_bytes()


def test_a_locked_policy_keeps_redaction_on_whatever_the_user_chose(tmp_path):
    wav = tmp_path / "card.wav"
    callgen.render_call(CARD_CALL, wav)
    # Control: the user's redact=false is honoured without a policy, so the model heard the
    # card and the test below can see it if it leaks.
    data, stored, out = _policy_run(tmp_path, wav, None)
    assert planted_card(json.dumps(stored).encode()) and planted_card(out), "the card was heard and kept"
    data, stored, out = _policy_run(tmp_path, wav, '[settings]\nredact = true\n[locked]\nkeys = ["redact"]\n')
    assert b"pay my bill" in data and stored["utterances"], "the call is stored"
    assert not planted_card(data), "the card number reached the store's files"
    assert not planted_card(json.dumps(stored).encode()) and not planted_card(out)
    assert "[CARD]" in json.dumps(stored)

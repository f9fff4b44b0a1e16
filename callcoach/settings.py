"""Every option CallCoach has, in one registry, and where each value comes from.

Precedence: defaults < the user's settings file < the machine policy. A policy can also
lock keys, which the user then cannot change. A corrupt file never loses anything: the app
runs on the layers that did load, says what was wrong, and keeps a copy of the bad file
before it ever writes over it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import time
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable

from callcoach import hotkeys
from callcoach.errors import one_line


class Key(StrEnum):
    """Every setting's name. The values are the names in the settings and policy files, so
    a typo in code is an AttributeError at import, not a silent default at run time."""

    AGENT_NAME = "agent_name"
    AGENT_DEVICE = "agent_device"
    CALL_AUDIO = "call_audio"
    CALL_OUTPUT = "call_output"
    CALL_DEVICE = "call_device"
    MODEL = "model"
    COMPUTE_DEVICE = "compute_device"
    PACE_LOW = "pace_low"
    PACE_HIGH = "pace_high"
    PROMPT_BUDGET = "prompt_budget"
    PLAYBOOK = "playbook"
    REDACT = "redact"
    SESSION_FOLDER = "session_folder"
    HOTKEY = "hotkey"
    SHOW_TRANSCRIPT = "show_transcript"
    OPACITY = "opacity"
    COLLAPSED = "collapsed"
    WINDOW_GEOMETRY = "window_geometry"
    CENTRAL_STORE = "central_store"
    CENTRAL_LOGIN = "central_login"
    LIVE_BOARD = "live_board"
    LIVE_BOARD_NOTES = "live_board_notes"


@dataclass(frozen=True)
class Option:
    key: Key
    default: Any
    description: str
    check: Callable[[Any], bool] = lambda v: True  # extra validation beyond the type
    hint: str = ""  # what a valid value looks like, for error messages
    policy_only: bool = False  # IT's to set in the machine policy; a user's file cannot


def _between(lo: float, hi: float) -> Callable[[Any], bool]:
    return lambda v: lo <= v <= hi


OPTIONS: dict[Key, Option] = {o.key: o for o in [
    Option(Key.AGENT_NAME, "", "Your name or agent ID, as QA sees it (empty: your login name)"),
    Option(Key.AGENT_DEVICE, "", "Your headset microphone (input name; empty: the system's default microphone)"),
    Option(Key.CALL_AUDIO, "output", "Where the customer is heard: 'output' (what plays on an output) or 'input' "
           "(an input carries the call: a desk-phone tap, a virtual cable)", lambda v: v in ("output", "input"),
           "output or input"),
    Option(Key.CALL_OUTPUT, "", "The output the call plays on (empty: the default output, followed when it changes)"),
    Option(Key.CALL_DEVICE, "", "The input that carries the call, when call_audio is 'input'"),
    Option(Key.MODEL, "tiny.en", "Speech model: the bundled tiny.en, another faster-whisper model name, or a folder"),
    Option(Key.COMPUTE_DEVICE, "cpu", "Where the model runs", lambda v: v in ("cpu", "cuda"), "cpu or cuda"),
    Option(Key.PACE_LOW, 120.0, "Slowest comfortable agent pace (words per minute)", _between(60, 300), "60-300"),
    Option(Key.PACE_HIGH, 190.0, "Fastest comfortable agent pace (words per minute)", _between(60, 300), "60-300"),
    Option(Key.PROMPT_BUDGET, 10, "Non-critical prompts per call at most", _between(1, 50), "1-50"),
    Option(Key.PLAYBOOK, "", "Playbook file (empty: the built-in playbook)"),
    Option(Key.REDACT, True, "Redact card numbers and other personal data before anything is stored"),
    Option(Key.SESSION_FOLDER, "", "Folder for the session store (empty: the per-user data folder)",
           lambda v: not v or os.path.isabs(expand_path(v)), "an absolute folder path"),
    Option(Key.HOTKEY, "Ctrl+Shift+Space", "Start or stop a call from any program (system-wide shortcut)",
           hotkeys.valid, "like Ctrl+Shift+Space"),
    Option(Key.SHOW_TRANSCRIPT, True, "Show the live transcript pane"),
    Option(Key.OPACITY, 0.95, "Window opacity", _between(0.3, 1.0), "0.3-1.0"),
    Option(Key.COLLAPSED, False, "Show the window as a slim bar"),
    Option(Key.WINDOW_GEOMETRY, {}, "Window position and size per screen (kept by the widget)"),
    Option(Key.CENTRAL_STORE, "", "The team store: a PostgreSQL connection string (empty: sessions stay on this "
           "PC and nothing opens a network connection)", policy_only=True),
    Option(Key.CENTRAL_LOGIN, "", "Your own login to the team store, for QA review: libpq parameters "
           "(user=… sslcert=… sslkey=…) laid over central_store's server"),
    Option(Key.LIVE_BOARD, False, "Share each live call's status (mood, pace, talk share, the prompt on screen; no "
           "audio, no words) with the supervisors' live board in the team store", policy_only=True),
    Option(Key.LIVE_BOARD_NOTES, False, "With live_board: also share an escalation's handoff note (the customer's "
           "issue in their words) with the supervisor", policy_only=True),
]}


# What a policy file that cannot be read falls back to, whatever the user chose: these keys
# protect the calls' privacy, so the defaults (redaction on, the per-user folder) are locked.
SAFE_KEYS = (Key.REDACT, Key.SESSION_FOLDER)
POLICY_SECTIONS = ("settings", "locked")


def agent_name(settings: Settings) -> str:
    """The name calls are saved under for QA: the setting, else the login name."""
    import getpass

    name = str(settings.get(Key.AGENT_NAME) or "").strip()
    try:
        return name or getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "agent"


def expand_path(value: str) -> str:
    """A folder setting as written by IT: ~ and environment variables (%APPDATA%, $HOME) expanded."""
    return os.path.expanduser(os.path.expandvars(value))


class SettingsError(ValueError):
    """A value that cannot be set: wrong type, out of range, or locked by policy."""


def user_settings_path() -> Path:
    folder = os.environ.get("CALLCOACH_CONFIG_DIR")
    if not folder:
        from platformdirs import user_config_dir

        folder = user_config_dir("CallCoach", appauthor=False)
    return Path(folder) / "settings.json"


def policy_path() -> Path:
    override = os.environ.get("CALLCOACH_POLICY_FILE")
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "CallCoach" / "policy.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/CallCoach/policy.toml")
    return Path("/etc/callcoach/policy.toml")


def parse_key(name: object) -> Key:
    """The Key a file names; SettingsError for a name that is not a setting."""
    try:
        return Key(name)
    except ValueError:
        raise SettingsError(f"unknown setting {name!r}") from None


def validate(key: Key, value: Any) -> Any:
    """The value, converted where harmless (int -> float); SettingsError if it is wrong."""
    option = OPTIONS.get(key)
    if option is None:  # a name that came from outside the code: a file, a test
        raise SettingsError(f"unknown setting {key!r}")
    kind = type(option.default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingsError(f"{key} must be {kind.__name__}, not {type(value).__name__}")
    if not option.check(value):
        raise SettingsError(f"{key}={value!r} is out of range ({option.hint})")
    return value


class Settings:
    def __init__(self, user_path: Path | None = None, policy: Path | None = None):
        self.user_path = user_path or user_settings_path()
        self.policy_path = policy or policy_path()
        self.errors: list[str] = []  # one line each: what could not be loaded, and why
        self.policy_errors: list[str] = []  # those of them about the policy file (IT's to fix)
        self._user: dict[Key, Any] = {}
        self._policy: dict[Key, Any] = {}
        self._locked: set[Key] = set()
        self._user_file_bad = False
        self._load_policy()
        self._load_user()
        for problem in self.errors:
            logging.getLogger("callcoach.events").warning("settings: %s", problem)

    # -- reading -------------------------------------------------------------------------

    def get(self, key: Key) -> Any:
        if key in self._policy:
            return self._policy[key]
        if key in self._user and not self.locked(key):  # locked without a value: the default
            return self._user[key]
        return OPTIONS[key].default

    def source(self, key: Key) -> str:
        if key in self._policy:
            return "policy"
        return "user" if key in self._user and not self.locked(key) else "default"

    def locked(self, key: Key) -> bool:
        return key in self._locked

    def effective(self) -> dict[Key, tuple[Any, str]]:
        """{key: (value, where it came from)} for every option."""
        return {key: (self.get(key), self.source(key)) for key in OPTIONS}

    # -- writing -------------------------------------------------------------------------

    def set(self, key: Key, value: Any) -> None:
        option = OPTIONS.get(key)
        if option is not None and option.policy_only:
            raise SettingsError(f"{key} is set by the machine policy only ({self.policy_path})")
        if self.locked(key):
            raise SettingsError(f"{key} is locked by the machine policy ({self.policy_path})")
        self._user[key] = validate(key, value)

    def save(self) -> None:
        """Write the user's layer atomically, readable by the user only."""
        path = self.user_path
        path.parent.mkdir(parents=True, exist_ok=True)
        if self._user_file_bad and path.exists():
            shutil.copy2(path, path.with_suffix(f".bad-{time.strftime('%Y%m%d-%H%M%S')}.json"))
            self._user_file_bad = False
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._user, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)

    # -- loading -------------------------------------------------------------------------

    def _load_user(self) -> None:
        path = self.user_path
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            self._user_file_bad = True
            self.errors.append(f"{path}: unreadable settings ({one_line(exc)}); using defaults")
            return
        for name, value in data.items():
            try:
                key = parse_key(name)
                if OPTIONS[key].policy_only:
                    raise SettingsError(f"{key} is set by the machine policy only")
                self._user[key] = validate(key, value)
            except SettingsError as exc:
                self.errors.append(f"{path}: {exc}; ignored")

    def _load_policy(self) -> None:
        path = self.policy_path
        if not path.exists():
            return
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
            self._locked.update(SAFE_KEYS)  # the defaults of SAFE_KEYS, whatever the user chose
            self._policy_error(f"{path}: bad policy file ({one_line(exc)}); running on safe defaults "
                               "(redaction on, sessions in the per-user folder)")
            return
        for section in data:
            if section not in POLICY_SECTIONS or not isinstance(data[section], dict):
                shown = section if section.isprintable() else repr(section)  # one line, whatever the name
                self._policy_error(f"{path}, {_line_of(text, section)}: unknown section [{shown}] "
                                   "(a policy has [settings] and [locked]); ignored")
        settings, locked = data.get("settings", {}), data.get("locked", {})
        for name, value in settings.items() if isinstance(settings, dict) else ():
            try:
                key = parse_key(name)
                self._policy[key] = validate(key, value)
            except SettingsError as exc:
                self._policy_error(f"{path}, {_line_of(text, name)}: {exc}; ignored")
        keys = locked.get("keys", []) if isinstance(locked, dict) else []
        if not isinstance(keys, list):
            self._policy_error(f"{path}, {_line_of(text, 'keys')}: [locked] keys must be a list of setting names")
            keys = []
        for key in keys:
            if isinstance(key, str) and key in OPTIONS:  # keys = [[]] raised TypeError
                self._locked.add(Key(key))
            else:
                self._policy_error(f"{path}, {_line_of(text, key)}: cannot lock unknown setting {key!r}")

    def _policy_error(self, message: str) -> None:
        self.errors.append(message)
        self.policy_errors.append(message)


def _line_of(text: str, word: object) -> str:
    """'line N' of the first line that mentions `word` as a key, a [section] or a quoted name."""
    name = re.escape(str(word))
    pattern = re.compile(rf"""^\s*\[\s*{name}\s*\]|^\s*{name}\s*=|["']{name}["']""")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.search(line):
            return f"line {number}"
    return "line ?"

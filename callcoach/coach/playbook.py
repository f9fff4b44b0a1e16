"""The playbook: coaching rules as data (TOML) that QA and IT can edit.

Each rule names a trigger (`when.on`) and conditions over the coach's `Signals`
(callcoach/coach/signals.py); all must hold. `CONDITIONS` is the whole vocabulary, and names
the signals each condition reads. A key not in it, a value of the wrong type, a condition
reading a signal the coach does not give, or a kind not in DESIGN.md is an error that names
the file, the line and the key. A playbook that fails to load is replaced by the built-in
one (`assets/playbook.toml`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from callcoach.coach.events import Prompt
from callcoach.coach.signals import NAMES as SIGNAL_NAMES
from callcoach.coach.signals import Signals
from callcoach.errors import CallCoachError
from callcoach.paths import asset_path

KINDS = (
    "acknowledge_feelings", "apologize", "slow_down", "stay_calm", "positive_language",
    "offer_alternatives", "update_progress", "let_them_finish", "listen_more", "escalate",
    "set_boundary", "follow_up",
)
SEVERITIES = {"info": 0, "warning": 1, "critical": 2}
TRIGGERS = ("customer_utterance", "agent_utterance", "tick", "call_end")


@dataclass(frozen=True)
class Condition:
    kind: type | tuple  # the TOML value's type
    reads: tuple[str, ...]  # the Signals it reads: a name that is not one fails when a playbook loads
    test: Callable[[Signals, Any], bool]
    explain: Callable[[Signals, Any], str]  # the `because` text when it held


_QUOTED = ("speaker", "text", "evidence")  # what _quote reads


def _quote(s: Signals, value=None) -> str:
    """The words that triggered a cue if we know them, else the (shortened) utterance."""
    heard = [s.evidence[c] for c in (value if isinstance(value, list) else []) if c in s.evidence]
    text = "; ".join(dict.fromkeys(heard)) or s.text or ""
    return f'{s.speaker} said "{text if len(text) <= 90 else text[:87] + "..."}"'


def _n(x: Any, spec: str = "g") -> str:
    """A signal's value as text; a rule may match while a value is still unknown (None)."""
    return "unknown" if x is None else format(x, spec)


def _any_of(signal: str) -> Condition:
    """A list of names, any of which is in the signal's set."""
    return Condition(list, (signal, *_QUOTED), lambda s, v: bool(getattr(s, signal) & set(v)), _quote)


def _limit(signal: str, label: str, unit: str = "") -> Callable[[Signals, Any], str]:
    return lambda s, v: f"{label} {_n(getattr(s, signal))}{unit} (limit {v:g}{unit})"


_NUMBER = (int, float)

CONDITIONS: dict[str, Condition] = {
    "customer_cues_any": _any_of("customer_cues"),
    "agent_cues_any": _any_of("agent_cues"),
    "agent_acts_any": _any_of("agent_acts"),
    "upset": Condition(bool, ("upset", *_QUOTED), lambda s, v: s.upset == v, _quote),
    "anger_at_least": Condition(_NUMBER, ("anger",), lambda s, v: s.anger >= v, _limit("anger", "anger")),
    "mood_state_in": Condition(list, ("mood_state", "mood"), lambda s, v: s.mood_state in v,
                               lambda s, v: f"customer mood {s.mood_state} ({s.mood:+.2f})"),
    "mood_at_most": Condition(_NUMBER, ("mood",), lambda s, v: s.mood <= v, _limit("mood", "mood")),
    "mood_trend": Condition(str, ("mood_trend",), lambda s, v: s.mood_trend == v, lambda s, v: f"customer mood {v}"),
    "agent_wpm_above": Condition(_NUMBER, ("agent_wpm",), lambda s, v: (s.agent_wpm or 0) > v,
                                 _limit("agent_wpm", "agent wpm", " wpm")),
    "agent_pace_above_band": Condition(
        bool, ("agent_wpm", "agent_pace_band_high"), lambda s, v: ((s.agent_wpm or 0) > s.agent_pace_band_high) == v,
        lambda s, v: f"agent pace {_n(s.agent_wpm)} wpm, {'above' if v else 'within'} the "
                     f"{s.agent_pace_band_high:g} wpm band",
    ),
    "agent_wpm_over_baseline_pct": Condition(
        _NUMBER, ("agent_wpm", "agent_baseline"),
        lambda s, v: bool(s.agent_wpm and s.agent_baseline) and s.agent_wpm > s.agent_baseline * (1 + v / 100),
        lambda s, v: f"agent pace {s.agent_wpm:g} wpm, {v:g}% over their own {s.agent_baseline:g} wpm",
    ),
    "dead_air_at_least_s": Condition(_NUMBER, ("dead_air_s",), lambda s, v: s.dead_air_s >= v,
                                     lambda s, v: f"{s.dead_air_s:.0f} s of silence"),
    "hold_announced": Condition(bool, ("hold_announced", "hold_phrase"), lambda s, v: s.hold_announced == v,
                                lambda s, v: f'after "{s.hold_phrase}"' if v else "no hold announced"),
    "agent_talkovers_at_least": Condition(
        int, ("agent_talkovers",), lambda s, v: s.agent_talkovers >= v,
        lambda s, v: f"agent talked over the customer {s.agent_talkovers} times in the last minute"),
    "agent_talk_share_above": Condition(_NUMBER, ("agent_talk_share",), lambda s, v: (s.agent_talk_share or 0) > v,
                                        lambda s, v: f"agent talk share {_n(s.agent_talk_share, '.0%')}"),
    "customer_raised_db_at_least": Condition(
        _NUMBER, ("customer_raised_db",), lambda s, v: (s.customer_raised_db or 0) >= v,
        lambda s, v: f"customer {_n(s.customer_raised_db, '+.0f')} dB louder than usual"),
    "agent_raised_db_at_least": Condition(
        _NUMBER, ("agent_raised_db",), lambda s, v: (s.agent_raised_db or 0) >= v,
        lambda s, v: f"agent {_n(s.agent_raised_db, '+.0f')} dB louder than usual"),
    "attempts_at_least": Condition(int, ("attempts",), lambda s, v: s.attempts >= v,
                                   lambda s, v: f"{s.attempts} attempts to help so far"),
    "upset_count_at_least": Condition(int, ("upset_count",), lambda s, v: s.upset_count >= v,
                                      lambda s, v: f"{s.upset_count} upset customer turns in the last 2 minutes"),
    "escalated": Condition(bool, ("escalated",), lambda s, v: s.escalated == v, lambda s, v: ""),
}


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    severity: str
    title: str
    message: str
    phrase: str
    tactic: str
    cooldown_s: float
    priority: int
    on: str
    conditions: tuple[tuple[str, Any], ...]

    def matches(self, signals: Signals) -> bool:
        return all(CONDITIONS[name].test(signals, value) for name, value in self.conditions)

    def because(self, signals: Signals) -> str:
        conditions = self.conditions
        if any(name.endswith("_cues_any") for name, _ in conditions):
            # The cue's own words say it better than the whole upset utterance.
            conditions = tuple(c for c in conditions if c[0] != "upset")
        parts = [CONDITIONS[name].explain(signals, value) for name, value in conditions]
        return "; ".join(dict.fromkeys(p for p in parts if p))  # once each, in order

    def prompt(self, *, t: float, because: str, latency_s: float | None, handoff: str | None = None,
               from_partial: bool = False) -> Prompt:
        """The prompt this rule raises at call time `t`; the scheduler gives it its id when it shows."""
        return Prompt(id=0, t=t, kind=self.kind, severity=self.severity, title=self.title, message=self.message,
                      phrase=self.phrase, tactic=self.tactic, because=because, rule=self.id,
                      priority=self.priority, sticky=False, latency_s=latency_s, handoff=handoff,
                      from_partial=from_partial)


@dataclass(frozen=True)
class PolicySettings:
    """The prompt scheduler's limits (callcoach/coach/scheduler.py says how they combine)."""

    display_s: float = 15.0  # a prompt leaves the screen after this much call time
    replace_after_s: float = 5.0  # a better prompt replaces one seen at least this long
    spacing_s: float = 10.0  # never two non-critical prompts closer than this
    average_gap_s: float = 20.0  # non-critical prompts on average no more often than this
    burst: int = 2  # ... though a quiet stretch earns up to this many ahead of the average
    hold_s: float = 10.0  # what was said keeps its prompt waiting this long for room
    budget: int = 10  # non-critical prompts per call at most
    sticky_kinds: tuple[str, ...] = ("escalate",)  # stay until acted on


@dataclass(frozen=True)
class Playbook:
    rules: tuple[Rule, ...]
    policy: PolicySettings = field(default_factory=PolicySettings)
    source: str = "built-in"
    version: int | str | None = None  # the file's `version` key, recorded with each session

    @property
    def origin(self) -> str:
        """Where the rules came from, as a session records it: "built-in" or the file's path
        (the built-in file's own path differs from one install to the next)."""
        return "built-in" if self.source in ("built-in", str(builtin_path())) else self.source


class PlaybookError(CallCoachError, ValueError):
    """One line: file, line and key of the first problem."""


_RULE_FIELDS = {
    "id": str, "kind": str, "severity": str, "title": str, "message": str, "phrase": str,
    "tactic": str, "cooldown_s": (int, float), "priority": int, "when": dict,
}
_POLICY_FIELDS = {"display_s": (int, float), "replace_after_s": (int, float), "spacing_s": (int, float),
                  "average_gap_s": (int, float), "burst": int, "hold_s": (int, float), "budget": int,
                  "sticky_kinds": list}
# Playbooks written for the old minimum-gap policy keep loading: its gap becomes the spacing.
_RENAMED_POLICY_FIELDS = {"min_gap_s": "spacing_s"}


def builtin_path() -> Path:
    return asset_path("playbook.toml")


def load_playbook(path: str | Path | None = None) -> tuple[Playbook, str | None]:
    """The playbook at `path` (default: built-in), or the built-in one and the reason why not."""
    if path is None:
        return parse_playbook(builtin_path().read_text(encoding="utf-8"), str(builtin_path())), None
    try:
        text = Path(path).read_text(encoding="utf-8")
        return parse_playbook(text, str(path)), None
    except (OSError, UnicodeDecodeError) as exc:
        error = f"{path}: cannot read playbook ({exc.__class__.__name__}: {exc})"
    except PlaybookError as exc:
        error = str(exc)
    builtin, _ = load_playbook(None)
    return builtin, f"{error}; using the built-in playbook"


def parse_playbook(text: str, source: str) -> Playbook:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError(f"{source}: {exc}") from None
    except RecursionError:  # tomllib recurses once per nested array or table
        raise PlaybookError(f"{source}: values nested too deeply to read") from None
    where = _Locator(text, source)
    unknown = set(data) - {"version", "policy", "rule"}
    if unknown:
        key = sorted(unknown)[0]
        raise PlaybookError(where.top(key, f"unknown section or key {key!r}"))
    policy = _parse_policy(data.get("policy", {}), where)
    rules = data.get("rule", [])
    if not isinstance(rules, list) or not rules:
        raise PlaybookError(f"{source}: no [[rule]] entries")
    parsed = tuple(_parse_rule(i, r, where) for i, r in enumerate(rules))
    ids = [r.id for r in parsed]
    for i, rule_id in enumerate(ids):
        if rule_id in ids[:i]:
            raise PlaybookError(where.rule(i, "id", f"duplicate rule id {rule_id!r}"))
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, (int, str))):
        raise PlaybookError(where.top("version", "version must be a whole number or a text"))
    return Playbook(parsed, policy, source, version)


def _parse_policy(table: dict, where: _Locator) -> PolicySettings:
    values = {}
    for key, value in table.items():
        field_name = _RENAMED_POLICY_FIELDS.get(key, key)
        if field_name not in _POLICY_FIELDS:
            raise PlaybookError(where.top(key, f"unknown policy key {key!r}"))
        if not _is(value, _POLICY_FIELDS[field_name]) or (key == "sticky_kinds" and not _names(value)):
            raise PlaybookError(where.top(key, f"policy.{key} has the wrong type"))
        if field_name in ("average_gap_s", "burst") and value <= 0:
            raise PlaybookError(where.top(key, f"policy.{key} must be above 0"))
        values[field_name] = tuple(value) if key == "sticky_kinds" else value
    return PolicySettings(**values)


def _parse_rule(i: int, rule: dict, where: _Locator) -> Rule:
    if not isinstance(rule, dict):
        raise PlaybookError(f"{where.source}: rule {i + 1} is not a table")
    for key, value in rule.items():
        if key not in _RULE_FIELDS:
            raise PlaybookError(where.rule(i, key, f"unknown key {key!r}"))
        if not _is(value, _RULE_FIELDS[key]):
            raise PlaybookError(where.rule(i, key, f"{key} has the wrong type"))
    for key in ("id", "kind", "severity", "title", "message", "when"):
        if key not in rule:
            raise PlaybookError(where.rule(i, None, f"rule {i + 1} lacks {key!r}"))
    if rule["kind"] not in KINDS:
        raise PlaybookError(where.rule(i, "kind", f"kind {rule['kind']!r} is not one of {', '.join(KINDS)}"))
    if rule["severity"] not in SEVERITIES:
        raise PlaybookError(where.rule(i, "severity", "severity must be info, warning or critical"))
    when = dict(rule["when"])
    on = when.pop("on", None)
    if on not in TRIGGERS:
        raise PlaybookError(where.rule(i, "on", f"when.on must be one of {', '.join(TRIGGERS)}"))
    for key, value in when.items():
        if key not in CONDITIONS:
            raise PlaybookError(where.rule(i, key, f"unknown condition {key!r}"))
        unknown = [name for name in CONDITIONS[key].reads if name not in SIGNAL_NAMES]
        if unknown:  # a condition the code got wrong: said now, not mid-call
            raise PlaybookError(where.rule(i, key, f"condition {key} reads {unknown[0]!r}, which is not a signal"))
        if not _is(value, CONDITIONS[key].kind) or (CONDITIONS[key].kind is list and not _names(value)):
            raise PlaybookError(where.rule(i, key, f"condition {key} has the wrong type"))
    return Rule(
        id=rule["id"], kind=rule["kind"], severity=rule["severity"], title=rule["title"],
        message=rule["message"], phrase=rule.get("phrase", ""), tactic=rule.get("tactic", ""),
        cooldown_s=float(rule.get("cooldown_s", 60)), priority=rule.get("priority", 50),
        on=on, conditions=tuple(when.items()),
    )


def _names(values: list) -> bool:
    """Lists in a playbook are lists of names (cues, acts, states, kinds)."""
    return all(isinstance(v, str) for v in values)


def _is(value: Any, kind: type | tuple) -> bool:
    if isinstance(value, bool) and kind is not bool and (kind is int or kind == (int, float)):
        return False  # TOML true is not a number
    return isinstance(value, kind)


class _Locator:
    """Finds the line of a key in the TOML text, for error messages (tomllib gives none)."""

    def __init__(self, text: str, source: str):
        self.source = source
        self.lines = text.splitlines()
        self.rule_starts = [n for n, line in enumerate(self.lines) if line.strip().startswith("[[rule]]")]

    def top(self, key: str, problem: str) -> str:
        return self._at(0, len(self.lines), key, problem)

    def rule(self, i: int, key: str | None, problem: str) -> str:
        start = self.rule_starts[i] if i < len(self.rule_starts) else 0
        end = self.rule_starts[i + 1] if i + 1 < len(self.rule_starts) else len(self.lines)
        return self._at(start, end, key, problem)

    def _at(self, start: int, end: int, key: str | None, problem: str) -> str:
        if key:
            pattern = re.compile(rf"(^|[{{,\s]){re.escape(key)}\s*=|^\s*\[.*\b{re.escape(key)}\]")
            for n in range(start, end):
                if pattern.search(self.lines[n]):
                    shown = key if key.isprintable() else repr(key)  # one line, whatever the name
                    return f"{self.source}, line {n + 1}, key {shown}: {problem}"
        return f"{self.source}, line {start + 1}: {problem}"

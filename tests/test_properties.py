"""Properties that must hold for any input (hypothesis): the playbook parser, the settings
and policy loaders, the sentiment scorer and the live-call redactor.

Each parser either gives a usable result or one line naming the file (a CallCoachError);
never another exception. More properties of the redactor and the scorer live next to their
other tests (tests/test_redact.py, tests/test_sentiment.py).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcoach.coach.coach import Coach
from callcoach.coach.playbook import CONDITIONS, KINDS, SEVERITIES, TRIGGERS, PlaybookError, builtin_path, parse_playbook
from callcoach.coach.sentiment import CUES, score
from callcoach.coach.signals import Signals
from callcoach.errors import CallCoachError
from callcoach.redact import StreamRedactor
from callcoach.settings import OPTIONS, Key, Settings, validate

SCALE = max(1, int(os.environ.get("CALLCOACH_FUZZ", "1")))  # as in tests/test_redact.py
SOURCE = "/home/qa/mine.toml"
BUILTIN = builtin_path().read_text(encoding="utf-8")


# --- TOML text from values ------------------------------------------------------------------


def _key(k: str) -> str:
    return json.dumps(k, ensure_ascii=False)  # a quoted key is always a valid key


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")  # JSON escapes are TOML's, DEL aside
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_document(top: dict, tables: dict, rules: list[dict]) -> str:
    lines = [f"{_key(k)} = {toml_value(v)}" for k, v in top.items()]
    for name, table in tables.items():
        lines.append(f"[{_key(name)}]")
        lines += [f"{_key(k)} = {toml_value(v)}" for k, v in table.items()]
    for rule in rules:
        lines.append("[[rule]]")
        lines += [f"{_key(k)} = {toml_value(v)}" for k, v in rule.items()]
    return "\n".join(lines) + "\n"


WORDS = st.sampled_from(sorted(CUES) + list(KINDS) + list(TRIGGERS) + list(SEVERITIES)
                        + ["calm", "frustrated", "angry", "worsening", "improving", "steady", "offer", "hold",
                           "escalating", "promise", "escalate"])
SCALARS = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(), st.text(max_size=12), WORDS)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)


def mostly(good, bad):
    """`good` three times in four: enough documents parse to test the parser's far side."""
    return st.integers(0, 99).flatmap(lambda x: good if x < 75 else bad)  # small numbers come first


# Values of the type each condition wants, most of the time.
TYPED = {list: st.lists(WORDS, max_size=3), bool: st.booleans(), str: WORDS,
         int: st.integers(-5, 200), (int, float): st.one_of(st.integers(-300, 300), st.floats(-300, 300))}


@st.composite
def condition_values(draw):
    name = draw(mostly(st.sampled_from(sorted(CONDITIONS)), st.text(max_size=8)))
    kind = CONDITIONS[name].kind if name in CONDITIONS else None
    value = draw(mostly(TYPED[kind], VALUES) if kind in TYPED else VALUES)
    return name, value


@st.composite
def rules(draw):
    rule = {"id": draw(st.text(min_size=1, max_size=8)), "kind": draw(st.sampled_from(KINDS)),
            "severity": draw(st.sampled_from(sorted(SEVERITIES))), "title": draw(st.text(max_size=20)),
            "message": draw(st.text(max_size=20)), "phrase": draw(st.text(max_size=10)),
            "tactic": draw(st.text(max_size=10)), "cooldown_s": draw(st.one_of(st.integers(0, 300), st.floats())),
            "priority": draw(st.integers(-10, 200)),
            "when": {"on": draw(st.sampled_from(TRIGGERS)), **dict(draw(st.lists(condition_values(), max_size=4)))}}
    broken = draw(mostly(st.just(set()), st.sets(st.sampled_from(sorted(rule)), min_size=1, max_size=2)))
    for key in broken:  # break a field or two
        if draw(st.booleans()):
            del rule[key]
        else:
            rule[key] = draw(VALUES)
    if draw(st.integers(0, 99)) >= 90:
        rule[draw(st.text(max_size=8))] = draw(VALUES)  # a key nobody knows
    return rule


POLICY = st.fixed_dictionaries({}, optional={
    "display_s": mostly(st.floats(), VALUES), "min_gap_s": st.integers(-5, 100), "spacing_s": st.integers(-5, 100),
    "average_gap_s": mostly(st.integers(-5, 60), VALUES), "burst": mostly(st.integers(-2, 5), VALUES),
    "budget": mostly(st.integers(-5, 50), VALUES), "sticky_kinds": mostly(st.lists(WORDS, max_size=2), VALUES)})
EXTRA_TABLES = mostly(st.just({}), st.dictionaries(st.text(max_size=6),
                                                   st.dictionaries(st.text(max_size=6), VALUES, max_size=2),
                                                   min_size=1, max_size=1))
DOCUMENTS = st.builds(lambda version, policy, extra, rs: toml_document(version, {"policy": policy, **extra}, rs),
                      st.fixed_dictionaries({}, optional={"version": VALUES}), POLICY, EXTRA_TABLES,
                      mostly(st.lists(rules(), min_size=1, max_size=3), st.lists(rules(), max_size=4)))


@st.composite
def damaged_builtin(draw):
    """The built-in playbook cut, with a piece removed, or with junk put in."""
    text = BUILTIN
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["cut", "delete", "insert"]))
        if action == "cut":
            text = text[:at]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 200)):]
        else:
            text = text[:at] + draw(st.one_of(st.text(max_size=20), st.sampled_from(
                ["[[rule]]\n", "]", "[", '"', "\n", " = ", "when = {", "[1, [2]]", "true", "-1", "nan"]))) + text[at:]
    return text


def _signal_sets() -> list[Signals]:
    """What the coach asks rules about: the start of a call (most values unknown), an
    upset customer line, an agent line, and a busy moment with every number set."""
    coach = Coach()
    sets = [coach._signals(0.0)]
    for role, text in (("customer", "this is ridiculous, I want your manager now, I've been waiting"),
                       ("agent", "calm down, there is nothing I can do, let me check one moment")):
        turn, s = coach._take_turn(role, 1.0, 3.0, text)
        sets.append(coach._signals(3.0, turn, s))
    busy = replace(sets[1], agent_wpm=250.0, agent_baseline=150.0, agent_talk_share=0.8, customer_raised_db=9.0,
                agent_raised_db=7.0, dead_air_s=15.0, agent_talkovers=3, attempts=4, upset_count=5, mood=-0.8,
                mood_state="angry", mood_trend="worsening", escalated=True, hold_announced=True)
    return sets + [busy]


SIGNALS = _signal_sets()


def _parses_or_names_the_file(text: str) -> None:
    try:
        playbook = parse_playbook(text, SOURCE)
    except PlaybookError as exc:
        assert isinstance(exc, CallCoachError)
        message = str(exc)
        assert message.startswith(SOURCE) and "\n" not in message, message
        return
    assert playbook.rules and playbook.source == SOURCE
    for rule in playbook.rules:  # what the coach does with every rule, on every kind of moment
        for signals in SIGNALS:
            if rule.matches(signals):
                assert isinstance(rule.because(signals), str)


@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_playbook_documents_parse_or_name_the_file(text):
    _parses_or_names_the_file(text)


@settings(max_examples=200 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_builtin())
def test_damaged_builtin_playbook_parses_or_names_the_file(text):
    _parses_or_names_the_file(text)


@settings(max_examples=200 * SCALE, deadline=None)
@given(st.text(max_size=400))
def test_any_text_as_a_playbook(text):
    _parses_or_names_the_file(text)


def test_the_generated_documents_do_parse_sometimes():
    """The strategies must reach the parser's far side too, or the property is hollow."""
    outcomes = set()

    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(DOCUMENTS)
    def probe(text):
        try:
            parse_playbook(text, SOURCE)
            outcomes.add("parsed")
        except PlaybookError:
            outcomes.add("refused")

    probe()
    assert outcomes == {"parsed", "refused"}


# --- settings and policy files --------------------------------------------------------------


SETTINGS_VALUES = st.dictionaries(st.one_of(st.sampled_from(sorted(OPTIONS)), st.text(max_size=8)), VALUES, max_size=6)


def _loads_safely(user_bytes: bytes | None, policy_bytes: bytes | None, tmp) -> Settings:
    user, policy = tmp / "settings.json", tmp / "policy.toml"
    for path, data in ((user, user_bytes), (policy, policy_bytes)):
        if path.exists():
            path.unlink()
        if data is not None:
            path.write_bytes(data)
    s = Settings(user, policy)
    for problem in s.errors:
        assert "\n" not in problem and (str(user) in problem or str(policy) in problem), problem
    for key, (value, _) in s.effective().items():
        assert validate(key, value) == value, key  # every effective value is a valid one
    return s


@settings(max_examples=200 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), SETTINGS_VALUES.map(lambda d: json.dumps(d).encode()),
                 st.text(max_size=200).map(str.encode)))
def test_any_settings_file_loads(tmp_path, data):
    s = _loads_safely(data, None, tmp_path)
    if data and not s.errors:
        assert all(s.source(k) == "user" for k in json.loads(data))


@settings(max_examples=200 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.binary(max_size=200),
    st.builds(lambda values, keys: toml_document({}, {"settings": values, "locked": {"keys": keys}}, []).encode(),
              SETTINGS_VALUES, st.one_of(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=3), VALUES)),
    st.builds(lambda top, tables: toml_document(top, tables, []).encode(),
              st.dictionaries(st.text(max_size=6), VALUES, max_size=2),
              st.dictionaries(st.sampled_from(["settings", "locked", "other"]),
                              st.dictionaries(st.text(max_size=8), VALUES, max_size=3), max_size=2)),
))
def test_any_policy_file_loads_and_never_weakens_redaction(tmp_path, data):
    user = json.dumps({"redact": False, "session_folder": "/home/agent/elsewhere"}).encode()
    s = _loads_safely(user, data, tmp_path)
    if any("bad policy file" in e for e in s.policy_errors):  # unreadable: privacy locked at its defaults
        assert s.get(Key.REDACT) is True and s.locked(Key.REDACT) and s.get(Key.SESSION_FOLDER) == ""
    elif s.locked(Key.REDACT):
        assert s.get(Key.REDACT) == s._policy.get(Key.REDACT, OPTIONS[Key.REDACT].default)


# --- sentiment and the live redactor --------------------------------------------------------


@settings(max_examples=300 * SCALE, deadline=None)
@given(st.text(), st.sampled_from(["customer", "agent"]))
def test_sentiment_is_deterministic_on_any_text(text, role):
    first = score(text, role)
    assert first == score(text, role)
    assert -1.0 <= first.score <= 1.0 and math.isfinite(first.score)


UTTERANCES = st.lists(st.tuples(st.sampled_from(["customer", "agent", "", "supervisor"]), st.text(max_size=60),
                                st.one_of(st.none(), st.floats(allow_nan=True))), max_size=12)


@settings(max_examples=300 * SCALE, deadline=None)
@given(UTTERANCES)
def test_stream_redactor_takes_any_call(utterances):
    on, off = StreamRedactor(), StreamRedactor(enabled=False)
    for speaker, text, at in utterances:
        assert isinstance(on.push(text, speaker, at), str)
        assert off.push(text, speaker, at) == text

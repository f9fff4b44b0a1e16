"""The coach's parts on events we script: playbook, policy, pace, dynamics, raised voice."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from callcoach.coach.coach import Coach, CoachSettings
from callcoach.coach.dynamics import Dynamics
from callcoach.coach.events import Prompt, PromptCleared, PromptWithheld
from callcoach.coach.pace import PaceTracker
from callcoach.coach.playbook import (CONDITIONS, KINDS, PlaybookError, PolicySettings, builtin_path, load_playbook,
                                      parse_playbook)
from callcoach.coach.scheduler import PromptScheduler
from callcoach.coach.signals import NAMES as SIGNAL_NAMES
from callcoach.engine.events import Activity, CallEnded, Level, Utterance, Watermark
from callcoach.engine.transcriber import Word

# -- playbook ------------------------------------------------------------------------------


def test_builtin_playbook_covers_every_kind():
    playbook, error = load_playbook()
    assert error is None
    assert {r.kind for r in playbook.rules} == set(KINDS)
    assert all(r.tactic and r.title and r.message for r in playbook.rules)


@pytest.mark.parametrize(
    "edit, line_has, key",
    [
        (('kind = "apologize"', 'kind = "grovel"'), 'kind = "grovel"', "kind"),
        (("cooldown_s = 120\ntitle = \"Apologize", 'cooldown_s = "soon"\ntitle = "Apologize'), "cooldown_s", "cooldown_s"),
        (("anger_at_least = 0.7", "angr_at_least = 0.7"), "angr_at_least", "angr_at_least"),
        (("budget = 10", "budget = true"), "budget = true", "budget"),
    ],
)
def test_invalid_playbook_names_file_line_and_key_and_falls_back(tmp_path, edit, line_has, key):
    text = builtin_path().read_text().replace(*edit, 1)
    bad = tmp_path / "mine.toml"
    bad.write_text(text)
    playbook, error = load_playbook(bad)
    assert str(bad) in error and f"key {key}" in error and "built-in" in error
    line = int(error.split(", line ")[1].split(",")[0])
    assert line_has in text.splitlines()[line - 1]
    assert playbook.source == str(builtin_path()), "the built-in playbook takes over"


def test_a_condition_reading_an_unknown_signal_fails_when_the_playbook_loads(tmp_path, monkeypatch):
    """A slip in a condition (a renamed Signals field) is found at load, not mid-call."""
    wrong = dataclasses.replace(CONDITIONS["anger_at_least"], reads=("angr",))
    monkeypatch.setitem(CONDITIONS, "anger_at_least", wrong)
    text = builtin_path().read_text()
    (tmp_path / "mine.toml").write_text(text)
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text, str(tmp_path / "mine.toml"))
    error = str(caught.value)
    assert error.startswith(f"{tmp_path / 'mine.toml'}, line ") and "key anger_at_least" in error and "'angr'" in error
    line = int(error.split(", line ")[1].split(",")[0])
    assert "anger_at_least" in text.splitlines()[line - 1]


def test_every_condition_reads_only_signals_and_answers_on_them():
    coach = Coach()
    turn, s = coach._take_turn("customer", 0.0, 2.0, "this is ridiculous, I want a manager")
    signals = dataclasses.replace(coach._signals(2.0, turn, s), agent_wpm=200.0, agent_baseline=150.0)
    for name, condition in CONDITIONS.items():
        assert set(condition.reads) <= SIGNAL_NAMES, name
        value = {list: ["angry"], bool: True, str: "worsening", int: 1}.get(condition.kind, 0.5)
        assert isinstance(condition.test(signals, value), bool), name
        assert isinstance(condition.explain(signals, value), str), name  # a rule explains only when it held


def test_broken_toml_and_missing_file(tmp_path):
    (tmp_path / "broken.toml").write_text("[[rule]\nid = 1")
    _, error = load_playbook(tmp_path / "broken.toml")
    assert "line 1" in error
    _, error = load_playbook(tmp_path / "missing.toml")
    assert "missing.toml" in error and "cannot read" in error


# -- the prompt scheduler -------------------------------------------------------------------


def _prompt(t, kind="apologize", severity="warning", priority=50) -> Prompt:
    return Prompt(id=0, t=t, kind=kind, severity=severity, title=kind, message="", phrase="", tactic="",
                  because="because", rule=kind, priority=priority, sticky=False)


def _shown(events) -> list[Prompt]:
    return [e for e in events if isinstance(e, Prompt)]


def _ticks(s, start, end, step=0.5):
    """Tick the scheduler from start to end; every event it emits, in order."""
    events, t = [], start
    while t <= end + 1e-9:
        events += s.tick(round(t, 2))
        t += step
    return events


ROOMY = dict(spacing_s=0, average_gap_s=1, burst=10, budget=10)  # only the screen limits


def test_one_prompt_at_a_time_a_better_one_replaces_it_after_5_s():
    s = PromptScheduler(PolicySettings(display_s=15, replace_after_s=5, **ROOMY))
    assert _shown(s.offer(_prompt(0, "listen_more", priority=40), 0, holds_until=10, said=True))
    assert not s.offer(_prompt(1, "slow_down", priority=30), 0, holds_until=11, said=True), "lower value waits"
    assert not s.offer(_prompt(2, "positive_language", priority=70), 0, holds_until=12, said=True), "seen only 2 s"
    events = _ticks(s, 2.5, 6)
    assert isinstance(events[0], PromptCleared) and events[0].reason == "replaced" and events[0].t == 5.0
    better = _shown(events)[0]
    assert better.kind == "positive_language" and better.t == 5.0
    assert better.held_s == 3.0 and better.held_for == "too_soon_to_replace"
    # slow_down's cause passed (held until 11 s) while positive_language was on screen.
    dropped = [e for e in _ticks(s, 6.5, 12) if isinstance(e, PromptWithheld)]
    assert [(d.kind, d.reason, d.fate, d.t) for d in dropped] == [("slow_down", "busy", "cause_passed", 1.0)]
    assert s.dropped == {"busy": 1} and s.held_back == 1


def test_a_critical_prompt_follows_another_critical_one_whatever_their_values():
    """An abusive line (set boundary, the higher priority), then a manager demand 9.7 s later
    as the agent answers: the escalation shows at once, not dropped as 'busy' when the agent
    speaks; one within replace_after_s waits that long, and the agent speaking does not drop it."""
    s = PromptScheduler(PolicySettings(display_s=15, replace_after_s=5, **ROOMY))
    assert _shown(s.offer(_prompt(10, "set_boundary", "critical", 110), 120, holds_until=20, said=True))
    escalate = _shown(s.offer(_prompt(19.7, "escalate", "critical", 100), 120, holds_until=29.7, said=True))
    assert [p.kind for p in escalate] == ["escalate"]
    s2 = PromptScheduler(PolicySettings(display_s=15, replace_after_s=5, **ROOMY))
    assert _shown(s2.offer(_prompt(10, "set_boundary", "critical", 110), 120, holds_until=20, said=True))
    assert not s2.offer(_prompt(12, "escalate", "critical", 100), 120, holds_until=22, said=True)
    assert s2.agent_spoke(12.5, 14.0) == [], "the customer still asked for the manager"
    shown = _shown(_ticks(s2, 12.5, 16))
    assert [(p.kind, p.t, p.held_for) for p in shown] == [("escalate", 15.0, "too_soon_to_replace")]


def test_a_better_prompt_replaces_the_card_on_screen_within_the_spacing():
    s = PromptScheduler(PolicySettings(display_s=15, replace_after_s=5, spacing_s=10, average_gap_s=1, burst=10))
    assert _shown(s.offer(_prompt(0, "acknowledge_feelings", priority=60), 0, holds_until=10, said=True))
    assert not s.offer(_prompt(2, "positive_language", priority=70), 0, holds_until=12, said=True)
    events = _ticks(s, 2.5, 6)
    assert [(type(e).__name__, e.t) for e in events] == [("PromptCleared", 5.0), ("Prompt", 5.0)], \
        "the agent's one card changes after 5 s: not a second card within 10 s"
    s.clear(7, "done")
    assert not s.offer(_prompt(8, "slow_down", priority=90), 0, holds_until=18, said=True), "a new card waits 10 s"
    assert [p.t for p in _shown(_ticks(s, 8.5, 16))] == [15.0]


def test_a_held_prompt_shows_as_soon_as_there_is_room():
    """The missed positive-language prompt: a dismissive line 24 s after another prompt."""
    s = PromptScheduler(PolicySettings(display_s=15, spacing_s=10, average_gap_s=20, burst=2, hold_s=10))
    assert _shown(s.offer(_prompt(0, "acknowledge_feelings", priority=60), 90, holds_until=10, said=True))
    assert _shown(s.offer(_prompt(24, "positive_language", priority=70), 60, holds_until=34, said=True)), \
        "24 s after a prompt is room enough (the old 30 s gap dropped it)"
    late = s.offer(_prompt(26, "offer_alternatives", "info", 45), 120, holds_until=36, said=True)
    assert not late, "the prompt on screen is worth more"
    shown = _shown(_ticks(s, 26.5, 40))
    assert shown == [], "it was not worth replacing it, and positive_language stays 15 s: past 36 s"
    assert s.dropped == {"busy": 1}


def test_spacing_and_average_rate_hold_routine_prompts_back():
    s = PromptScheduler(PolicySettings(display_s=3, spacing_s=10, average_gap_s=20, burst=2, hold_s=30))
    assert _shown(s.offer(_prompt(0, "apologize"), 0, holds_until=10, said=True))
    assert not s.offer(_prompt(4, "slow_down"), 0, holds_until=30, said=True), "within 10 s of the last"
    shown = _shown(_ticks(s, 4.5, 30))
    assert [(p.kind, p.t, p.held_for) for p in shown] == [("slow_down", 20.0, "rate")], \
        "10 s of spacing, then the average: one per 20 s (the last reason is the one recorded)"
    # A quiet minute earned credit (two prompts at most): 10 s apart until it is spent.
    assert _shown(s.offer(_prompt(80, "listen_more"), 0, holds_until=90, said=True))
    assert not s.offer(_prompt(82, "stay_calm"), 0, holds_until=120, said=True)
    assert not s.offer(_prompt(83, "offer_alternatives"), 0, holds_until=120, said=True)
    shown = _shown(_ticks(s, 82.5, 120))
    assert [(p.kind, p.t) for p in shown] == [("stay_calm", 90.0), ("offer_alternatives", 100.0)]
    assert not s.offer(_prompt(105, "slow_down"), 0, holds_until=140, said=True)
    assert [p.t for p in _shown(_ticks(s, 105.5, 140))] == [120.0], "spent: one per 20 s again"
    assert shown[1].held_for == "spacing" and s.held_back == 4


def test_critical_prompts_always_show_at_once():
    s = PromptScheduler(PolicySettings(display_s=15, spacing_s=10, average_gap_s=20, burst=1, budget=1))
    assert _shown(s.offer(_prompt(0, "apologize"), 0, holds_until=10, said=True))
    events = s.offer(_prompt(1, "set_boundary", "critical", 110), 0, holds_until=11, said=True)
    assert _shown(events)[0].kind == "set_boundary", "at once: over a young prompt, spacing, rate and budget"
    assert events[0].reason == "replaced"


def test_escalation_is_sticky_until_acted_on():
    s = PromptScheduler(PolicySettings(display_s=5, **ROOMY))
    shown = s.offer(_prompt(0, "escalate", "critical", 100), 0, holds_until=10, said=True)
    assert shown[-1].sticky
    assert not _shown(_ticks(s, 0.5, 300)), "an escalation never expires by itself"
    assert not s.offer(_prompt(300, "positive_language", priority=70), 0, holds_until=310, said=True)
    assert s.clear(302, "acted_on", kind="escalate")[0].reason == "acted_on"
    late = _shown(s.tick(302.5))
    assert late and late[0].kind == "positive_language" and late[0].held_for == "sticky"


def test_a_held_silence_prompt_lasts_while_the_silence_does():
    s = PromptScheduler(PolicySettings(display_s=15, spacing_s=10, average_gap_s=20, burst=2))
    assert _shown(s.offer(_prompt(0, "apologize"), 0, holds_until=10, said=True))
    events, t = [], 3.0
    while t <= 8.0:  # dead air from 3 s: offered every tick while it lasts
        events += s.tick(t) + s.offer(_prompt(t, "update_progress", "info"), 45, holds_until=t + 1.0, said=False)
        t += 0.5
    assert not _shown(events), "too soon after apologize"
    events = _ticks(s, 8.5, 20)  # the agent spoke at 8 s: no longer offered
    dropped = [e for e in events if isinstance(e, PromptWithheld)]
    assert [(d.kind, d.fate) for d in dropped] == [("update_progress", "cause_passed")] and not _shown(events)

    again = PromptScheduler(PolicySettings(display_s=15, spacing_s=10, average_gap_s=20, burst=2))
    again.offer(_prompt(0, "apologize"), 0, holds_until=10, said=True)
    events, t = [], 3.0
    while t <= 22.0:  # this time the silence goes on
        events += again.tick(t) + again.offer(_prompt(t, "update_progress", "info"), 45, holds_until=t + 1.0, said=False)
        t += 0.5
    shown = _shown(events)
    assert [(p.kind, p.t) for p in shown] == [("update_progress", 20.0)] and shown[0].held_s == 17.0, \
        "shown once the second prompt of the call is due (one per 20 s)"


def test_advice_on_a_line_lapses_once_the_agent_has_spoken_again():
    """An empathy prompt held behind another must not turn up after the agent has replied."""
    s = PromptScheduler(PolicySettings(display_s=15, **ROOMY))
    s.offer(_prompt(0, "apologize", priority=65), 0, holds_until=10, said=True)
    s.offer(_prompt(4, "acknowledge_feelings", priority=60), 0, holds_until=14, said=True)  # customer line
    s.offer(_prompt(5, "update_progress", "info"), 0, holds_until=6, said=False)  # a condition: not a line
    assert s.agent_spoke(3.0, 4.5) == [], "a line the agent began before the advice was raised"
    [lapsed] = s.agent_spoke(5.0, 9.0)  # the agent's reply
    assert (lapsed.kind, lapsed.fate, lapsed.until) == ("acknowledge_feelings", "agent_spoke", 9.0)


def test_a_cooling_kind_is_not_repeated_or_recorded():
    s = PromptScheduler(PolicySettings(display_s=2, **ROOMY))
    assert _shown(s.offer(_prompt(0, "apologize"), 60, holds_until=10, said=True))
    assert not s.offer(_prompt(20, "apologize"), 60, holds_until=30, said=True)
    assert not [e for e in _ticks(s, 20, 40) if isinstance(e, (Prompt, PromptWithheld))]
    assert s.dropped == {}


def test_what_is_held_at_the_end_of_the_call_is_recorded():
    s = PromptScheduler(PolicySettings(display_s=15, **ROOMY))
    s.offer(_prompt(0, "escalate", "critical", 100), 0, holds_until=10, said=True)
    s.offer(_prompt(1, "acknowledge_feelings", priority=60), 0, holds_until=11, said=True)
    [withheld] = s.end(2.0)
    assert (withheld.kind, withheld.reason, withheld.fate, withheld.until) == \
        ("acknowledge_feelings", "sticky", "call_ended", 2.0)


def test_old_playbooks_with_a_minimum_gap_still_load(tmp_path):
    old = builtin_path().read_text().replace("spacing_s = 10 ", "min_gap_s = 30 ", 1)
    assert "min_gap_s = 30" in old
    mine = tmp_path / "old.toml"
    mine.write_text(old)
    playbook, error = load_playbook(mine)
    assert error is None and playbook.policy.spacing_s == 30


# -- pace and dynamics ---------------------------------------------------------------------


def _words(start, n, per_word):
    return [Word(f"w{i}", start + i * per_word, start + (i + 1) * per_word - 0.05, 1.0) for i in range(n)]


def test_pace_counts_pauses_inside_utterances_not_between():
    pace = PaceTracker(window_s=60, min_words=10)
    pace.add(_words(0, 20, 0.25))  # 20 words in 5 s: 240 wpm
    pace.add(_words(30, 20, 0.25))  # 25 s of listening in between does not slow it
    assert pace.at(35).wpm == pytest.approx(240, rel=0.02)


def test_pace_baseline_is_earlier_in_the_call():
    pace = PaceTracker(window_s=20, min_words=10, baseline_min_words=20)
    pace.add(_words(0, 30, 0.4))  # 150 wpm early on
    pace.add(_words(60, 30, 0.25))  # 240 wpm now
    now = pace.at(68)
    assert now.baseline == pytest.approx(150, rel=0.03) and now.wpm == pytest.approx(240, rel=0.03)


def test_dynamics_talk_share_backchannels_and_dead_air():
    d = Dynamics()
    d.activity("customer", 0.0, True)
    d.activity("agent", 2.0, True)  # "uh-huh": 0.5 s over the customer
    d.level("agent", 2.4, -20)
    d.activity("agent", 2.5, False)
    d.activity("agent", 5.0, True)  # talks over for 2 s: a real talk-over
    for t in (5.5, 6.0, 6.5, 7.0):
        d.level("agent", t, -20)
    d.activity("customer", 7.0, False)
    d.activity("agent", 10.0, False)
    assert [(o.interrupter, o.t) for o in d.talkovers] == [("agent", 5.0)]
    assert d.talk_share("agent") == pytest.approx(5.5 / 12.5, abs=0.01)
    d.level("customer", 18.0, -90)
    assert d.dead_air() == pytest.approx(8.0)
    d.activity("customer", 19.0, True)
    assert d.dead_air() == 0 and d.dead_air_total() == pytest.approx(9.0)


def test_raised_voice_is_relative_to_the_speakers_own_level():
    d = Dynamics(level_baseline_s=4.0)
    d.activity("customer", 0.0, True)
    t = 0.0
    for _ in range(40):  # 4 s at -30 dB: the baseline
        t += 0.1
        d.level("customer", t, -30.0)
    assert d.raised_voice("customer") == pytest.approx(0.0, abs=0.5)
    for _ in range(20):  # now 10 dB louder
        t += 0.1
        d.level("customer", t, -20.0)
    assert d.raised_voice("customer") == pytest.approx(10.0, abs=0.5)


def test_a_pause_inside_the_loud_turn_does_not_hide_it():
    d = Dynamics(level_baseline_s=4.0)
    d.activity("customer", 0.0, True)
    for i in range(40):  # the baseline, with a breath now and then as real speech has
        d.level("customer", 0.1 * (i + 1), -90.0 if i % 8 == 7 else -30.0)
    assert d.raised_voice("customer") == pytest.approx(0.0, abs=0.5)
    d.activity("customer", 4.0, False)
    d.activity("customer", 4.05, True)  # the next turn, 16 dB louder
    loud = [-14.0, -14.0, -90.0, -90.0, -90.0, -14.0, -14.0, -14.0, -14.0, -14.0]  # "The router is | in the..."
    for i, db in enumerate(loud):
        d.level("customer", 4.1 + 0.1 * i, db)
    assert d.raised_voice("customer") == pytest.approx(16.0, abs=0.5), "at the tenth level, pause or not"


# -- the coach on scripted events ----------------------------------------------------------


def _utterance(role, start, text, wpm=150):
    n = len(text.split())
    per = 60 / wpm
    words = tuple(Word(w, start + i * per, start + (i + 1) * per, 1.0) for i, w in enumerate(text.split()))
    return Utterance(role, start, start + n * per, text, words, wpm, None)


def _drive(coach, events, until):
    """Feed events in time order with levels every 100 ms and a watermark behind them."""
    timeline = sorted(events, key=lambda e: getattr(e, "t", getattr(e, "end", 0)))
    speaking = {"agent": False, "customer": False}
    t = 0.0
    i = 0
    while t <= until:
        while i < len(timeline) and getattr(timeline[i], "t", getattr(timeline[i], "end", 0)) <= t:
            e = timeline[i]
            if isinstance(e, Activity):
                speaking[e.role] = e.speaking
            coach(e)
            i += 1
        for role in speaking:
            coach(Level(role, t, -20.0 if speaking[role] else -90.0))
        coach(Watermark(t))
        t = round(t + 0.1, 1)
    coach(CallEnded(until))


def test_coach_raised_voice_prompts_stay_calm():
    got = []
    coach = Coach()
    coach.subscribe(got.append)
    events = [Activity("customer", 1.0, True), Activity("customer", 30.0, False)]
    _drive(coach, events, 10.0)  # levels are -20 dB throughout: no change, no prompt
    assert not [e for e in got if isinstance(e, Prompt) and e.kind == "stay_calm"]

    got.clear()
    coach = Coach()
    coach.subscribe(got.append)
    coach(Activity("customer", 0.0, True))
    for i in range(1, 200):
        t = i / 10
        coach(Level("customer", t, -30.0 if t < 10 else -18.0))
        coach(Watermark(t))
    calm = [e for e in got if isinstance(e, Prompt) and e.kind == "stay_calm"]
    assert calm and 10 < calm[0].t < 13 and "louder than usual" in calm[0].because


def test_coach_update_progress_after_hold_and_acted_on_when_agent_speaks():
    got = []
    coach = Coach()
    coach.subscribe(got.append)
    hold = _utterance("agent", 2.0, "let me check that for you one moment")
    events = [Activity("agent", 2.0, True), Activity("agent", hold.end, False), hold,
              Activity("agent", 20.0, True), _utterance("agent", 20.0, "thanks for waiting I found it"),
              Activity("agent", 22.0, False)]
    _drive(coach, events, 25.0)
    prompts = [e for e in got if isinstance(e, Prompt)]
    assert prompts[0].kind == "update_progress" and prompts[0].t == pytest.approx(hold.end + 12, abs=0.6)
    cleared = [e for e in got if isinstance(e, PromptCleared) and e.id == prompts[0].id]
    assert cleared and cleared[0].reason == "acted_on"


def test_pace_band_comes_from_settings():
    fast = [_utterance("agent", 10 * i, "we can sort that out for you today no problem at all", wpm=180)
            for i in range(4)]
    for band, expect in (((120, 190), False), ((100, 170), True)):
        got = []
        coach = Coach(settings=CoachSettings(pace_band=band))
        coach.subscribe(got.append)
        _drive(coach, fast, 45.0)
        assert any(isinstance(e, Prompt) and e.kind == "slow_down" for e in got) == expect


def test_explain_command():
    out = subprocess.run([sys.executable, "-m", "callcoach", "explain", "--role", "customer",
                          "I want to speak to your manager"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) >= {"role", "text", "sentiment", "upset", "kinds"}
    assert result["upset"] is True and result["kinds"][0] == "escalate" and -1 <= result["sentiment"] < 0
    agent = json.loads(subprocess.run(
        [sys.executable, "-m", "callcoach", "explain", "--role", "agent", "I'm sorry this upset you"],
        capture_output=True, text=True, timeout=60).stdout)
    assert agent["sentiment"] >= 0 and agent["upset"] is False and agent["kinds"] == []


@pytest.mark.parametrize("line, hold", [
    ("Let me check that for you, one moment please.", True),
    ("Let me run another test on the line now, it takes a minute.", True),  # an unseen call's hold
    ("This might take a few minutes.", True),
    ("That takes a minute to explain, but the refund is done.", False),
    ("I can run you through the options.", False),
])
def test_a_hold_announcement_lets_the_silence_run_longer(line, hold):
    from callcoach.coach.acts import acts

    assert ("hold" in acts(line)) is hold

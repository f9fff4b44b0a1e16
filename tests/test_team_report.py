"""The team report as a supervisor reads it: calls kept in a real session store (by the real
StoreWriter and SessionRecorder, and a real call through the model), the figures per agent
and in total, the not-helpful rate next to each rule with links to example calls that open,
and `callcoach team-report` with its agent and date filters."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from callcoach.coach.events import CallSummary, CoachSetup, Feedback, Prompt, PromptCleared, ScoredUtterance
from callcoach.engine.events import CallEnded, Utterance
from callcoach.report.team import NO_AGENT, Selection, team_figures
from callcoach.report.team_files import store_sessions, write_team_report
from callcoach.settings import Settings
from callcoach.store import SessionStore, StoreWriter, default_store_path

APOLOGIZE, SLOW_DOWN = "apologize_when_upset", "slow_down_when_fast"


class _TeamPage(HTMLParser):
    """Per section: its rule rows (cells by class, example links) and its agent rows."""

    def __init__(self, page: str):
        super().__init__()
        self.rules: dict[str, dict[str, dict]] = {}  # section id -> rule -> {"cells": {...}, "links": [...]}
        self.agents: dict[str, dict[str, str]] = {}  # agent -> cells by class
        self._section = self._row = self._cell = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = a.get("id")
        elif tag == "tr" and a.get("data-rule") is not None:
            self._row = self.rules.setdefault(self._section, {})[a["data-rule"]] = {"cells": {}, "links": []}
        elif tag == "tr" and a.get("data-agent") is not None:
            self._row = {"cells": {}, "links": []}
            self.agents[a["data-agent"]] = self._row["cells"]
        elif tag == "td" and self._row is not None:
            self._cell = (a.get("class") or "").split()[-1]
            self._row["cells"][self._cell] = ""
        elif tag == "a" and self._row is not None:
            self._row["links"].append(a["href"])

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = self._cell = None
        elif tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._row is not None and self._cell:
            self._row["cells"][self._cell] += data


def _prompt(pid: int, t: float, rule: str, kind: str) -> Prompt:
    return Prompt(id=pid, t=t, kind=kind, severity="warning", title=kind.replace("_", " "), message="",
                  phrase="", tactic="", because="", rule=rule, priority=5, sticky=False)


def _call(store: SessionStore, agent: str, day: str, *, moods: tuple[float, ...], escalated: bool,
          agent_wpm: tuple[float, ...], prompts: list[tuple[str, str, str | None]]) -> str:
    """A finished call through the real StoreWriter: customer lines with `moods`, agent lines
    at `agent_wpm` (10 s each), and prompts (rule, kind, what happened: "done",
    "not_helpful", "acted_on" or None)."""
    writer = StoreWriter(store, meta={"agent": agent, "started_at": f"{day}T10:00:00+00:00"})
    writer(CoachSetup((120.0, 180.0), "built-in", 1))
    t = 0.0
    for mood, wpm in zip(moods, agent_wpm):
        writer(Utterance("agent", t, t + 10.0, "let me look into that for you", (), wpm, None))
        writer(Utterance("customer", t + 10.0, t + 14.0, "it is about my order", (), 150.0, None))
        writer(ScoredUtterance("customer", t + 10.0, t + 14.0, mood, mood <= -0.25))
        t += 15.0
    for pid, (rule, kind, outcome) in enumerate(prompts, start=1):
        writer(_prompt(pid, 2.0 + pid, rule, kind))
        if outcome in ("done", "not_helpful"):
            writer(Feedback(pid, 4.0 + pid, outcome))
        writer(PromptCleared(pid, 5.0 + pid, outcome or "expired"))
    writer(CallEnded(t))
    writer(CallSummary({"escalated": escalated, "customer_sentiment": {
        "start": moods[0], "end": moods[-1], "min": min(moods)}}, None, ()))
    writer.close()
    assert not writer.errors, writer.errors
    return writer.id


@pytest.fixture
def team_store(tmp_path):
    """Three calls: jordan's escalated one with an upset customer who calmed down, jordan's
    upset customer who did not, and sam's calm call."""
    store = SessionStore(tmp_path / "sessions.db")
    ids = {
        "jordan-1": _call(store, "jordan", "2025-03-10", moods=(-0.6, -0.3, -0.1), escalated=True,
                          agent_wpm=(150, 210, 150),  # 10 s of 30 off pace
                          prompts=[(APOLOGIZE, "apologize", "done"), (SLOW_DOWN, "slow_down", "not_helpful")]),
        "jordan-2": _call(store, "jordan", "2025-03-11", moods=(-0.4, -0.5), escalated=False,
                          agent_wpm=(150, 160), prompts=[(SLOW_DOWN, "slow_down", "acted_on")]),
        "sam-1": _call(store, "sam", "2025-03-12", moods=(0.2, 0.3), escalated=False, agent_wpm=(200, 100),
                       prompts=[(SLOW_DOWN, "slow_down", "not_helpful"), (APOLOGIZE, "apologize", None)]),
    }
    yield store, ids
    store.close()


def test_figures_per_agent_and_in_total(team_store):
    store, ids = team_store
    team = team_figures(store_sessions(store, Selection()))
    total, jordan, sam = team.total, team.agents["jordan"], team.agents["sam"]
    assert list(team.agents) == ["jordan", "sam"]
    assert (total.calls, total.escalated) == (3, 1) and total.escalation_rate == pytest.approx(1 / 3)
    assert (jordan.calls, jordan.escalated, sam.escalated) == (2, 1, 0)
    assert (total.upset, total.calmer) == (2, 1), "jordan's first customer ended calm, the second did not"
    assert (sam.upset, sam.calmer_rate) == (0, None)
    assert jordan.off_pace_share == pytest.approx(10 / 50) and sam.off_pace_share == pytest.approx(1.0)
    slow = total.rules[SLOW_DOWN]
    assert (slow.shown, slow.acted, slow.not_helpful) == (3, 1, 2)
    assert slow.not_helpful_rate == pytest.approx(2 / 3)
    assert {e.session_id for e in slow.examples} == set(ids.values())
    assert [e.not_helpful for e in slow.examples] == [True, True, False], "not-helpful calls first"
    apologize = total.rules[APOLOGIZE]
    assert (apologize.shown, apologize.acted, apologize.not_helpful_rate) == (2, 1, 0.0)
    assert jordan.rules[SLOW_DOWN].not_helpful_rate == pytest.approx(1 / 2)
    assert [r.rule for r in total.by_rule()] == [SLOW_DOWN, APOLOGIZE], "highest not-helpful rate first"


def test_the_page_shows_the_rate_next_to_each_rule_with_links_that_open(team_store, tmp_path):
    store, ids = team_store
    report = write_team_report(store_sessions(store, Selection()), tmp_path / "team.html", Selection(), store.get)
    page = _TeamPage(report.page.read_text(encoding="utf-8"))
    slow = page.rules["rules"][SLOW_DOWN]
    assert slow["cells"]["shown"] == "3" and slow["cells"]["not-helpful"] == "2"
    assert slow["cells"]["not-helpful-rate"] == "67%" and slow["cells"]["acted"] == "1 of 3 (33%)"
    assert page.rules["rules"][APOLOGIZE]["cells"]["not-helpful-rate"] == "0%"
    assert page.rules["rules-1"][SLOW_DOWN]["cells"]["not-helpful-rate"] == "50%", "jordan's own"
    assert page.rules["rules-2"][SLOW_DOWN]["cells"]["not-helpful-rate"] == "100%", "sam's own"
    assert page.agents["All agents"]["escalated"] == "1 of 3 (33%)"
    assert page.agents["jordan"]["calmer"] == "1 of 2 (50%)" and page.agents["sam"]["calmer"] == "—"
    for href in slow["links"]:  # each example opens that call's own report
        target = (tmp_path / href.split("#")[0])
        assert target.is_file() and target.stem in ids.values()
        assert target.stem in target.read_text(encoding="utf-8")
    assert len(slow["links"]) == 3 and len(report.calls) == 3
    assert oct(report.page.stat().st_mode & 0o777) == "0o600"


def test_no_calls_and_calls_without_an_agent(tmp_path):
    team = team_figures([{"id": "x", "prompts": [{"rule": "r", "feedback": {"action": "not_helpful"}}]}, "junk"])
    assert list(team.agents) == [NO_AGENT] and team.total.rules["r"].not_helpful_rate == 1.0
    empty = write_team_report([], tmp_path / "empty.html", Selection(agent="nobody"), lambda sid: None)
    assert "No calls in this selection." in empty.page.read_text() and empty.calls == []


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcoach", *args], capture_output=True, text=True, timeout=120)


def test_cli_team_report_with_agent_and_dates(team_store, tmp_path):
    store, ids = team_store
    out = tmp_path / "jordan.html"
    done = _cli("team-report", "--out", str(out), "--agent", "jordan", "--since", "2025-03-11",
                "--until", "2025-03-11", "--store", str(store.path))
    assert done.returncode == 0, done.stderr
    assert "1 calls, 1 agents" in done.stdout
    page = _TeamPage(out.read_text(encoding="utf-8"))
    assert list(page.agents) == ["jordan", "All agents"]
    assert page.rules["rules"][SLOW_DOWN]["cells"]["acted"] == "1 of 1 (100%)"
    assert page.rules["rules"][SLOW_DOWN]["links"] == [f"jordan-calls/{ids['jordan-2']}.html#transcript"]
    assert "2025-03-11 to 2025-03-11" in out.read_text(encoding="utf-8")
    for bad, words in ((("--since", "last week"), "--since must be a date"),
                       (("--since", "2025-03-12", "--until", "2025-03-10"), "is before --since")):
        failed = _cli("team-report", "--out", str(tmp_path / "x.html"), "--store", str(store.path), *bad)
        assert failed.returncode == 2 and words in failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    missing = _cli("team-report", "--out", str(tmp_path / "x.html"), "--store", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "no session store" in missing.stderr
    assert not (tmp_path / "none.db").exists()


@pytest.mark.slow
def test_a_real_call_through_the_model(tmp_path):
    """The demo call through the real pipeline, with an agent who marks the slow-down prompt
    not helpful (tests/report_demo.py), and a short calm call analyzed for another agent."""
    from callcoach.analyze import analyze_call
    from tests import callgen
    from tests.report_demo import ANSWERS, demo_session

    where = default_store_path(Settings())
    _, demo_id = demo_session(where, agent="jordan")
    callgen.render_call(callgen.BILLING_CALL[:2], tmp_path / "calm.wav")
    analyze_call(call=str(tmp_path / "calm.wav"), agent_name="sam", settings=Settings())
    with SessionStore(where) as store:
        demo = store.get(demo_id)
        report = write_team_report(store_sessions(store, Selection(since=date(2000, 1, 1))), tmp_path / "t.html",
                                   Selection(), store.get)
    team = report.figures
    assert team.total.calls == 2 and set(team.agents) == {"jordan", "sam"}
    assert team.agents["sam"].escalated == 0 and team.agents["sam"].upset == 0
    assert team.agents["jordan"].escalated == int(demo["metrics"]["escalated"] is True)
    slow = [p for p in demo["prompts"] if p["kind"] == "slow_down"]
    marked = sum(1 for p in slow if (p.get("feedback") or {}).get("action") == ANSWERS["slow_down"])
    assert slow and marked >= 1, "the scripted agent pressed Not helpful"
    rule = team.total.rules[slow[0]["rule"]]
    assert (rule.shown, rule.not_helpful) == (len(slow), marked)
    page = _TeamPage(report.page.read_text(encoding="utf-8"))
    row = page.rules["rules"][slow[0]["rule"]]
    assert row["cells"]["not-helpful-rate"] == f"{marked / len(slow):.0%}"
    assert row["links"] == [f"t-calls/{demo_id}.html#transcript"]
    assert (tmp_path / "t-calls" / f"{demo_id}.html").is_file()

"""Team figures for supervisors: per agent and in total, from any sessions.

Pure: no Qt, no database. `team_figures` takes any iterable of session dicts
(`callcoach.session.v1` with "agent", as `SessionStore.get` gives them, or a central
store's reading side), so the same figures come from this PC's store or the team's. Values a
damaged or cut-short session lacks are left out of the figure that needs them, never raised.

What each figure means (the team report prints these definitions too):

* **Escalated**: the coach's summary says the call was escalated (`metrics.escalated`). A
  call cut short before its summary counts as not escalated.
* **Upset customer**: the customer's worst mood in the call was at or below the coach's
  frustrated threshold (`FRUSTRATED_ENTER`, −0.25), the level at which the coach calls a
  customer frustrated.
* **Ended calmer**: an upset customer whose mood at the end of the call was above that
  threshold (calm again, by the coach's reckoning) or above their mood at its start.
* **Off pace**: the share of the agent's talk time (utterances with a words-per-minute
  figure) whose pace was outside the band that call was coached with (`coach.pace_band`;
  the default band for a session from before it was recorded).
* **Per rule** (a prompt's `rule`): shown, acted on (the agent pressed Done, or the coach saw
  it followed: cleared as `acted_on`), marked not helpful (the agent's `not_helpful`
  feedback), and the not-helpful rate: marked not helpful / shown. QA tunes the playbook by
  it. Up to `EXAMPLES` example sessions per rule, calls where it was marked not helpful
  first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from callcoach.report.values import pace_band
from callcoach.session_values import FRUSTRATED, dicts, number, sub, text

EXAMPLES = 3
NO_AGENT = "(no agent)"  # sessions stored without an agent's name


@dataclass(frozen=True)
class Selection:
    """Which calls the figures are over, as the report's header states it (the caller selects)."""

    agent: str | None = None
    team: str | None = None
    since: date | None = None  # first day, inclusive
    until: date | None = None  # last day, inclusive


@dataclass(frozen=True)
class Example:
    """A session where a rule's prompt was shown: the call and the prompt's call time."""

    session_id: str
    t: float | None
    not_helpful: bool


@dataclass
class RuleFigures:
    rule: str
    shown: int = 0
    acted: int = 0
    not_helpful: int = 0
    examples: list[Example] = field(default_factory=list)

    @property
    def not_helpful_rate(self) -> float | None:
        return _ratio(self.not_helpful, self.shown)

    @property
    def acted_rate(self) -> float | None:
        return _ratio(self.acted, self.shown)


@dataclass
class Figures:
    """One agent's figures, or the whole selection's."""

    calls: int = 0
    escalated: int = 0
    upset: int = 0  # calls with an upset customer
    calmer: int = 0  # ... of which the customer ended calmer
    talk_s: float = 0.0  # agent talk time with a pace figure
    off_pace_s: float = 0.0  # ... of which outside the call's band
    rules: dict[str, RuleFigures] = field(default_factory=dict)

    @property
    def escalation_rate(self) -> float | None:
        return _ratio(self.escalated, self.calls)

    @property
    def calmer_rate(self) -> float | None:
        return _ratio(self.calmer, self.upset)

    @property
    def off_pace_share(self) -> float | None:
        return _ratio(self.off_pace_s, self.talk_s)

    def prompt_totals(self) -> tuple[int, int, int]:
        """(shown, acted on, marked not helpful) over every rule."""
        rules = self.rules.values()
        return sum(r.shown for r in rules), sum(r.acted for r in rules), sum(r.not_helpful for r in rules)

    def by_rule(self) -> list[RuleFigures]:
        """Rules by not-helpful rate, highest first (what QA looks at), then by how often shown."""
        return sorted(self.rules.values(), key=lambda r: (-(r.not_helpful_rate or 0.0), -r.shown, r.rule))


@dataclass
class TeamFigures:
    total: Figures = field(default_factory=Figures)
    agents: dict[str, Figures] = field(default_factory=dict)


@dataclass(frozen=True)
class PromptFacts:
    rule: str
    acted: bool
    not_helpful: bool
    t: float | None  # call time it was shown


@dataclass(frozen=True)
class CallFacts:
    """What one session adds to the figures."""

    agent: str
    escalated: bool
    upset: bool
    calmer: bool
    talk_s: float
    off_pace_s: float
    prompts: list[PromptFacts]


def team_figures(sessions: Iterable[dict]) -> TeamFigures:
    """The figures over `sessions` (already selected: agent, team, dates), per agent and in total."""
    team = TeamFigures()
    for session in sessions:
        if not isinstance(session, dict):
            continue
        facts = call_facts(session)
        sid = text(session.get("id"))
        for figures in (team.total, team.agents.setdefault(facts.agent, Figures())):
            _add(figures, facts, sid)
    team.agents = dict(sorted(team.agents.items()))
    return team


def call_facts(session: dict) -> CallFacts:
    """What one session adds; a prompt without a rule (an old or damaged record) goes by its kind."""
    start, end, worst = _moods(session)
    upset = worst is not None and worst <= FRUSTRATED
    calmer = upset and end is not None and (end > FRUSTRATED or (start is not None and end > start))
    talk_s, off_pace_s = _pace(session)
    prompts = []
    for p in dicts(session.get("prompts")):
        action = sub(p, "feedback").get("action")
        acted = action == "done" or sub(p, "cleared").get("reason") == "acted_on"
        prompts.append(PromptFacts(text(p.get("rule")) or text(p.get("kind")) or "unnamed rule", acted,
                                   action == "not_helpful", number(p.get("t"))))
    return CallFacts(agent=text(session.get("agent")).strip() or NO_AGENT,
                     escalated=sub(session, "metrics").get("escalated") is True,
                     upset=upset, calmer=calmer, talk_s=talk_s, off_pace_s=off_pace_s, prompts=prompts)


def _add(figures: Figures, facts: CallFacts, session_id: str) -> None:
    figures.calls += 1
    figures.escalated += facts.escalated
    figures.upset += facts.upset
    figures.calmer += facts.calmer
    figures.talk_s += facts.talk_s
    figures.off_pace_s += facts.off_pace_s
    for p in facts.prompts:
        r = figures.rules.setdefault(p.rule, RuleFigures(p.rule))
        r.shown += 1
        r.acted += p.acted
        r.not_helpful += p.not_helpful
        if session_id:
            _offer_example(r, Example(session_id, p.t, p.not_helpful))


def _offer_example(rule: RuleFigures, example: Example) -> None:
    """Keep up to EXAMPLES calls, one example each; a not-helpful one displaces a plain one."""
    same = next((e for e in rule.examples if e.session_id == example.session_id), None)
    if same is not None:
        if example.not_helpful and not same.not_helpful:
            rule.examples[rule.examples.index(same)] = example
    elif len(rule.examples) < EXAMPLES:
        rule.examples.append(example)
    elif example.not_helpful:
        plain = next((e for e in rule.examples if not e.not_helpful), None)
        if plain is not None:
            rule.examples[rule.examples.index(plain)] = example
    rule.examples.sort(key=lambda e: not e.not_helpful)


def _moods(session: dict) -> tuple[float | None, float | None, float | None]:
    """The customer's mood at the start, at the end and at its worst: the coach's summary,
    else (a call cut short) the scored customer lines in order."""
    summary = sub(sub(session, "metrics"), "customer_sentiment")
    start, end, worst = (number(summary.get(k)) for k in ("start", "end", "min"))
    if end is None or worst is None:
        lines = sorted((number(u.get("start")) or 0.0, number(u.get("sentiment")))
                       for u in dicts(session.get("utterances"))
                       if u.get("speaker") == "customer" and number(u.get("sentiment")) is not None)
        moods = [m for _, m in lines]
        if moods:
            start, end, worst = moods[0], moods[-1], min(moods)
    return start, end, worst


def _pace(session: dict) -> tuple[float, float]:
    """(agent talk seconds with a pace figure, of which outside the call's own band)."""
    low, high = pace_band(session)
    talk = off = 0.0
    for u in dicts(session.get("utterances")):
        wpm, start, end = number(u.get("wpm")), number(u.get("start")), number(u.get("end"))
        if u.get("speaker") != "agent" or not wpm or start is None or end is None or end <= start:
            continue
        talk += end - start
        if not low <= wpm <= high:
            off += end - start
    return talk, off


def _ratio(part: float, whole: float) -> float | None:
    """part / whole, or None when there is nothing to divide by (no calls, no prompts)."""
    return part / whole if whole else None

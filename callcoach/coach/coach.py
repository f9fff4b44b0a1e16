"""The coach: engine events in, prompts and gauges out.

It listens to the engine, passes every engine event straight on (meters and transcript
need them at once), and analyses them in audio order: events wait in a heap until the
engine's Watermark says no earlier text is still being transcribed. That makes a live call,
`analyze --realtime` and `analyze` reach the same prompts at the same call times; only
critical cues heard in partial text (early_cues.py), which fast `analyze` does not
transcribe, may come sooner live, marked `from_partial`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from callcoach.coach.acts import acts
from callcoach.coach.dynamics import Dynamics
from callcoach.coach.early_cues import EarlyCues, StableCue
from callcoach.coach.events import CallSummary, CoachSetup, CoachState, Feedback, Prompt, ScoredUtterance
from callcoach.coach.handoff import CallHistory, Turn, follow_up_checklist, handoff_note
from callcoach.coach.pace import PaceTracker, PastPace
from callcoach.coach.playbook import SEVERITIES, Playbook, Rule, load_playbook
from callcoach.coach.scheduler import PromptScheduler
from callcoach.coach.sentiment import MoodTracker, score
from callcoach.coach.signals import Signals
from callcoach.engine.events import Activity, CallEnded, Level, Partial, Utterance, Watermark

_TICK_S = 0.5  # how often time-based rules are checked, in call time
_STATE_S = 1.0  # how often gauges are published
_RECENT_S = 120.0  # "recent" for upset counts


@dataclass(frozen=True)
class CoachSettings:
    pace_band: tuple[float, float] = (120.0, 190.0)  # agent words per minute
    talkover_window_s: float = 60.0


class Coach:
    def __init__(self, playbook: Playbook | None = None, settings: CoachSettings = CoachSettings(),
                 measure_latency: bool = False, confirm_partial: Callable[[str], None] | None = None):
        self.playbook = playbook or load_playbook()[0]
        self.settings = settings
        self.measure_latency = measure_latency
        self.scheduler = PromptScheduler(self.playbook.policy)
        self.dynamics = Dynamics()
        self.pace = PaceTracker()
        self.mood = MoodTracker()
        self.history = CallHistory(recent_s=_RECENT_S)  # bounded, however long the call runs
        self.early = EarlyCues(self.playbook.rules, confirm_partial)
        self.prompts: list[Prompt] = []
        self.escalated = False
        self.handoff: str | None = None
        self._escalation_reason = ""
        self._listeners: list = []
        self._heap: list = []
        self._seq = itertools.count()
        self._lock = threading.RLock()  # engine threads and the GUI (feedback) both come in
        self._next_tick = 0.0
        self._next_state = 0.0
        self._now = 0.0
        self._released = 0.0  # the watermark: events stamped up to here are analysed

    # -- wiring --------------------------------------------------------------------------

    def subscribe(self, listener) -> None:
        self._listeners.append(listener)

    def start(self, past_pace: PastPace | None = None) -> None:
        """Before the call's first event: the agent's typical pace from their recent calls
        (the pace baseline from the first minute), and what this call is coached with."""
        self.pace = PaceTracker(past=past_pace)
        self._emit(CoachSetup(self.settings.pace_band, self.playbook.origin, self.playbook.version,
                              past_pace.wpm if past_pace else None, past_pace.calls if past_pace else 0))

    def _emit(self, event: object) -> None:
        for listener in self._listeners:
            listener(event)

    def __call__(self, event: object) -> None:
        """Engine listener."""
        with self._lock:
            self._emit(event)
            take = self._ARRIVING.get(type(event))
            if take:
                take(self, event)

    def _hold_at_t(self, event: Activity | Level) -> None:
        self._hold(event.t, event)

    def _hold_at_end(self, event: Utterance) -> None:
        self._hold(event.end, event)

    def _partial(self, event: Partial) -> None:
        cue = self.early.partial(event)
        if cue is not None:  # in order, now if the watermark has passed it already
            self._hold(max(cue.t, self._released), cue)
            self._release(self._released)

    def _watermark(self, event: Watermark) -> None:
        self._release(event.t)

    def _call_ended(self, event: CallEnded) -> None:
        self._release(math.inf)
        self._call_end(event.duration)

    # What the coach does with each engine event as it arrives; the rest it only passes on.
    _ARRIVING = {Activity: _hold_at_t, Level: _hold_at_t, Utterance: _hold_at_end, Partial: _partial,
                 Watermark: _watermark, CallEnded: _call_ended}

    def feedback(self, prompt_id: int, action: str) -> None:
        """The agent pressed "done" or "not helpful" on a prompt (any thread)."""
        with self._lock:
            self._emit(Feedback(prompt_id, self._now, action))
            for event in self.scheduler.clear(self._now, action, prompt_id=prompt_id):
                self._emit(event)

    def _hold(self, t: float, event: object) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), event, time.monotonic()))

    def _release(self, until: float) -> None:
        self._released = max(self._released, until)
        while self._heap and self._heap[0][0] <= until:
            t, _, event, arrived = heapq.heappop(self._heap)
            self._now = max(self._now, t)
            self._ANALYSED[type(event)](self, event, t, arrived)

    # -- analysis, in audio order ----------------------------------------------------------

    def _level(self, event: Level, t: float, arrived: float) -> None:
        self.dynamics.level(event.role, event.t, event.rms_db)
        if event.t >= self._next_tick:
            self._next_tick = event.t + _TICK_S
            self._tick(event.t, arrived)

    def _activity(self, event: Activity, t: float, arrived: float) -> None:
        self.dynamics.activity(event.role, event.t, event.speaking)
        active = self.scheduler.active
        if event.speaking and event.role == "agent" and active and active.kind == "update_progress":
            self._show(self.scheduler.clear(event.t, "acted_on"))  # the agent is back on the line

    def _take_turn(self, role: str, start: float, end: float, text: str):
        """Score a final utterance and add it to the call's history."""
        s = score(text, role)
        turn = Turn(role, start, end, text, s.score, s.upset, acts(text))
        self.history.add(turn)
        if role == "customer":
            mood = self.mood.update(end, s)
            self.history.mood.add(end, mood.level, mood.state)
        return turn, s

    def _utterance(self, u: Utterance, t: float, arrived: float) -> None:
        turn, s = self._take_turn(u.role, u.start, u.end, u.text)
        self._emit(ScoredUtterance(u.role, u.start, u.end, s.score, s.upset, tuple(s.cues)))
        latency = None if u.latency_s is None else u.latency_s + (time.monotonic() - arrived)
        if u.role == "agent":
            self._show(self.scheduler.agent_spoke(u.start, u.end))
            self.pace.add(u.words)
            if "escalating" in turn.acts:
                self._show(self.scheduler.clear(u.end, "acted_on", kind="escalate"))
        signals = self._signals(u.end, turn, s)
        done_early = self.early.final(u)  # its partials raised these already
        self._evaluate(f"{u.role}_utterance", signals, u.end, latency,
                       [r for r in self.playbook.rules if r.id not in done_early])
        if u.role == "customer":
            # The mood moves with customer turns: show it now, with any prompt this turn raised,
            # not at the next tick (that waits until the watermark passes the agent's reply).
            self._emit(self.state(u.end))

    def _early_cue(self, cue: StableCue, t: float, arrived: float) -> None:
        """Critical cues two partials agree on, coached before the customer finishes."""
        if self.early.stale(cue):
            return
        turn = Turn("customer", cue.start, t, cue.text, cue.sentiment.score, cue.sentiment.upset, frozenset())
        heard = frozenset(cue.cues)  # only what both partials heard
        signals = replace(self._signals(t, turn, cue.sentiment), customer_cues=heard)
        rules = [r for r in self.early.rules if r.matches(signals)]
        self.early.fired(cue, rules)
        latency = None if cue.lag_s is None else cue.lag_s + (time.monotonic() - arrived)
        self._evaluate("customer_utterance", signals, t, latency, rules, from_partial=True)

    # Every event the heap holds (what _ARRIVING holds back, and early cues).
    _ANALYSED = {Level: _level, Activity: _activity, StableCue: _early_cue, Utterance: _utterance}

    def _tick(self, t: float, arrived: float) -> None:
        latency = time.monotonic() - arrived if self.measure_latency else None
        self._show(self.scheduler.tick(t, latency))
        self._evaluate("tick", self._signals(t), t, latency)
        if t >= self._next_state:
            self._next_state = t + _STATE_S
            self._emit(self.state(t))

    def _signals(self, t: float, turn: Turn | None = None, sentiment=None) -> Signals:
        d, mood = self.dynamics, self.mood.mood
        pace = self.pace.at(t)
        last = self.history.last
        none: frozenset[str] = frozenset()
        return Signals(
            speaker=turn.role if turn else "",
            text=turn.text if turn else "",
            customer_cues=frozenset(sentiment.cues) if sentiment and turn.role == "customer" else none,
            agent_cues=frozenset(sentiment.cues) if sentiment and turn.role == "agent" else none,
            agent_acts=frozenset(turn.acts) if turn and turn.role == "agent" else none,
            evidence=dict(sentiment.evidence) if sentiment else {},
            upset=bool(sentiment and sentiment.upset),
            anger=sentiment.anger if sentiment else 0.0,
            mood=mood.level, mood_state=mood.state, mood_trend=mood.trend,
            agent_wpm=pace.wpm, agent_baseline=pace.baseline,
            agent_pace_band_high=self.settings.pace_band[1],
            dead_air_s=d.dead_air(),
            hold_announced=bool(last and last.role == "agent" and "hold" in last.acts),
            hold_phrase=last.text if last else "",
            agent_talkovers=len(d.talkovers_by("agent", self.settings.talkover_window_s)),
            agent_talk_share=d.talk_share("agent"),
            customer_raised_db=d.raised_voice("customer"),
            agent_raised_db=d.raised_voice("agent"),
            attempts=self.history.attempts,
            upset_count=self.history.upset_since(t - _RECENT_S),
            escalated=self.escalated,
        )

    def _evaluate(self, trigger: str, signals: Signals, t: float, latency: float | None,
                  rules: Sequence[Rule] | None = None, from_partial: bool = False) -> None:
        rules = [r for r in (self.playbook.rules if rules is None else rules) if r.on == trigger and r.matches(signals)]
        rules.sort(key=lambda r: (SEVERITIES[r.severity], r.priority), reverse=True)
        # What was said keeps its prompt waiting for `hold_s`; a tick condition is offered
        # again every tick for as long as it holds.
        holds_until = t + (2 * _TICK_S if trigger == "tick" else self.playbook.policy.hold_s)
        for rule in rules:  # the best shows if it can; the rest wait their turn or are dropped
            candidate = self._candidate(rule, signals, t, latency, from_partial)
            self._show(self.scheduler.offer(candidate, rule.cooldown_s, holds_until, said=trigger != "tick"))

    def _candidate(self, rule: Rule, signals: Signals, t: float, latency: float | None,
                   from_partial: bool = False) -> Prompt:
        handoff = handoff_note(self.history, t, rule.title) if rule.kind == "escalate" else None
        return rule.prompt(t=round(t, 2), because=rule.because(signals),
                           latency_s=None if latency is None else round(latency, 3), handoff=handoff,
                           from_partial=from_partial)

    def _show(self, events: list) -> None:
        for event in events:
            if isinstance(event, Prompt):
                self.prompts.append(event)
                if event.kind == "escalate":
                    self.escalated = True
                    self.handoff = event.handoff
                    self._escalation_reason = event.title
            self._emit(event)

    # -- call end ------------------------------------------------------------------------

    def _call_end(self, duration: float) -> None:
        self._now = duration
        self._show(self.scheduler.clear(duration, "call_ended"))
        self._show(self.scheduler.end(duration))
        checklist = tuple(follow_up_checklist(self.history, self.escalated))
        for rule in (r for r in self.playbook.rules if r.on == "call_end"):
            prompt = self._candidate(rule, self._signals(duration), duration, None)
            self._show(self.scheduler.show_now(_with_checklist(prompt, checklist)))
        if self.escalated:  # the note as of the end of the call, for the supervisor's record
            self.handoff = handoff_note(self.history, duration, self._escalation_reason)
        self._emit(CallSummary(self.metrics(duration), self.handoff, checklist))

    def state(self, t: float) -> CoachState:
        mood, pace, d = self.mood.mood, self.pace.at(t), self.dynamics
        return CoachState(round(t, 2), mood.level, mood.state, mood.trend, pace.wpm, pace.baseline,
                          self.settings.pace_band, d.talk_share("agent"), d.dead_air(),
                          d.talkover_count(), self.escalated)

    def metrics(self, duration: float) -> dict:
        first, mood = self.history.first_customer, self.history.mood
        d = self.dynamics
        return {
            "agent_wpm": self.pace.overall(),
            "agent_words": self.pace.words(),  # how much the agent_wpm of a later call's baseline rests on
            "agent_talk_share": d.talk_share("agent"),
            "dead_air_s": d.dead_air_total(),
            "overlaps": d.talkover_count(),
            "overlaps_by_agent": d.talkover_count("agent"),
            "customer_sentiment": {
                "start": round(first.sentiment, 3) if first else None,
                "end": round(mood.last[1], 3) if mood.last else None,
                "min": round(mood.lowest[1], 3) if mood.lowest else None,
            },
            "escalated": self.escalated,
            "prompts_shown": len(self.prompts),
            "prompts_held_back": self.scheduler.held_back,  # shown late
            "prompts_suppressed": dict(self.scheduler.dropped),  # never shown, by why they were held
            "duration_s": round(duration, 2),
        }


def explain_line(role: str, text: str, playbook: Playbook | None = None) -> dict:
    """`callcoach explain`: the score of one line and the prompt kinds it alone would raise
    (at the start of a call, with no cooldowns in the way)."""
    coach = Coach(playbook)
    turn, s = coach._take_turn(role, 0.0, 0.0, text)
    signals = coach._signals(0.0, turn, s)
    rules = sorted((r for r in coach.playbook.rules if r.on == f"{role}_utterance" and r.matches(signals)),
                   key=lambda r: (SEVERITIES[r.severity], r.priority), reverse=True)
    return {"role": role, "text": text, "sentiment": s.score, "upset": s.upset,
            "kinds": list(dict.fromkeys(r.kind for r in rules)), "cues": list(s.cues)}


def _with_checklist(prompt: Prompt, checklist: tuple[str, ...]) -> Prompt:
    return replace(prompt, checklist=checklist, message="; ".join(checklist))

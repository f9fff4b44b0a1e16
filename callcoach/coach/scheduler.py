"""Which candidate prompts reach the agent, and when: a scheduler that chooses, not a gap
that drops.

- One prompt is on screen at a time. Critical prompts (escalate, set_boundary) always show:
  at once, or, while another critical prompt is on screen, once the agent has seen that one
  for `replace_after_s` (whatever their values: a manager demand after an abusive line must
  not wait for the agent to act on the boundary); only a sticky critical prompt of higher
  value keeps them waiting longer. A held critical prompt is not dropped when the agent
  speaks: the customer still asked for the manager.
- A candidate of higher value (severity, then priority) replaces the prompt on screen once
  that one has been seen for `replace_after_s`; before that, and when it is not of higher
  value, it waits.
- The budget for non-critical prompts: none within `spacing_s` of the last (unless it
  replaces the last while that is still on screen, as above); on average no
  more than one per `average_gap_s` (a bucket of `burst` prompts that refills one per
  `average_gap_s`: a quiet stretch earns a quick pair, not a flood); `budget` per call.
- A candidate that cannot show now is held while its cause holds: what was said, for
  `hold_s` after it was said and only until the agent has spoken again (then the moment has
  passed); a condition checked every tick (silence, talk-over), for as long as it is offered
  again. Held candidates show, best first, as soon as there is room;
  one whose cause has passed is dropped. Each kind has a cooldown (the rule's `cooldown_s`):
  a kind just shown is not repeated, and nothing is recorded, the agent has that advice.
- Every candidate that was held is accounted for: it shows late (the prompt carries
  `held_s` and why) or it is dropped (a `PromptWithheld` saying why), so QA sees what the
  coach would have said.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from callcoach.coach.events import Prompt, PromptCleared, PromptWithheld
from callcoach.coach.playbook import SEVERITIES, PolicySettings


class Hold(enum.StrEnum):
    """Why a candidate could not show when it came (recorded, so values are stable names)."""

    BUSY = "busy"  # a prompt of equal or higher value was on screen
    TOO_SOON_TO_REPLACE = "too_soon_to_replace"  # the prompt on screen had been seen < replace_after_s
    STICKY = "sticky"  # an escalation was waiting for the agent
    SPACING = "spacing"  # a non-critical prompt had shown < spacing_s before
    RATE = "rate"  # the average rate of non-critical prompts was used up
    CALL_BUDGET = "call_budget"  # the call's non-critical prompts were spent


class Fate(enum.StrEnum):
    CAUSE_PASSED = "cause_passed"  # held until what raised it no longer held
    AGENT_SPOKE = "agent_spoke"  # the agent had their turn since: the moment for it had passed
    CALL_ENDED = "call_ended"


HOLD_TEXT = {
    Hold.BUSY: "a prompt of equal or higher value was on screen",
    Hold.TOO_SOON_TO_REPLACE: "the prompt on screen had been seen for less than its minimum",
    Hold.STICKY: "an escalation was waiting for the agent",
    Hold.SPACING: "another prompt had just shown",
    Hold.RATE: "the call had had its share of prompts for the moment",
    Hold.CALL_BUDGET: "the call's prompt budget was spent",
}
FATE_TEXT = {Fate.CAUSE_PASSED: "its cause had passed", Fate.AGENT_SPOKE: "the agent had spoken since",
             Fate.CALL_ENDED: "the call ended"}


def hold_text(value: object) -> str:
    """Why a prompt was held, for QA; a value from a damaged or newer record as it is."""
    return HOLD_TEXT.get(value, str(value or "unknown")) if isinstance(value, str) else "unknown"


def fate_text(value: object) -> str:
    return FATE_TEXT.get(value, str(value or "unknown")) if isinstance(value, str) else "unknown"


@dataclass
class _Held:
    candidate: Prompt
    cooldown_s: float
    until: float  # call time its cause holds until
    since: float  # when it was first held
    reason: Hold  # why it is held (the latest reason)
    said: bool  # raised by a line (its moment ends when the agent next speaks), not a condition


class PromptScheduler:
    def __init__(self, settings: PolicySettings):
        self.s = settings
        self.active: Prompt | None = None
        self._shown_at = 0.0
        self._last_by_kind: dict[str, float] = {}
        self._last_routine: float | None = None  # the last non-critical prompt shown
        # The first prompt is free and the bucket fills from then on: n prompts then span at
        # least (n - 1) x average_gap_s, whatever the bursts (the cap only takes away).
        self._tokens = 0.0
        self._tokens_at: float | None = None
        self.spent = 0  # non-critical prompts shown this call
        self._held: dict[str, _Held] = {}  # by rule id: a rule offered again refreshes its hold
        self.held_back = 0  # candidates shown late
        self.dropped: dict[str, int] = {}  # candidates never shown, by why they were held
        self._next_id = 1

    def offer(self, candidate: Prompt, cooldown_s: float, holds_until: float, said: bool) -> list:
        """Show the candidate now, hold it until `holds_until` (its cause; for one raised by
        a line that was `said`, also only until the agent next speaks), or ignore it (its kind
        is cooling down). Events to emit (PromptCleared, Prompt), or []."""
        now = candidate.t
        if self._cooling(candidate.kind, cooldown_s, now):
            return []
        reason = self._no_room(candidate, now)
        held = self._held.get(candidate.rule)
        if reason is None:
            return self._show_late(held, candidate, now) if held else self._show(candidate, now)
        if held is None:
            self._held[candidate.rule] = _Held(candidate, cooldown_s, holds_until, now, reason, said)
        else:  # the cause still holds: keep when it was first held, take the fresher words
            held.candidate, held.until = candidate, max(held.until, holds_until)
        return []

    def show_now(self, candidate: Prompt) -> list:
        """Show regardless of the budget (the end-of-call checklist: the call is over)."""
        return self._show(candidate, candidate.t)

    def tick(self, now: float, latency_s: float | None = None) -> list:
        """Take down an expired prompt, drop held candidates whose cause has passed, and show
        the best held one there is room for."""
        events = []
        if self.active is not None and self._expired(now):
            events.append(PromptCleared(self.active.id, now, "expired"))
            self.active = None
        for rule, held in list(self._held.items()):
            if held.until < now or self._cooling(held.candidate.kind, held.cooldown_s, now):
                del self._held[rule]
                if held.until < now:
                    events.append(self._drop(held, now, Fate.CAUSE_PASSED))
        for held in sorted(self._held.values(), key=lambda h: _value(h.candidate), reverse=True):
            reason = self._no_room(held.candidate, now)
            if reason is None:
                return events + self._show_late(held, replace(held.candidate, latency_s=latency_s), now)
            held.reason = reason  # what kept it back last is what QA needs to know
        return events

    def agent_spoke(self, start: float, end: float) -> list:
        """The agent said a line (start..end): advice on what was said before it began
        comes too late now (an empathy prompt held through the agent's reply, say)."""
        passed = [h for h in self._held.values()
                  if h.said and h.since <= start and not _critical(h.candidate)]
        for held in passed:
            del self._held[held.candidate.rule]
        return [self._drop(h, end, Fate.AGENT_SPOKE) for h in passed]

    def clear(self, now: float, reason: str, kind: str | None = None, prompt_id: int | None = None) -> list:
        """Take the active prompt down (by kind or id) because it was acted on."""
        a = self.active
        if a is None or (kind and a.kind != kind) or (prompt_id is not None and a.id != prompt_id):
            return []
        self.active = None
        return [PromptCleared(a.id, now, reason)]

    def end(self, now: float) -> list:
        """The call is over: what is still held will never show."""
        dropped = [self._drop(h, now, Fate.CALL_ENDED) for h in self._held.values()]
        self._held.clear()
        return dropped

    # -- rules -----------------------------------------------------------------------------

    def _no_room(self, c: Prompt, now: float) -> Hold | None:
        a = self.active if self.active is not None and not self._expired(now) else None
        critical = _critical(c)
        if a is not None:
            if a.sticky and not (critical and _value(c) > _value(a)):
                return Hold.STICKY
            if critical and _critical(a):
                return Hold.TOO_SOON_TO_REPLACE if now - self._shown_at < self.s.replace_after_s else None
            if _value(c) <= _value(a):
                return Hold.BUSY
            if not critical and now - self._shown_at < self.s.replace_after_s:
                return Hold.TOO_SOON_TO_REPLACE
        if critical:
            return None
        # Spacing keeps a new prompt from following one the agent has just put away; a better
        # prompt replacing one still on screen (seen replace_after_s) is the agent's one card
        # changing, not a second card.
        replacing = a is not None and not _critical(a)
        if not replacing and self._last_routine is not None and now - self._last_routine < self.s.spacing_s:
            return Hold.SPACING
        if self._tokens_now(now) < 1.0:
            return Hold.RATE
        if self.spent >= self.s.budget:
            return Hold.CALL_BUDGET
        return None

    def _show(self, candidate: Prompt, now: float) -> list:
        events = []
        if self.active is not None:
            events.append(PromptCleared(self.active.id, now, "replaced"))
        prompt = replace(candidate, id=self._next_id, sticky=candidate.kind in self.s.sticky_kinds)
        self._next_id += 1
        self.active, self._shown_at = prompt, now
        self._last_by_kind[prompt.kind] = now
        if not _critical(prompt):
            self._tokens = self._tokens_now(now) - 1.0
            self._tokens_at = now
            self._last_routine = now
            self.spent += 1
        events.append(prompt)
        return events

    def _show_late(self, held: _Held, candidate: Prompt, now: float) -> list:
        del self._held[candidate.rule]
        self.held_back += 1
        return self._show(replace(candidate, t=round(now, 2), held_s=round(now - held.since, 2),
                                  held_for=held.reason.value), now)

    def _drop(self, held: _Held, now: float, fate: Fate) -> PromptWithheld:
        self.dropped[held.reason.value] = self.dropped.get(held.reason.value, 0) + 1
        c = held.candidate
        return PromptWithheld(t=round(held.since, 2), until=round(now, 2), kind=c.kind, severity=c.severity,
                              title=c.title, because=c.because, rule=c.rule, reason=held.reason.value,
                              fate=fate.value)

    def _cooling(self, kind: str, cooldown_s: float, now: float) -> bool:
        last = self._last_by_kind.get(kind)
        return last is not None and now - last < cooldown_s

    def _tokens_now(self, now: float) -> float:
        if self._tokens_at is None:
            return 1.0
        earned = max(0.0, now - self._tokens_at) / self.s.average_gap_s
        return min(float(self.s.burst), self._tokens + earned)

    def _expired(self, now: float) -> bool:
        return not self.active.sticky and now - self._shown_at >= self.s.display_s


def _value(prompt: Prompt) -> tuple[int, int]:
    return SEVERITIES[prompt.severity], prompt.priority


def _critical(prompt: Prompt) -> bool:
    return SEVERITIES[prompt.severity] >= SEVERITIES["critical"]

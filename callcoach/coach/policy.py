"""Which candidate prompts reach the agent: one at a time, by priority, rate-limited.

- At most one prompt is on screen. A candidate replaces it only with a higher priority;
  otherwise it is dropped (not queued: a late prompt is a wrong prompt).
- Each kind has a cooldown (the rule's `cooldown_s`).
- A non-critical prompt needs `min_gap_s` since the last prompt of any kind and counts
  against a per-call budget; critical ones (escalate, set_boundary) skip both.
- Sticky kinds (escalate) stay on screen until acted on: the agent presses done, or is
  heard escalating. While one shows, only a higher priority critical prompt replaces it.
"""

from __future__ import annotations

from dataclasses import replace

from callcoach.coach.events import Prompt, PromptCleared
from callcoach.coach.playbook import SEVERITIES, PolicySettings


class PromptPolicy:
    def __init__(self, settings: PolicySettings):
        self.s = settings
        self.active: Prompt | None = None
        self._shown_at = 0.0
        self._last_by_kind: dict[str, float] = {}
        self._last_shown: float | None = None
        self.spent = 0  # non-critical prompts shown this call
        self.suppressed: dict[str, int] = {}  # why candidates were dropped, for tuning
        self._next_id = 1

    def offer(self, candidate: Prompt, cooldown_s: float, force: bool = False) -> list:
        """Events (PromptCleared, Prompt) if the candidate is shown; [] if not.

        `force` (the end-of-call checklist) skips the limits: the call is over."""
        now = candidate.t
        reason = None if force else self._refusal(candidate, cooldown_s, now)
        if reason:
            self.suppressed[reason] = self.suppressed.get(reason, 0) + 1
            return []
        events = []
        if self.active is not None:
            events.append(PromptCleared(self.active.id, now, "replaced"))
        prompt = replace(candidate, id=self._next_id, sticky=candidate.kind in self.s.sticky_kinds)
        self._next_id += 1
        self.active, self._shown_at = prompt, now
        self._last_by_kind[prompt.kind] = now
        self._last_shown = now
        if not _critical(prompt):
            self.spent += 1
        events.append(prompt)
        return events

    def _refusal(self, c: Prompt, cooldown_s: float, now: float) -> str | None:
        last = self._last_by_kind.get(c.kind)
        if last is not None and now - last < cooldown_s:
            return "cooldown"
        if self.active is not None and not self._expired(now) and c.priority <= self.active.priority:
            return "busy"
        if self.active is not None and self.active.sticky and not _critical(c):
            return "sticky"
        if not _critical(c):
            if self._last_shown is not None and now - self._last_shown < self.s.min_gap_s:
                return "gap"
            if self.spent >= self.s.budget:
                return "budget"
        return None

    def _expired(self, now: float) -> bool:
        return not self.active.sticky and now - self._shown_at >= self.s.display_s

    def tick(self, now: float) -> list:
        if self.active is not None and self._expired(now):
            cleared = PromptCleared(self.active.id, now, "expired")
            self.active = None
            return [cleared]
        return []

    def clear(self, now: float, reason: str, kind: str | None = None, prompt_id: int | None = None) -> list:
        """Take the active prompt down (by kind or id) because it was acted on."""
        a = self.active
        if a is None or (kind and a.kind != kind) or (prompt_id is not None and a.id != prompt_id):
            return []
        self.active = None
        return [PromptCleared(a.id, now, reason)]


def _critical(prompt: Prompt) -> bool:
    return SEVERITIES[prompt.severity] >= SEVERITIES["critical"]

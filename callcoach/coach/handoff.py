"""What the agent hands over: the escalation note and the end-of-call checklist.

The seeds ask the agent to brief the supervisor with the situation and the steps already
taken, so the customer never has to repeat themselves; and to follow up after resolution.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Turn:
    role: str
    start: float
    end: float
    text: str
    sentiment: float
    upset: bool
    acts: frozenset[str]


class MoodPath:
    """The customer's mood over the call, bounded however long it runs: the first point,
    the last `keep` changes of state, the lowest point and the latest."""

    def __init__(self, keep: int = 8):
        self.first: tuple[float, float, str] | None = None  # (t, level, state)
        self.changes: deque[tuple[float, float, str]] = deque(maxlen=keep)
        self.skipped = 0  # changes of state that fell out of `changes`
        self.lowest: tuple[float, float, str] | None = None
        self.last: tuple[float, float, str] | None = None

    def add(self, t: float, level: float, state: str) -> None:
        point = (t, level, state)
        if self.first is None:
            self.first = point
        elif state != (self.changes[-1] if self.changes else self.first)[2]:
            self.skipped += len(self.changes) == self.changes.maxlen
            self.changes.append(point)
        if self.lowest is None or level < self.lowest[1]:
            self.lowest = point
        self.last = point


class CallHistory:
    """What the coach keeps of a call's turns, bounded however long the call runs: the
    last turns (for "upset in the last two minutes"), the customer's first substantial
    turns (the issue in their own words), the agent's last offers and promises, counts,
    and the mood's path."""

    def __init__(self, recent_s: float = 120.0, issue_turns: int = 2, offers: int = 4, promises: int = 3):
        self.recent_s = recent_s
        self.recent: deque[Turn] = deque()  # turns ending in the last `recent_s` of the newest one
        self.last: Turn | None = None
        self.first_customer: Turn | None = None
        self.last_customer: Turn | None = None
        self.issue_turns = issue_turns
        self.said: list[Turn] = []  # the customer's first `issue_turns` substantial turns
        self.first_upset: Turn | None = None  # and the first substantial upset one
        self.offers: deque[Turn] = deque(maxlen=offers)
        self.attempts = 0  # agent turns offering something, all call
        self.promises: deque[Turn] = deque(maxlen=promises)  # not counting "I'll get my supervisor"
        self.mood = MoodPath()
        self.turns = 0

    def add(self, turn: Turn) -> None:
        self.turns += 1
        self.last = turn
        self.recent.append(turn)
        while self.recent[0].end < turn.end - self.recent_s:
            self.recent.popleft()
        if turn.role == "customer":
            self.first_customer = self.first_customer or turn
            self.last_customer = turn
            if len(turn.text.split()) >= 5:
                if len(self.said) < self.issue_turns:
                    self.said.append(turn)
                if turn.upset and self.first_upset is None:
                    self.first_upset = turn
        elif turn.role == "agent":
            if "offer" in turn.acts:
                self.offers.append(turn)
                self.attempts += 1
            if "promise" in turn.acts and "escalating" not in turn.acts:
                self.promises.append(turn)

    def upset_since(self, t: float) -> int:
        """Upset customer turns that ended at `t` or later (within the last `recent_s`)."""
        return sum(1 for x in self.recent if x.role == "customer" and x.upset and x.end >= t)

    def sizes(self) -> dict[str, int]:
        """How much is kept (a long-call test checks it stays bounded)."""
        return {"recent": len(self.recent), "said": len(self.said), "offers": len(self.offers),
                "promises": len(self.promises), "mood_changes": len(self.mood.changes)}


def clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return f'"{text if len(text) <= limit else text[: limit - 3] + "..."}"'


def issue_in_their_words(history: CallHistory) -> list[Turn]:
    """The customer's own description: the first substantial turns, upset ones first."""
    first = [history.first_upset] if history.first_upset else []
    chosen = (first + [t for t in history.said if t is not history.first_upset])[:history.issue_turns]
    return sorted(chosen, key=lambda t: t.start)


def handoff_note(history: CallHistory, now: float, reason: str) -> str:
    """The note for the supervisor, as plain text the agent pastes into chat or CRM."""
    lines = [f"Escalation handoff - {clock(now)} on call", f"Why now: {reason}"]
    issue = issue_in_their_words(history)
    lines.append("Customer's issue, in their words:")
    lines += [f"  - {_quote(t.text)} ({clock(t.start)})" for t in issue] or ["  - (nothing substantial heard yet)"]
    lines.append("Offered or tried so far:")
    lines += [f"  - {_quote(t.text)} ({clock(t.start)})" for t in history.offers] or ["  - nothing yet"]
    lines.append(f"Mood: {mood_trajectory(history.mood)}")
    return "\n".join(lines)


def mood_trajectory(path: MoodPath) -> str:
    """"calm at 0:05 -> angry at 0:33 (lowest -0.81) -> angry now"; a long call's middle as "..."."""
    if path.first is None:
        return "not enough heard yet"
    steps = [f"{state} at {clock(t)}" for t, _, state in (path.first, *path.changes)]
    if path.skipped:
        steps.insert(1, "...")
    low, last = path.lowest, path.last
    return f"{' -> '.join(steps)}; lowest {low[1]:+.2f} at {clock(low[0])}; now {last[2]} ({last[1]:+.2f})"


def follow_up_checklist(history: CallHistory, escalated: bool) -> list[str]:
    items = ["Confirm the customer is satisfied with the resolution"]
    for t in history.promises:
        items.append(f"Do what you promised: {_quote(t.text, 100)}")
    if escalated:
        items.append("Check the supervisor took the escalation, then update the customer")
    final_mood = history.mood.last[1] if history.mood.last else None
    last_said = history.last_customer
    if final_mood is not None and final_mood < -0.2 and last_said and last_said.sentiment < 0:
        items.append("Schedule a call-back: the customer was still unhappy at the end")
    items.append("Document the issue and what was done in the CRM")
    return items

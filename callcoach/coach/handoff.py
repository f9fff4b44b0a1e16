"""What the agent hands over: the escalation note and the end-of-call checklist.

The seeds ask the agent to brief the supervisor with the situation and the steps already
taken, so the customer never has to repeat themselves; and to follow up after resolution.
"""

from __future__ import annotations

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


def clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return f'"{text if len(text) <= limit else text[: limit - 3] + "..."}"'


def issue_in_their_words(turns: list[Turn], limit: int = 2) -> list[Turn]:
    """The customer's own description: the first substantial turns, upset ones first."""
    said = [t for t in turns if t.role == "customer" and len(t.text.split()) >= 5]
    upset = [t for t in said if t.upset]
    chosen = (upset[:1] + [t for t in said if t not in upset[:1]])[:limit]
    return sorted(chosen, key=lambda t: t.start)


def handoff_note(turns: list[Turn], mood_path: list[tuple[float, float, str]], now: float,
                 reason: str) -> str:
    """The note for the supervisor, as plain text the agent pastes into chat or CRM."""
    lines = [f"Escalation handoff - {clock(now)} on call", f"Why now: {reason}"]
    issue = issue_in_their_words(turns)
    lines.append("Customer's issue, in their words:")
    lines += [f"  - {_quote(t.text)} ({clock(t.start)})" for t in issue] or ["  - (nothing substantial heard yet)"]
    tried = [t for t in turns if t.role == "agent" and "offer" in t.acts][-4:]
    lines.append("Offered or tried so far:")
    lines += [f"  - {_quote(t.text)} ({clock(t.start)})" for t in tried] or ["  - nothing yet"]
    lines.append(f"Mood: {mood_trajectory(mood_path)}")
    return "\n".join(lines)


def mood_trajectory(path: list[tuple[float, float, str]]) -> str:
    """"calm at 0:05 -> angry at 0:33 (lowest -0.81) -> angry now"."""
    if not path:
        return "not enough heard yet"
    steps = [path[0]]
    for point in path[1:]:
        if point[2] != steps[-1][2]:
            steps.append(point)
    low = min(path, key=lambda p: p[1])
    text = " -> ".join(f"{state} at {clock(t)}" for t, _, state in steps)
    return f"{text}; lowest {low[1]:+.2f} at {clock(low[0])}; now {path[-1][2]} ({path[-1][1]:+.2f})"


def follow_up_checklist(turns: list[Turn], escalated: bool, final_mood: float | None) -> list[str]:
    items = ["Confirm the customer is satisfied with the resolution"]
    promises = [t for t in turns if t.role == "agent" and "promise" in t.acts and "escalating" not in t.acts]
    for t in promises[-3:]:
        items.append(f"Do what you promised: {_quote(t.text, 100)}")
    if escalated:
        items.append("Check the supervisor took the escalation, then update the customer")
    last_said = next((t for t in reversed(turns) if t.role == "customer"), None)
    if final_mood is not None and final_mood < -0.2 and last_said and last_said.sentiment < 0:
        items.append("Schedule a call-back: the customer was still unhappy at the end")
    items.append("Document the issue and what was done in the CRM")
    return items

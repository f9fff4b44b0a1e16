"""What the coach tells its listeners, in addition to the engine events it passes on."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)  # by name: four of its fields are adjacent texts
class Prompt:
    id: int
    t: float  # call time of the evidence that raised it
    kind: str
    severity: str
    title: str
    message: str
    phrase: str
    tactic: str
    because: str
    rule: str
    priority: int
    sticky: bool
    latency_s: float | None = None
    checklist: tuple[str, ...] = ()  # follow_up only
    handoff: str | None = None  # escalate only: the drafted note for the supervisor
    held_s: float = 0.0  # how long the scheduler held it back before it showed (t is when it showed)
    held_for: str | None = None  # why it was held (scheduler.Hold)
    from_partial: bool = False  # raised from partial text, before the utterance's final text


@dataclass(frozen=True, kw_only=True)  # by name: several adjacent texts
class PromptWithheld:
    """A prompt the coach would have shown, held back and then dropped: for QA, never the agent."""

    t: float  # call time it was raised
    until: float  # call time it was dropped
    kind: str
    severity: str
    title: str
    because: str
    rule: str
    reason: str  # why it was held (scheduler.Hold)
    fate: str  # why it never showed (scheduler.Fate)


@dataclass(frozen=True)
class PromptCleared:
    id: int
    t: float
    reason: str  # "expired" | "replaced" | "acted_on" | "done" | "not_helpful" | "call_ended"


@dataclass(frozen=True)
class Feedback:
    """The agent's reaction to a prompt, recorded for QA."""

    prompt_id: int
    t: float
    action: str  # "done" | "not_helpful"


@dataclass(frozen=True)
class ScoredUtterance:
    """Sentiment for an utterance already delivered by the engine (same role/start/end)."""

    role: str
    start: float
    end: float
    sentiment: float
    upset: bool
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class CoachSetup:
    """What the coach runs a call with, sent once before the call's first event: the session
    records it, so the report draws the pace band that was really used."""

    pace_band: tuple[float, float]
    playbook_source: str  # "built-in" or the playbook file's path
    playbook_version: int | str | None  # the playbook's `version` key
    past_pace_wpm: float | None = None  # the agent's typical pace over their recent stored calls
    past_pace_calls: int = 0  # ... over this many calls


@dataclass(frozen=True)
class CoachState:
    """Gauges for the widget, about once a second of call audio."""

    t: float
    mood: float  # -1 .. +1
    mood_state: str  # calm | frustrated | angry
    mood_trend: str  # worsening | steady | improving
    agent_wpm: float | None
    agent_baseline: float | None
    pace_band: tuple[float, float]
    agent_talk_share: float | None
    dead_air_s: float
    talkovers: int
    escalated: bool


@dataclass(frozen=True)
class CallSummary:
    """The coach's part of the session summary, at call end."""

    metrics: dict
    handoff: str | None
    checklist: tuple[str, ...] = field(default_factory=tuple)

"""What the coach tells the playbook about the call at one moment: every value a rule's
conditions may read (callcoach/coach/playbook.py CONDITIONS), built in one place
(`Coach._signals`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Signals:
    speaker: str  # whose utterance this is ("" on a tick)
    text: str
    customer_cues: frozenset[str]  # cues heard in a customer utterance
    agent_cues: frozenset[str]
    agent_acts: frozenset[str]  # what an agent utterance does (apologizing, hold, ...)
    evidence: Mapping[str, str]  # cue -> the words that raised it
    upset: bool
    anger: float
    mood: float  # the customer's, -1 .. +1
    mood_state: str
    mood_trend: str
    agent_wpm: float | None  # None until enough words
    agent_baseline: float | None
    agent_pace_band_high: float
    dead_air_s: float
    hold_announced: bool  # the agent's last turn put the customer on hold
    hold_phrase: str
    agent_talkovers: int  # in the talkover window
    agent_talk_share: float | None
    customer_raised_db: float | None
    agent_raised_db: float | None
    attempts: int  # attempts to help so far
    upset_count: int  # upset customer turns in the recent window
    escalated: bool


NAMES = frozenset(f.name for f in dataclasses.fields(Signals))

"""The agent's typical pace over their recent stored calls (Cogito-style): the coach's pace
baseline from the first minute of a new call, not only after 40 words of it."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path

from callcoach.coach.pace import PastPace
from callcoach.store.common import finite
from callcoach.store.database import SessionStore

RECENT_CALLS = 10  # the median over the agent's last this many calls with enough speech
MIN_WORDS = 40  # a call in which the agent said fewer words has no rate worth keeping
_LOOK_BACK = 3 * RECENT_CALLS  # sessions read to find them (short calls are skipped)
_PLAUSIBLE_WPM = (40.0, 400.0)  # outside this a stored rate is a damaged value, not a pace


@dataclass(frozen=True)
class AgentHistory:
    """Whose past calls give a new call its pace baseline, and the store they are in."""

    agent: str
    store: SessionStore | str | os.PathLike

    def past_pace(self) -> PastPace | None:
        """The median pace of the agent's recent complete calls; None without any.

        It reads the store file, which another program may be writing: call it on the
        call's thread, never the GUI's. A store that cannot be read raises CallCoachError."""
        if isinstance(self.store, SessionStore):
            return past_pace(self.store, self.agent)
        path = Path(self.store)
        if not path.exists():
            return None  # no calls stored yet: nothing to read, no file to create
        with SessionStore(path) as store:
            return past_pace(store, self.agent)


def past_pace(store: SessionStore, agent: str, calls: int = RECENT_CALLS) -> PastPace | None:
    rates = []
    for row in store.list_sessions(agent=agent, status="complete", limit=_LOOK_BACK):
        wpm = _rate(store.get(row["id"]))
        if wpm is not None:
            rates.append(wpm)
            if len(rates) == calls:
                break
    return PastPace(round(statistics.median(rates), 1), len(rates)) if rates else None


def _rate(session: dict | None) -> float | None:
    """A session's agent pace, if it rests on enough words (sessions stored before the word
    count was recorded are taken as they are: the median outvotes an odd short one)."""
    metrics = session.get("metrics") if isinstance(session, dict) else None
    if not isinstance(metrics, dict):
        return None
    wpm, words = metrics.get("agent_wpm"), metrics.get("agent_words", MIN_WORDS)
    if not finite(wpm) or not finite(words) or words < MIN_WORDS:
        return None
    return float(wpm) if _PLAUSIBLE_WPM[0] <= wpm <= _PLAUSIBLE_WPM[1] else None


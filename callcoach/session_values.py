"""Reading a stored session's values, whatever shape a damaged record left them in.

The QA review window and the HTML report both show sessions that may be partial or damaged:
anything may sit where a number or a list should be. Every helper here takes anything and
never raises; a bad value reads as None, "" or an empty list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callcoach.coach.sentiment import ANGRY_ENTER as ANGRY
from callcoach.coach.sentiment import FRUSTRATED_ENTER as FRUSTRATED
from callcoach.roles import ROLES

NONE = "—"  # shown for a value that is missing or unreadable


def number(x: Any) -> float | None:
    """A finite number, else None (bools, strings, NaN and the like)."""
    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
        return float(x)
    return None


def text(x: Any) -> str:
    return x if isinstance(x, str) else ""


def dicts(x: Any) -> list[dict]:
    """The dicts of a list (utterances, prompts, notices); anything else is skipped."""
    return [d for d in x if isinstance(d, dict)] if isinstance(x, list) else []


def sub(d: dict, key: str) -> dict:
    value = d.get(key)
    return value if isinstance(value, dict) else {}


def clock(t: Any) -> str:
    """Call time as m:ss (h:mm:ss from an hour); a dash when unknown."""
    t = number(t)
    if t is None:
        return NONE
    s = int(round(max(t, 0.0)))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def local_time(iso: Any, fmt: str = "%Y-%m-%d %H:%M") -> str | None:
    """A stored (UTC) start time in the reader's time zone; the raw text if it cannot be
    parsed, None when there is none."""
    if not isinstance(iso, str) or not iso:
        return None
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime(fmt).strip()


def mood_state(mood: Any) -> str | None:
    """The coach's name for a mood level (its entry thresholds)."""
    m = number(mood)
    if m is None:
        return None
    return "angry" if m <= ANGRY else "frustrated" if m <= FRUSTRATED else "calm"


@dataclass(frozen=True)
class Gap:
    """A stretch of call time where one speaker's device was gone: that audio does not exist."""

    speaker: str
    start: float
    end: float
    reason: str

    def tip(self) -> str:
        why = self.reason or "no reason given"
        return f"{clock(self.start)}–{clock(self.end)} no {self.speaker} audio (device gap): {why}"


def device_gaps(session: dict) -> list[Gap]:
    """The session's readable device gaps (`gaps`), by start; a damaged entry is skipped."""
    out = []
    for g in dicts(session.get("gaps")):
        start, end, speaker = number(g.get("start")), number(g.get("end")), g.get("speaker")
        if start is not None and end is not None and end >= start and speaker in ROLES:
            out.append(Gap(speaker, start, end, text(g.get("reason"))))
    return sorted(out, key=lambda g: (g.start, g.speaker))


def pace_band(session: dict, default: tuple[float, float]) -> tuple[float, float]:
    """The pace band the coach used on the call (`coach.pace_band`); `default` for a session
    stored before it was recorded, or one whose band is damaged."""
    band = sub(session, "coach").get("pace_band")
    if isinstance(band, list) and len(band) == 2:
        low, high = number(band[0]), number(band[1])
        if low is not None and high is not None and 0 < low < high:
            return low, high
    return default


def coached_with(session: dict) -> str | None:
    """What the coach ran with, in words ("built-in playbook, version 2; the agent's usual
    pace 182 wpm over 7 calls"); None for a session stored before it was recorded."""
    coach = sub(session, "coach")
    playbook = sub(coach, "playbook")
    if not coach or not playbook:
        return None
    source = text(playbook.get("source")) or "unknown"
    words = "built-in playbook" if source == "built-in" else f"playbook {source}"
    version = playbook.get("version")
    if isinstance(version, (int, str)) and not isinstance(version, bool) and str(version):
        words += f", version {version}"
    past = sub(coach, "past_pace")
    wpm, calls = number(past.get("wpm")), number(past.get("calls"))
    if wpm is not None and calls:
        words += f"; the agent's usual pace {wpm:.0f} wpm over {calls:.0f} past call{'s' if calls != 1 else ''}"
    return words

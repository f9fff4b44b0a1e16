"""Reading and showing the values of a stored session, whatever shape they are in.

A damaged record may hold anything where a number should be: everything shown goes
through `number()` first, so a bad value shows as "—" and never raises.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

# The coach's thresholds (callcoach.coach.sentiment): frustrated at <= -0.25, angry at <= -0.55.
FRUSTRATED = -0.25
ANGRY = -0.55
NONE = "—"


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (None, text, NaN, booleans)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def items(value: Any) -> list[dict]:
    """The dicts of a list (utterances, prompts, notices); anything else is skipped."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def clock(seconds: Any) -> str:
    """Call time as m:ss (h:mm:ss from an hour)."""
    s = number(seconds)
    if s is None:
        return NONE
    s = int(round(max(s, 0.0)))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def local_time(iso: Any) -> str:
    """A stored UTC start time in the reviewer's local time; the raw text if unreadable."""
    if not isinstance(iso, str):
        return NONE
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%Y-%m-%d %H:%M")


def mood_state(mood: Any) -> str | None:
    m = number(mood)
    if m is None:
        return None
    return "angry" if m <= ANGRY else "frustrated" if m <= FRUSTRATED else "calm"


def signed(value: Any, digits: int = 2) -> str:
    v = number(value)
    return NONE if v is None else f"{v:+.{digits}f}".replace("-", "−")


def score_text(score: Any) -> str:
    s = number(score)
    return NONE if s is None else f"{s:g}"

"""Reading a session dict that may be damaged: every helper takes anything and never raises."""

from __future__ import annotations

import math
from typing import Any

from callcoach.settings import OPTIONS

SEVERITY_COLOR = {"info": "#2f6fdb", "warning": "#c27c0e", "critical": "#d0353b"}
SPEAKER_COLOR = {"agent": "#4a6fa5", "customer": "#8a5cb8"}


def num(x: Any) -> float | None:
    """A finite number, else None (bools, strings, NaN and the like from damaged records)."""
    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
        return float(x)
    return None


def dicts(x: Any) -> list[dict]:
    return [d for d in x if isinstance(d, dict)] if isinstance(x, list) else []


def sub(d: dict, key: str) -> dict:
    value = d.get(key)
    return value if isinstance(value, dict) else {}


def text(x: Any) -> str:
    return "" if x is None else str(x)


def clock(t: Any) -> str:
    """Call time as m:ss (h:mm:ss past an hour); a dash when unknown."""
    t = num(t)
    if t is None:
        return "—"
    s = max(0, int(t))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def pace_band() -> tuple[float, float]:
    """The coach's default target band for the agent's words per minute."""
    return OPTIONS["pace_low"].default, OPTIONS["pace_high"].default


def severity(prompt: dict) -> str:
    value = prompt.get("severity")
    return value if isinstance(value, str) and value in SEVERITY_COLOR else "info"


def kind_label(prompt: dict) -> str:
    return text(prompt.get("kind")).replace("_", " ") or "prompt"


def duration_of(session: dict) -> float:
    """The call length; for a session cut short, the last moment anything was recorded."""
    times = [num(session.get("duration_s")) or 0.0]
    times += [num(u.get("end")) or num(u.get("start")) or 0.0 for u in dicts(session.get("utterances"))]
    times += [num(p.get("t")) or 0.0 for p in dicts(session.get("prompts"))]
    times += [num(n.get("t")) or 0.0 for n in dicts(session.get("notices"))]
    return max(times)


def numbered_prompts(session: dict) -> list[tuple[int, dict]]:
    """Prompts in call-time order, numbered from 1 (the number links chart, transcript and
    feedback table); prompts without a time come last."""
    prompts = sorted(dicts(session.get("prompts")),
                     key=lambda p: (num(p.get("t")) is None, num(p.get("t")) or 0.0))
    return list(enumerate(prompts, start=1))

"""What the report derives from a session that may be damaged (the basic readers are
`callcoach.session_values`, shared with the review window); nothing here raises."""

from __future__ import annotations

from callcoach import session_values
from callcoach.session_values import device_gaps, dicts, number, text
from callcoach.settings import OPTIONS, Key

SEVERITY_COLOR = {"info": "#2f6fdb", "warning": "#c27c0e", "critical": "#d0353b"}
SPEAKER_COLOR = {"agent": "#4a6fa5", "customer": "#8a5cb8"}


def pace_band(session: dict) -> tuple[float, float]:
    """The target band for the agent's words per minute the coach used on this call; the
    default band for a session stored before the band was recorded."""
    return session_values.pace_band(session, (OPTIONS[Key.PACE_LOW].default, OPTIONS[Key.PACE_HIGH].default))


def severity(prompt: dict) -> str:
    value = prompt.get("severity")
    return value if isinstance(value, str) and value in SEVERITY_COLOR else "info"


def kind_label(prompt: dict) -> str:
    return text(prompt.get("kind")).replace("_", " ") or "prompt"


def duration_of(session: dict) -> float:
    """The call length; for a session cut short, the last moment anything was recorded."""
    times = [number(session.get("duration_s")) or 0.0]
    times += [number(u.get("end")) or number(u.get("start")) or 0.0 for u in dicts(session.get("utterances"))]
    times += [number(p.get("t")) or 0.0 for p in dicts(session.get("prompts"))]
    times += [number(n.get("t")) or 0.0 for n in dicts(session.get("notices"))]
    times += [g.end for g in device_gaps(session)]
    return max(times)


def numbered_prompts(session: dict) -> list[tuple[int, dict]]:
    """Prompts in call-time order, numbered from 1 (the number links chart, transcript and
    feedback table); prompts without a time come last."""
    prompts = sorted(dicts(session.get("prompts")),
                     key=lambda p: (number(p.get("t")) is None, number(p.get("t")) or 0.0))
    return list(enumerate(prompts, start=1))

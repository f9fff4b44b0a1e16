"""What a tile says about a call, as plain strings and colours (no widgets)."""

from __future__ import annotations

import math

from callcoach.central.board_feed import DEAD_AIR_S, LiveCall, Need
from callcoach.gui import theme

TREND = {"worsening": "↓ worsening", "steady": "→ steady", "improving": "↑ improving"}
NEED_COLOR = {Need.ESCALATION: theme.SEVERITY["critical"], Need.ANGRY_WORSENING: theme.SEVERITY["critical"],
              Need.DEAD_AIR: theme.SEVERITY["warning"], Need.LOST: theme.MUTED, Need.REST: theme.BORDER,
              Need.ENDED: theme.BORDER}
NEED_LABEL = {Need.ESCALATION: "ESCALATION", Need.ANGRY_WORSENING: "ANGRY, WORSENING", Need.DEAD_AIR: "DEAD AIR",
              Need.LOST: "LOST", Need.REST: "", Need.ENDED: "ENDED"}


def clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def mood(call: LiveCall) -> tuple[str, str]:
    """('angry ↓ worsening', its colour)."""
    state = call.mood_state or "mood unknown"
    trend = TREND.get(call.mood_trend or "", "")
    return f"{state} {trend}".strip(), theme.MOOD.get(call.mood_state or "", theme.SECONDARY)


def figures(call: LiveCall) -> str:
    """Pace and the agent's share of the talking, in steps of 5 % (the server notifies the
    board when a step changes: callcoach.tile_of)."""
    parts = [f"pace {call.pace_state}" if call.pace_state else "pace —"]
    parts.append(f"agent talks {math.floor(call.talk_share * 20 + 0.5) * 5}%" if call.talk_share is not None
                 else "talk share —")
    return " · ".join(parts)


def dead_air(call: LiveCall) -> tuple[str, str]:
    """('dead air 12 s', colour), or ('', …) while there is none worth saying (whole
    seconds, as callcoach.tile_of)."""
    seconds = call.dead_air_s or 0.0
    if seconds < 1.0:
        return "", theme.SECONDARY
    return f"dead air {math.floor(seconds)} s", theme.SEVERITY["warning"] if seconds >= DEAD_AIR_S else theme.SECONDARY


def prompt(call: LiveCall) -> tuple[str, str]:
    """The coach's card on the agent's screen: ('● title', the severity's colour)."""
    if not call.prompt_title:
        return "no prompt on screen", theme.MUTED
    return f"● {call.prompt_title}", theme.SEVERITY.get(call.prompt_severity or "", theme.SECONDARY)


def on_the_way(call: LiveCall) -> str:
    return f"{call.ack_by.replace('.', ' ').title()} is on the way" if call.ack_by else ""


def state(call: LiveCall, now: float) -> str:
    """The line under a lost or ended call."""
    if call.ended:
        return "ended"
    if call.lost(now):
        return f"lost (no news for {call.age(now):.0f} s)"
    return ""

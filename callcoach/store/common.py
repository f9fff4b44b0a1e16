"""Helpers the store's modules share: times, process liveness, a one-line error, a
session summary's listing figures."""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from typing import Any

# A writer that is alive touches its session at least this often (heartbeat) ...
HEARTBEAT_S = 5.0
# ... so a 'live' session untouched for this long is orphaned even if some process now has
# the writer's old pid (pid reuse after a reboot).
STALE_S = 60.0


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def utc_iso(value: Any) -> str:
    """A start time as UTC ISO-8601 (what listing sorts and filters on); now if missing."""
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str) and value:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value  # kept as given rather than lost
    else:
        when = datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.astimezone()  # naive: the machine's local time
    return when.astimezone(timezone.utc).isoformat(timespec="seconds")


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    except OSError:
        return False
    return True


def _age_s(iso: Any) -> float:
    try:
        then = datetime.fromisoformat(iso)
        if then.tzinfo is None:
            then = then.replace(tzinfo=timezone.utc)
        return (datetime.now(timezone.utc) - then).total_seconds()
    except (TypeError, ValueError):
        return math.inf


def orphaned(pid: Any, updated_at: Any) -> bool:
    """A 'live' session nobody writes any more: its writer is gone or has been silent too long."""
    return not _pid_alive(pid) or _age_s(updated_at) > STALE_S


def finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def summary_figures(summary: dict) -> dict:
    """The listing columns a session summary gives (duration, worst mood, prompts...)."""
    metrics = summary.get("metrics") if isinstance(summary.get("metrics"), dict) else {}
    sentiment = metrics.get("customer_sentiment") if isinstance(metrics.get("customer_sentiment"), dict) else {}
    prompts = [p for p in summary.get("prompts") or [] if isinstance(p, dict)]
    acted = 0
    for p in prompts:
        feedback = p.get("feedback") if isinstance(p.get("feedback"), dict) else {}
        cleared = p.get("cleared") if isinstance(p.get("cleared"), dict) else {}
        if feedback.get("action") == "done" or cleared.get("reason") in ("acted_on", "done"):
            acted += 1
    duration = summary.get("duration_s")
    worst = sentiment.get("min")
    return {
        "duration_s": float(duration) if finite(duration) else None,
        "worst_mood": float(worst) if finite(worst) else None,
        "escalated": bool(metrics.get("escalated")) or any(p.get("kind") == "escalate" for p in prompts),
        "prompts_shown": len(prompts),
        "prompts_acted": acted,
    }

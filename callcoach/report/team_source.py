"""The team figures over the calls a session source's filters select: this PC's store or the
team store (what the person logged in may see), for the review window's Team figures and
`callcoach team-report`.

A call still being recorded is left out unless the status filter asks for it. The newest
CAP calls at most are read (a person waits for them; the figures then say how many there
were), streamed through the source's `get_many`, never all in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from callcoach.report.team import Selection, TeamFigures, team_figures
from callcoach.session_values import text
from callcoach.store.source import SessionSource

CAP = 2000
LISTED = ("complete", "incomplete", "damaged")  # not a call still being recorded


@dataclass(frozen=True)
class CallLabel:
    """What names an example call to a person: when and whose."""

    started_at: str | None
    agent: str


@dataclass
class TeamRead:
    figures: TeamFigures
    matching: int  # calls the filters select
    examples: dict[str, CallLabel]  # the rules' example calls

    @property
    def capped(self) -> bool:
        """More calls match than the figures are over (the newest CAP were read)."""
        return self.matching > self.figures.total.calls


def selection_filters(selection: Selection) -> dict[str, Any]:
    """A report's selection as a source's filters: days are the reader's local days."""
    filters: dict[str, Any] = {}
    if selection.agent:
        filters["agent"] = selection.agent
    if selection.team:
        filters["team"] = selection.team  # the team store's filter only
    if selection.since:
        filters["since"] = _day_start(selection.since)
    if selection.until:
        filters["until"] = _day_start(selection.until + timedelta(days=1))
    return filters


def source_sessions(source: SessionSource, filters: dict[str, Any], limit: int | None = None) -> Iterator[dict]:
    """The sessions `filters` select, newest first, `limit` at most."""
    rows = source.list_sessions(**({"status": LISTED} | filters), sort="started_at", descending=True, limit=limit)
    yield from source.get_many([row["id"] for row in rows])


def read_team_figures(source: SessionSource, filters: dict[str, Any], cap: int = CAP) -> TeamRead:
    """The figures over the newest `cap` calls `filters` select. Slow on the team store (every
    summary crosses the network): call it off the GUI thread."""
    matching = source.count_sessions(**({"status": LISTED} | filters))
    labels: dict[str, CallLabel] = {}
    figures = team_figures(_labelled(source_sessions(source, filters, cap), labels))
    examples = {e.session_id for f in (figures.total, *figures.agents.values())
                for r in f.rules.values() for e in r.examples}
    return TeamRead(figures, matching, {sid: labels[sid] for sid in sorted(examples) if sid in labels})


def _labelled(sessions: Iterable[dict], labels: dict[str, CallLabel]) -> Iterator[dict]:
    """Pass the sessions on, noting each one's label (only the examples' are kept)."""
    for session in sessions:
        labels[text(session.get("id"))] = CallLabel(text(session.get("started_at")) or None,
                                                    text(session.get("agent")) or "")
        yield session


def _day_start(day: date) -> str:
    """Local midnight of `day` as the stores' UTC ISO time."""
    return datetime.combine(day, time()).astimezone().astimezone(timezone.utc).isoformat(timespec="seconds")

"""The team report as files: the page, and beside it the example calls' own session reports
(in `TEAM-calls/`), so every example link opens. Also the local store as a source of
sessions for it; the team store's reading side can feed `write_team_report` the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from callcoach.errors import CallCoachError
from callcoach.report.files import write_private, write_report
from callcoach.report.team import Selection, TeamFigures, team_figures
from callcoach.report.team_page import render_team_html

LISTED = ("complete", "incomplete", "damaged")  # not a call still being recorded


@dataclass(frozen=True)
class TeamReport:
    page: Path
    calls: list[Path]  # the example calls' reports
    figures: TeamFigures


def write_team_report(sessions: Iterable[dict], path: str | os.PathLike, selection: Selection,
                      session_of: Callable[[str], dict | None]) -> TeamReport:
    """Figures over `sessions`, the page at `path`, and a report for each example call (read
    again by `session_of(id)`: only the few examples are kept, not every session)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise CallCoachError(f"cannot write {path}: folder {path.parent} does not exist")
    figures = team_figures(sessions)
    folder = path.with_name(f"{path.stem}-calls")
    examples = sorted({e.session_id for f in (figures.total, *figures.agents.values())
                       for r in f.rules.values() for e in r.examples})
    calls = []
    if examples:
        folder.mkdir(mode=0o700, exist_ok=True)
    for session_id in examples:
        session = session_of(session_id)
        if session is not None:
            calls.append(write_report(session, folder / f"{session_id}.html"))
    write_private(path, render_team_html(figures, selection, link=lambda sid: f"{folder.name}/{sid}.html"))
    return TeamReport(path, calls, figures)


def store_sessions(store, selection: Selection) -> Iterator[dict]:
    """The selected sessions of a local `SessionStore`, one at a time (a store has no teams:
    `selection.team` is for the team store)."""
    rows = store.list_sessions(status=LISTED, agent=selection.agent, since=_day_start(selection.since),
                               until=_day_start(selection.until + timedelta(days=1)) if selection.until else None,
                               sort="started_at", descending=False)
    for row in rows:
        session = store.get(row["id"])
        if session is not None:
            yield session


def _day_start(day: date | None) -> str | None:
    """Local midnight of `day` as the store's UTC ISO time."""
    if day is None:
        return None
    return datetime.combine(day, time()).astimezone().astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CallCoachError(f"{flag} must be a date like 2025-03-14, not {value!r}") from None

"""The team report as files: the page, and beside it the example calls' own session reports
(in `TEAM-calls/`), so every example link opens. The sessions come from this PC's store
or the team store alike (team_source.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from callcoach.errors import CallCoachError
from callcoach.report.files import write_private, write_report
from callcoach.report.team import Selection, TeamFigures, team_figures
from callcoach.report.team_page import render_team_html
from callcoach.report.team_source import selection_filters, source_sessions
from callcoach.store.source import SessionSource


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


def store_sessions(store: SessionSource, selection: Selection) -> Iterator[dict]:
    """The selected sessions of a store (this PC's or the team store), one at a time."""
    return source_sessions(store, selection_filters(selection))


def parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CallCoachError(f"{flag} must be a date like 2025-03-14, not {value!r}") from None

"""The team store as a SessionSource for the review window: listing, counting, one session
and the QA note, in SQL on the server, as the person logged in (row-level security decides
whose calls they see and which they may review).

Each call opens its own connection (bounded by connect.py's timeouts) and closes it: the
window calls from a background thread, a server restarted meanwhile costs nothing, and
nothing is left open when the window closes. Sort keys and columns come from whitelists;
every value is a query parameter.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from callcoach.central.connect import connect
from callcoach.store.common import finite
from callcoach.store.database import SessionStore
from callcoach.store.redaction import redact_text
from callcoach.store.schema import LIST_COLUMNS, SORT_KEYS

# The local listing's columns as the server's table has them (it keeps no updated_at).
_COLUMN_SQL = {c: c for c in LIST_COLUMNS} | {"updated_at": "greatest(received_at, qa_at)"}
_SORT_SQL = {key: _COLUMN_SQL[key] for key in SORT_KEYS}
_SESSION_SQL = "summary, status, agent, desktop, qa_note, qa_score, qa_by, qa_at, id"  # what _session() takes
# A person's search goes through callcoach.said(), which answers from the search index (under
# row-level security a plain @@ would scan every visible row). A query of stop words only
# ("for you") has no lexemes: it filters nothing, as on this PC.
_SEARCH = "(numnode(websearch_to_tsquery('english', %s)) = 0 OR id IN (SELECT callcoach.said(%s)))"


class CentralSessions:
    """Sessions on the team store that `dsn`'s login may see; the SessionSource protocol."""

    remote = True

    def __init__(self, dsn: str):
        self.dsn = dsn

    def list_sessions(self, *, sort: str = "started_at", descending: bool = True, limit: int | None = None,
                      offset: int = 0, **filters: Any) -> list[dict]:
        """Like SessionStore.list_sessions; `search` is PostgreSQL's web-search syntax
        (words, "a phrase", -not), stemmed ("refunds" finds "refund")."""
        if sort not in _SORT_SQL:
            raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}, not {sort!r}")
        where, args = _where(**filters)
        order = "DESC" if descending else "ASC"
        columns = ", ".join(f"{sql} AS {name}" for name, sql in _COLUMN_SQL.items())
        query = f"SELECT {columns} FROM callcoach.sessions{where} ORDER BY {_SORT_SQL[sort]} {order} NULLS LAST, id {order}"
        if limit is not None:
            query += " LIMIT %s OFFSET %s"
            args += [int(limit), int(offset)]
        with connect(self.dsn, purpose="read the team store") as db:
            rows = db.execute(query, args).fetchall()
        return [_listing_row(row) for row in rows]

    def count_sessions(self, **filters: Any) -> int:
        where, args = _where(**filters)
        with connect(self.dsn, purpose="read the team store") as db:
            return int(db.execute(f"SELECT count(*) FROM callcoach.sessions{where}", args).fetchone()[0])

    def get(self, session_id: str) -> dict | None:
        """The stored summary with "status", "complete", "agent" and "qa" (note, score, by, at)."""
        with connect(self.dsn, purpose="read the team store") as db:
            row = db.execute(f"SELECT {_SESSION_SQL} FROM callcoach.sessions WHERE id = %s", (session_id,)).fetchone()
        return None if row is None else _session(row)

    def get_many(self, session_ids: Sequence[str]) -> Iterator[dict]:
        """The sessions `get` gives, in one query, read from the server a few at a time (the
        team figures read thousands: they are never all in memory at once)."""
        with (connect(self.dsn, purpose="read the team store") as db, db.transaction(),
              db.cursor(name="callcoach_get_many") as cur):
            cur.itersize = 50
            cur.execute(f"SELECT {_SESSION_SQL} FROM callcoach.sessions WHERE id = ANY(%s)", (list(session_ids),))
            for row in cur:
                yield _session(row)

    def teams(self) -> list[str]:
        """The teams the person logged in leads (none for an agent)."""
        with connect(self.dsn, purpose="read the team store") as db:
            rows = db.execute("SELECT DISTINCT team FROM callcoach.my_teams() ORDER BY team").fetchall()
        return [team for (team,) in rows]

    def set_qa(self, session_id: str, note: str | None, score: float | None, *, redact: bool = True) -> bool:
        """The note, redacted, and score; False when there is no such session or this login
        may not review it. The server stamps qa_by and qa_at. `redact` is the protocol's: a
        note leaves this PC redacted whatever the local setting, like every session does."""
        if score is not None and not finite(score):
            raise ValueError(f"QA score must be a number, not {score!r}")
        if note is not None:
            note = redact_text(str(note))
        with connect(self.dsn, purpose="save the QA note on the team store") as db:
            cur = db.execute("UPDATE callcoach.sessions SET qa_note = %s, qa_score = %s WHERE id = %s",
                             (note, None if score is None else float(score), session_id))
        return cur.rowcount > 0

    @staticmethod
    def export_csv(rows: Iterable[dict], path: str | os.PathLike) -> int:
        return SessionStore.export_csv(rows, path)

    def close(self) -> None:
        """Nothing is held open between calls."""


def _where(status: str | Sequence[str] | None = None, agent: str | None = None, source: str | None = None,
           escalated: bool | None = None, since: str | None = None, until: str | None = None,
           min_duration: float | None = None, max_worst_mood: float | None = None,
           reviewed: bool | None = None, search: str | None = None, team: str | None = None) -> tuple[str, list]:
    clauses: list[str] = []
    args: list[Any] = []

    def add(clause: str, value: Any) -> None:
        clauses.append(clause)
        args.append(value)

    if status is not None:
        add("status = ANY(%s)", [status] if isinstance(status, str) else list(status))
    for clause, value in (("agent = %s", agent), ("source = %s", source), ("started_at >= %s::timestamptz", since),
                          ("started_at < %s::timestamptz", until), ("escalated = %s", escalated),
                          ("duration_s >= %s", min_duration), ("worst_mood <= %s", max_worst_mood)):
        if value is not None:
            add(clause, value)
    if team is not None:  # a team the person leads; any other team has no calls for them
        add("agent IN (SELECT t.agent_name FROM callcoach.my_teams() t WHERE t.team = %s)", team)
    if reviewed is not None:
        clauses.append("(qa_score IS NOT NULL OR coalesce(qa_note, '') <> '')" if reviewed
                       else "(qa_score IS NULL AND coalesce(qa_note, '') = '')")
    if search and search.strip():
        clauses.append(_SEARCH)
        args += [search.strip()] * 2
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def _session(row: Sequence) -> dict:
    summary, status, agent, desktop, note, score, by, at, session_id = row
    session = dict(summary) if isinstance(summary, dict) else {"utterances": [], "prompts": []}
    session.setdefault("id", session_id)
    session.update(status=status, complete=status == "complete", agent=agent, desktop=desktop,
                   qa={"note": note, "score": score, "by": by, "at": _iso(at)})
    if status == "damaged":
        session.update(damaged=True, problem=session.get("problem") or "marked damaged on its PC")
    return session


def _listing_row(row: Sequence) -> dict:
    """A row as the local listing gives it: times as UTC ISO-8601 text."""
    d = dict(zip(_COLUMN_SQL, row))
    for key in ("started_at", "updated_at"):
        d[key] = _iso(d[key])
    d["escalated"] = bool(d["escalated"])
    return d


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="seconds")
    return value

"""The reading side of SessionStore: listing, counting, one session (rebuilt from its
journal when the call did not end normally), the raw journal."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from callcoach.errors import CallCoachError, one_line
from callcoach.store.common import finite, orphaned
from callcoach.store.events import event_from_json
from callcoach.store.schema import LIST_COLUMNS, SORT_KEYS, STATUSES
from callcoach.store.search import search_clause


class SessionReading:
    """Mixed into SessionStore, which gives it `path`, `_db`, `_lock` and `mark_damaged()`."""

    # -- reading -------------------------------------------------------------------------

    def list_sessions(self, *, status: str | Sequence[str] | None = None, agent: str | None = None,
                      source: str | None = None, escalated: bool | None = None,
                      since: str | None = None, until: str | None = None,
                      min_duration: float | None = None, max_worst_mood: float | None = None,
                      reviewed: bool | None = None, search: str | None = None, sort: str = "started_at",
                      descending: bool = True, limit: int | None = None, offset: int = 0) -> list[dict]:
        """Sessions as dicts of LIST_COLUMNS (+ "problem" for damaged ones), newest first.

        Filters combine with AND: status (one or several), agent, source, escalated,
        started_at in [since, until) (ISO-8601 strings), duration ≥ min_duration, worst mood
        ≤ max_worst_mood, reviewed (has a QA score or note), search (every word of it said in
        the call: store/search.py). `sort` is one of SORT_KEYS.
        A 'live' session whose writer is gone is listed as 'incomplete' even before recover().
        """
        where, args = self._where(status, agent, source, escalated, since, until, min_duration,
                                  max_worst_mood, reviewed, search)
        if sort not in SORT_KEYS:
            raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}, not {sort!r}")
        order = "DESC" if descending else "ASC"
        sql = (f"SELECT {', '.join(LIST_COLUMNS)}, writer_pid FROM sessions{where} "
               f"ORDER BY {sort} {order} NULLS LAST, id {order}")
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [int(limit), int(offset)]
        with self._lock:
            try:
                rows = self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                return self._list_row_by_row(exc)
        return [self._row(row) for row in rows]

    def count_sessions(self, **filters: Any) -> int:
        where, args = self._where(**filters)
        with self._lock:
            try:
                return int(self._db.execute(f"SELECT count(*) FROM sessions{where}", args).fetchone()[0])
            except sqlite3.DatabaseError as exc:
                raise CallCoachError(f"session store {self.path}: {one_line(exc)}") from None

    @staticmethod
    def _where(status=None, agent=None, source=None, escalated=None, since=None, until=None,
               min_duration=None, max_worst_mood=None, reviewed=None, search=None) -> tuple[str, list]:
        clauses, args = [], []
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            clauses.append(f"status IN ({', '.join('?' * len(wanted))})")
            args += wanted
        for column, value in (("agent", agent), ("source", source)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if escalated is not None:
            clauses.append("escalated = ?")
            args.append(int(bool(escalated)))
        if since is not None:
            clauses.append("started_at >= ?")
            args.append(since)
        if until is not None:
            clauses.append("started_at < ?")
            args.append(until)
        if min_duration is not None:
            clauses.append("duration_s >= ?")
            args.append(float(min_duration))
        if max_worst_mood is not None:
            clauses.append("worst_mood <= ?")
            args.append(float(max_worst_mood))
        if reviewed is not None:
            clauses.append("(qa_score IS NOT NULL OR coalesce(qa_note, '') != '')" if reviewed
                           else "(qa_score IS NULL AND coalesce(qa_note, '') = '')")
        said, said_args = search_clause(search) if search else (None, [])
        if said:
            clauses.append(said)
            args += said_args
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def _row(self, row: Sequence) -> dict:
        """A listing row as a dict; anything wrong in it makes it a damaged session."""
        d = dict(zip(LIST_COLUMNS, row))
        pid = row[len(LIST_COLUMNS)]
        problems = []
        if not isinstance(d["id"], str) or not d["id"]:
            problems.append("no id")
            d["id"] = str(d["id"])
        if not isinstance(d["started_at"], str):
            problems.append("bad start time")
        if d["status"] not in STATUSES:
            problems.append(f"unknown status {d['status']!r}")
        for key in ("duration_s", "worst_mood", "qa_score"):
            if d[key] is not None and not finite(d[key]):
                problems.append(f"bad {key}")
                d[key] = None
        for key in ("prompts_shown", "prompts_acted", "escalated"):
            if not isinstance(d[key], int):
                problems.append(f"bad {key}")
                d[key] = 0
        d["escalated"] = bool(d["escalated"])
        for key in ("agent", "source", "qa_note", "updated_at"):
            if d[key] is not None and not isinstance(d[key], str):
                problems.append(f"bad {key}")
                d[key] = None
        if problems:
            d["status"] = "damaged"
            d["problem"] = "; ".join(problems)
        elif d["status"] == "damaged":
            d["problem"] = "summary unreadable"
        elif d["status"] == "live" and orphaned(pid, d["updated_at"]):
            d["status"] = "incomplete"  # its writer is gone; recover() will make it so on disk
        return d

    def _list_row_by_row(self, first_error: Exception) -> list[dict]:
        """The listing query hit a broken page: read what can be read, one row at a time.

        The ids come from the primary-key index alone, so a broken table page costs only
        the sessions on it (listed as damaged). Filters and sorting are not applied here.
        """
        ids = None
        for sql in ("SELECT id FROM sessions INDEXED BY sqlite_autoindex_sessions_1",
                    "SELECT id FROM sessions NOT INDEXED"):
            try:
                ids = [r[0] for r in self._db.execute(sql)]
                break
            except sqlite3.DatabaseError:
                continue
        if ids is None:
            raise CallCoachError(f"session store {self.path} is damaged ({one_line(first_error)})")
        out = []
        for session_id in ids:
            try:
                row = self._db.execute(f"SELECT {', '.join(LIST_COLUMNS)}, writer_pid FROM sessions WHERE id = ?",
                                       (session_id,)).fetchone()
                out.append(self._row(row) if row else _damaged_row(session_id, "row missing"))
            except sqlite3.DatabaseError as exc:
                out.append(_damaged_row(session_id, f"unreadable row ({one_line(exc)})"))
        out.sort(key=lambda r: r["started_at"] if isinstance(r["started_at"], str) else "", reverse=True)
        return out

    def get_many(self, session_ids: Sequence[str]) -> Iterator[dict]:
        """The sessions `get` gives, one at a time (one deleted meanwhile is left out)."""
        for session_id in session_ids:
            session = self.get(session_id)
            if session is not None:
                yield session

    def get(self, session_id: str) -> dict | None:
        """The session JSON (callcoach.session.v1) with "status", "complete" and "qa" added.

        A session that did not end normally is rebuilt from its journal ("complete": false);
        a damaged one comes back with "damaged": true and "problem", as much of it as can
        be read. None when there is no such session.
        """
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT id, started_at, agent, source, status, writer_pid, duration_s, qa_note,"
                    " qa_score, updated_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
            except sqlite3.DatabaseError as exc:
                return self._damaged_session(session_id, f"unreadable row ({one_line(exc)})")
            if row is None:
                return None
            sid, started, agent, source, status, pid, duration, note, score, updated = row
            try:
                found = self._db.execute("SELECT summary_json FROM summaries WHERE session_id = ?",
                                         (session_id,)).fetchone()
                body = found[0] if found else None
            except sqlite3.DatabaseError as exc:
                body = f"unreadable: {one_line(exc)}"  # parses as damaged below
            qa = {"note": note if isinstance(note, str) else None, "score": score if finite(score) else None}
            problem = None
            if status == "complete" or (status == "damaged" and body is not None):
                summary, problem = _parse_summary(body)
                if summary is not None:
                    summary.setdefault("id", sid)
                    if status == "complete":
                        summary.update(status="complete", complete=True, qa=qa, agent=agent)
                    else:  # marked damaged earlier, its summary readable now
                        summary.update(status="damaged", complete=False, damaged=True, qa=qa, agent=agent,
                                       problem="marked damaged")
                    return summary
                if status == "complete":
                    self.mark_damaged(sid)
                status = "damaged"
            elif status not in STATUSES:
                problem, status = f"unknown status {status!r}", "damaged"
            elif status == "damaged":
                problem = "marked damaged"
            if status == "live" and orphaned(pid, updated):
                status = "incomplete"
            rebuilt = self._rebuild(sid, started, source, duration)
            bad_events = rebuilt.pop("_bad_events", 0)
            rebuilt.update(status=status, complete=False, qa=qa, agent=agent)
            if problem or bad_events:
                rebuilt["damaged"] = True
                rebuilt["problem"] = problem or "some journal events could not be read"
                if status != "live":
                    rebuilt["status"] = "damaged"
            return rebuilt

    def events(self, session_id: str) -> list[dict]:
        """The raw journal of a session: [{"seq", "t", "kind", "payload"}] (payload None if unreadable)."""
        out = []
        with self._lock:
            try:
                rows = self._db.execute("SELECT seq, t, kind, json FROM events WHERE session_id = ? ORDER BY seq",
                                        (session_id,)).fetchall()
            except sqlite3.DatabaseError:
                return out
        for seq, t, kind, body in rows:
            try:
                payload = json.loads(body)
            except (TypeError, ValueError):
                payload = None
            out.append({"seq": seq, "t": t, "kind": kind, "payload": payload})
        return out

    def _rebuild(self, session_id: str, started_at: Any, source: Any, duration: Any) -> dict:
        """The session JSON from the journal, through the same SessionRecorder a live call uses."""
        from callcoach.session import SessionRecorder

        recorder = SessionRecorder(source if isinstance(source, str) else None)
        recorder.id = session_id
        recorder.started_at = started_at if isinstance(started_at, str) else None
        bad = 0
        last_t = duration if finite(duration) else 0.0
        try:
            rows = self._db.execute("SELECT t, kind, json FROM events WHERE session_id = ? ORDER BY seq",
                                    (session_id,)).fetchall()
        except sqlite3.DatabaseError:
            rows, bad = [], 1
        for t, kind, body in rows:
            event = event_from_json(kind, body)
            if event is None:
                bad += 1
                continue
            recorder(event)
            if finite(t):
                last_t = max(last_t, t)
        if recorder.duration == 0.0:
            recorder.duration = float(last_t)
        summary = recorder.summary()
        summary["_bad_events"] = bad
        return summary

    def _damaged_session(self, session_id: str, problem: str) -> dict:
        from callcoach.session import SCHEMA

        return {"schema": SCHEMA, "id": session_id, "started_at": None, "duration_s": None, "utterances": [],
                "prompts": [], "metrics": {}, "status": "damaged", "complete": False, "damaged": True,
                "problem": problem, "qa": {"note": None, "score": None}}


def _damaged_row(session_id: Any, problem: str) -> dict:
    row = {c: None for c in LIST_COLUMNS}
    row.update(id=str(session_id), status="damaged", escalated=False, prompts_shown=0, prompts_acted=0,
               problem=problem)
    return row


def _parse_summary(body: Any) -> tuple[dict | None, str | None]:
    if not isinstance(body, (str, bytes)):
        return None, "no summary stored"
    try:
        summary = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"summary is not valid JSON ({one_line(exc)})"
    if not isinstance(summary, dict):
        return None, "summary is not a JSON object"
    for key, kind in (("utterances", list), ("prompts", list)):
        if not isinstance(summary.get(key, []), kind):
            return None, f"summary key {key!r} is not a {kind.__name__}"
    return summary, None

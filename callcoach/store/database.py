"""The crash-safe session store: one SQLite file (WAL) in the user's data folder.

A call is written while it happens, as a journal of events (utterances, prompts, agent
feedback, notices such as device gaps), by `StoreWriter` on its own thread, committed at
least every 0.5 s. A process killed mid-call therefore loses at most the last half second
or so; on the next start `SessionStore.recover()` marks the call `incomplete` and `get()`
rebuilds its session JSON from the journal. A call that ends normally gets its session
summary (DESIGN.md, `callcoach.session.v1`) and its journal is dropped.

What is stored has been through `callcoach.redact` first (unless redaction is switched off
and no policy forces it): the record never holds a card number, even when the live
transcript on screen did. The folder is 0700 and the files 0600.

Nothing a damaged record holds reaches the caller as an exception: a row or a JSON
document that cannot be read is shown as a `damaged` session. A file that is not a
session store at all gives one line (CallCoachError) and is left exactly as it was.

No Qt here: the widget, the QA review and the tests all use this module.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import json
import math
import os
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from callcoach.errors import CallCoachError

SCHEMA_VERSION = 1
STATUSES = ("live", "complete", "incomplete", "damaged")
STORE_FILE = "sessions.db"
SIDE_FILES = ("-wal", "-shm", "-journal")
_SQLITE_MAGIC = b"SQLite format 3\x00"

# A writer that is alive touches its session at least this often (heartbeat) ...
HEARTBEAT_S = 5.0
# ... so a 'live' session untouched for this long is orphaned even if some process now has
# the writer's old pid (pid reuse after a reboot).
STALE_S = 60.0

# Columns list_sessions() returns (everything but the summary JSON), in CSV order too.
LIST_COLUMNS = ("id", "started_at", "agent", "source", "status", "duration_s", "worst_mood",
                "escalated", "prompts_shown", "prompts_acted", "qa_score", "qa_note", "updated_at")
SORT_KEYS = ("started_at", "duration_s", "worst_mood", "escalated", "prompts_shown", "prompts_acted",
             "qa_score", "agent", "status", "updated_at")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id            TEXT PRIMARY KEY,
    started_at    TEXT NOT NULL,
    agent         TEXT,
    source        TEXT,
    status        TEXT NOT NULL,
    writer_pid    INTEGER,
    duration_s    REAL,
    worst_mood    REAL,
    escalated     INTEGER NOT NULL DEFAULT 0,
    prompts_shown INTEGER NOT NULL DEFAULT 0,
    prompts_acted INTEGER NOT NULL DEFAULT 0,
    qa_score      REAL,
    updated_at    TEXT NOT NULL,
    qa_note       TEXT
);
-- The summary JSON (tens of kB) lives in its own table: the sessions table stays a few
-- hundred bytes a row, so listing 10,000 of them reads ~2 MB, not the whole file.
CREATE TABLE IF NOT EXISTS summaries (
    session_id    TEXT PRIMARY KEY,
    summary_json  TEXT
);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (started_at);
CREATE INDEX IF NOT EXISTS sessions_status ON sessions (status, started_at);
CREATE INDEX IF NOT EXISTS sessions_agent ON sessions (agent, started_at);
CREATE INDEX IF NOT EXISTS sessions_mood ON sessions (worst_mood);
CREATE INDEX IF NOT EXISTS sessions_duration ON sessions (duration_s);
CREATE TABLE IF NOT EXISTS events (
    session_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    t          REAL,
    kind       TEXT NOT NULL,
    json       TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
"""


# --------------------------------------------------------------------------- paths


def default_store_path(settings=None) -> Path:
    """sessions.db in the `session_folder` setting (IT may set and lock it), else in
    CALLCOACH_DATA_DIR, else in the per-user data folder."""
    from callcoach.settings import Settings, expand_path

    settings = settings or Settings()
    folder = expand_path(settings.get("session_folder")) or os.environ.get("CALLCOACH_DATA_DIR")
    if not folder:
        from platformdirs import user_data_dir

        folder = user_data_dir("CallCoach", appauthor=False)
    return Path(folder) / STORE_FILE


def _private_folder(folder: Path) -> None:
    """Create the folder readable by the user only (0700).

    An existing folder is tightened only when it is CallCoach's own data folder; a folder
    the user pointed CALLCOACH_DATA_DIR at is theirs (the files in it are still 0600).
    """
    created = False
    if not folder.exists():
        try:
            folder.mkdir(mode=0o700, parents=True)
            created = True
        except FileExistsError:
            pass
        except OSError as exc:
            raise CallCoachError(f"cannot create the session folder {folder}: {_one_line(exc)}") from None
    if not folder.is_dir():
        raise CallCoachError(f"{folder} is not a folder; cannot keep sessions there")
    if created or folder.name == "CallCoach":
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass


def _private_files(path: Path) -> None:
    """The database and its side files (-wal, -shm, -journal): 0600."""
    for candidate in [path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)]:
        try:
            os.chmod(candidate, 0o600)
        except OSError:
            pass


# --------------------------------------------------------------------------- helpers


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _utc_iso(value: Any) -> str:
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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


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


def _orphaned(pid: Any, updated_at: Any) -> bool:
    """A 'live' session nobody writes any more: its writer is gone or has been silent too long."""
    return not _pid_alive(pid) or _age_s(updated_at) > STALE_S


def _finite(x: Any) -> bool:
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
        "duration_s": float(duration) if _finite(duration) else None,
        "worst_mood": float(worst) if _finite(worst) else None,
        "escalated": bool(metrics.get("escalated")) or any(p.get("kind") == "escalate" for p in prompts),
        "prompts_shown": len(prompts),
        "prompts_acted": acted,
    }


# --------------------------------------------------------------------------- the store


class SessionStore:
    """All sessions of this user. Thread-safe (one connection behind a lock)."""

    def __init__(self, path: str | os.PathLike | None = None, *, timeout_s: float = 5.0):
        self.path = Path(path) if path is not None else default_store_path()
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._seq: dict[str, int] = {}
        _private_folder(self.path.parent)
        self._check_file()
        try:
            if not self.path.exists():
                # Created 0600 by us, before SQLite: SQLite gives -wal/-shm the db file's mode.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise CallCoachError(f"cannot create the session store {self.path}: {_one_line(exc)}") from None
        try:
            self._db = sqlite3.connect(str(self.path), timeout=timeout_s, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise CallCoachError(f"cannot open the session store {self.path}: {_one_line(exc)}") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            self._validate()  # reads only: a foreign or broken file is never written to
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = OFF")
            self._create_schema()
        except CallCoachError:
            self._db.close()
            raise
        except sqlite3.Error as exc:
            self._db.close()
            raise CallCoachError(f"{self.path} is damaged or not a CallCoach session store "
                                 f"({_one_line(exc)}); it was left as it is") from None
        _private_files(self.path)

    # -- opening -------------------------------------------------------------------------

    def _check_file(self) -> None:
        """A file that is there must look like SQLite before SQLite ever touches it."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        except OSError as exc:
            raise CallCoachError(f"cannot read the session store {self.path}: {_one_line(exc)}") from None
        if self.path.is_dir():
            raise CallCoachError(f"{self.path} is a folder, not a session store")
        if size == 0:
            return  # a fresh file (ours, created just before a crash) is an empty database
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(100)
        except OSError as exc:
            raise CallCoachError(f"cannot read the session store {self.path}: {_one_line(exc)}") from None
        if not head.startswith(_SQLITE_MAGIC) or len(head) < 100:
            raise CallCoachError(f"{self.path} is not a CallCoach session store (not an SQLite "
                                 "database); it was left as it is — move it away to start a new store")

    def _validate(self) -> None:
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return  # empty database: ours to set up
        if "sessions" not in tables or "schema_version" not in tables:
            raise CallCoachError(f"{self.path} is an SQLite database but not a CallCoach session "
                                 "store; it was left as it is")
        row = self._db.execute("SELECT max(version) FROM schema_version").fetchone()
        version = row[0] if row else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise CallCoachError(f"{self.path} was written by a newer CallCoach (store version "
                                 f"{version}, this one reads {SCHEMA_VERSION})")
        self._db.execute("SELECT count(*) FROM sessions").fetchone()  # touches the table's pages

    def _create_schema(self) -> None:
        with self._tx():
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
            if self._db.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 0:
                self._db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        _private_files(self.path)

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """One transaction (or part of the enclosing `batch()`), errors as CallCoachError."""
        with self._lock:
            outer = self._batch_depth == 0
            self._batch_depth += 1
            try:
                if outer:
                    self._db.execute("BEGIN IMMEDIATE")
                yield
                if outer:
                    self._db.execute("COMMIT")
            except BaseException as exc:
                if outer and self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(exc, sqlite3.Error):
                    raise CallCoachError(f"session store {self.path}: {_one_line(exc)}") from None
                raise
            finally:
                self._batch_depth -= 1

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one commit (the writer thread's half-second batches)."""
        with self._tx():
            yield

    # -- writing -------------------------------------------------------------------------

    def begin(self, meta: dict | None = None) -> str:
        """A new live session; `meta` may give id, started_at, agent, source. Returns the id."""
        meta = dict(meta or {})
        session_id = str(meta.get("id") or uuid.uuid4().hex)
        started = _utc_iso(meta.get("started_at"))
        with self._tx():
            self._db.execute(
                "INSERT INTO sessions (id, started_at, agent, source, status, writer_pid, updated_at)"
                " VALUES (?, ?, ?, ?, 'live', ?, ?)",
                (session_id, str(started), meta.get("agent"), meta.get("source"), os.getpid(), _now_iso()))
        self._seq[session_id] = 0
        return session_id

    def append(self, session_id: str, kind: str, t: float | None, payload: Any) -> None:
        """One journal event (already redacted) of a session."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_json_default)
        with self._tx():
            seq = self._next_seq(session_id)
            self._db.execute("INSERT INTO events (session_id, seq, t, kind, json) VALUES (?, ?, ?, ?, ?)",
                             (session_id, seq, t if _finite(t) else None, kind, body))

    def _next_seq(self, session_id: str) -> int:
        seq = self._seq.get(session_id)
        if seq is None:
            row = self._db.execute("SELECT max(seq) FROM events WHERE session_id = ?", (session_id,)).fetchone()
            seq = (row[0] + 1) if row and isinstance(row[0], int) else 0
        self._seq[session_id] = seq + 1
        return seq

    def touch(self, session_id: str, **figures: Any) -> None:
        """Heartbeat of a live session, with its figures so far (duration, worst mood...)."""
        allowed = {k: v for k, v in figures.items()
                   if k in ("duration_s", "worst_mood", "escalated", "prompts_shown", "prompts_acted")}
        sets = "".join(f", {k} = ?" for k in allowed)
        with self._tx():
            self._db.execute(f"UPDATE sessions SET updated_at = ?{sets} WHERE id = ?",
                             (_now_iso(), *allowed.values(), session_id))

    def finish(self, session_id: str, summary: dict, *, keep_events: bool = False) -> None:
        """The call ended: store its (redacted) summary, mark it complete, drop the journal."""
        body = json.dumps(summary, ensure_ascii=False, default=_json_default)
        f = summary_figures(summary)
        with self._tx():
            self._db.execute(
                "UPDATE sessions SET status = 'complete', duration_s = ?, worst_mood = ?,"
                " escalated = ?, prompts_shown = ?, prompts_acted = ?, updated_at = ? WHERE id = ?",
                (f["duration_s"], f["worst_mood"], int(f["escalated"]), f["prompts_shown"],
                 f["prompts_acted"], _now_iso(), session_id))
            self._db.execute("INSERT OR REPLACE INTO summaries (session_id, summary_json) VALUES (?, ?)",
                             (session_id, body))
            if not keep_events:
                self._db.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
        self._seq.pop(session_id, None)

    def abandon(self, session_id: str) -> None:
        """The writer stops before the call ended (app closed mid-call): incomplete."""
        with self._tx():
            self._db.execute("UPDATE sessions SET status = 'incomplete', updated_at = ? "
                             "WHERE id = ? AND status = 'live'", (_now_iso(), session_id))
        self._seq.pop(session_id, None)

    def recover(self) -> list[str]:
        """Sessions left 'live' by a writer that is gone → 'incomplete'. Returns their ids."""
        recovered = []
        with self._tx():
            rows = self._db.execute(
                "SELECT id, writer_pid, updated_at FROM sessions WHERE status = 'live'").fetchall()
            for session_id, pid, updated in rows:
                if not _orphaned(pid, updated):
                    continue  # a running CallCoach is recording it
                duration = self._db.execute(
                    "SELECT max(t) FROM events WHERE session_id = ?", (session_id,)).fetchone()[0]
                self._db.execute(
                    "UPDATE sessions SET status = 'incomplete', updated_at = ?,"
                    " duration_s = coalesce(max(coalesce(duration_s, 0), ?), duration_s) WHERE id = ?",
                    (_now_iso(), duration if _finite(duration) else None, session_id))
                recovered.append(session_id)
        return recovered

    def set_qa(self, session_id: str, note: str | None, score: float | None, *, redact: bool = True) -> bool:
        """The QA reviewer's note (redacted like everything else) and score; False if no such session."""
        if score is not None and not _finite(score):
            raise ValueError(f"QA score must be a number, not {score!r}")
        if note is not None and redact:
            note = redact_text(str(note))
        with self._tx():
            cur = self._db.execute("UPDATE sessions SET qa_note = ?, qa_score = ?, updated_at = ? WHERE id = ?",
                                   (note, None if score is None else float(score), _now_iso(), session_id))
        return cur.rowcount > 0

    def mark_damaged(self, session_id: str) -> None:
        try:
            with self._tx():
                self._db.execute("UPDATE sessions SET status = 'damaged' WHERE id = ?", (session_id,))
        except CallCoachError:
            pass  # a read-only or broken file: the reader still shows it as damaged

    # -- reading -------------------------------------------------------------------------

    def list_sessions(self, *, status: str | Sequence[str] | None = None, agent: str | None = None,
                      source: str | None = None, escalated: bool | None = None,
                      since: str | None = None, until: str | None = None,
                      min_duration: float | None = None, max_worst_mood: float | None = None,
                      reviewed: bool | None = None, sort: str = "started_at", descending: bool = True,
                      limit: int | None = None, offset: int = 0) -> list[dict]:
        """Sessions as dicts of LIST_COLUMNS (+ "problem" for damaged ones), newest first.

        Filters combine with AND: status (one or several), agent, source, escalated,
        started_at in [since, until) (ISO-8601 strings), duration ≥ min_duration, worst mood
        ≤ max_worst_mood, reviewed (has a QA score or note). `sort` is one of SORT_KEYS.
        A 'live' session whose writer is gone is listed as 'incomplete' even before recover().
        """
        where, args = self._where(status, agent, source, escalated, since, until, min_duration,
                                  max_worst_mood, reviewed)
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
                raise CallCoachError(f"session store {self.path}: {_one_line(exc)}") from None

    @staticmethod
    def _where(status=None, agent=None, source=None, escalated=None, since=None, until=None,
               min_duration=None, max_worst_mood=None, reviewed=None) -> tuple[str, list]:
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
            if d[key] is not None and not _finite(d[key]):
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
        elif d["status"] == "live" and _orphaned(pid, d["updated_at"]):
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
            raise CallCoachError(f"session store {self.path} is damaged ({_one_line(first_error)})")
        out = []
        for session_id in ids:
            try:
                row = self._db.execute(f"SELECT {', '.join(LIST_COLUMNS)}, writer_pid FROM sessions WHERE id = ?",
                                       (session_id,)).fetchone()
                out.append(self._row(row) if row else _damaged_row(session_id, "row missing"))
            except sqlite3.DatabaseError as exc:
                out.append(_damaged_row(session_id, f"unreadable row ({_one_line(exc)})"))
        out.sort(key=lambda r: r["started_at"] if isinstance(r["started_at"], str) else "", reverse=True)
        return out

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
                return self._damaged_session(session_id, f"unreadable row ({_one_line(exc)})")
            if row is None:
                return None
            sid, started, agent, source, status, pid, duration, note, score, updated = row
            try:
                found = self._db.execute("SELECT summary_json FROM summaries WHERE session_id = ?",
                                         (session_id,)).fetchone()
                body = found[0] if found else None
            except sqlite3.DatabaseError as exc:
                body = f"unreadable: {_one_line(exc)}"  # parses as damaged below
            qa = {"note": note if isinstance(note, str) else None, "score": score if _finite(score) else None}
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
            if status == "live" and _orphaned(pid, updated):
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
        last_t = duration if _finite(duration) else 0.0
        try:
            rows = self._db.execute("SELECT t, kind, json FROM events WHERE session_id = ? ORDER BY seq",
                                    (session_id,)).fetchall()
        except sqlite3.DatabaseError:
            rows, bad = [], 1
        for t, kind, body in rows:
            event = _event_from_json(kind, body)
            if event is None:
                bad += 1
                continue
            recorder(event)
            if _finite(t):
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

    # -- export --------------------------------------------------------------------------

    @staticmethod
    def export_csv(rows: Iterable[dict], path: str | os.PathLike) -> int:
        """Write listing rows to a CSV file (0600, atomically); returns the number of rows.

        Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading '.
        """
        path = Path(path)
        if not path.parent.is_dir():
            raise CallCoachError(f"cannot write {path}: folder {path.parent} does not exist")
        columns = [*LIST_COLUMNS, "problem"]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        n = 0
        for row in rows:
            writer.writerow([_csv_cell(row.get(c)) for c in columns])
            n += 1
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(buffer.getvalue())
            os.replace(tmp, path)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise CallCoachError(f"cannot write {path}: {_one_line(exc)}") from None
        return n


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


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
        return None, f"summary is not valid JSON ({_one_line(exc)})"
    if not isinstance(summary, dict):
        return None, "summary is not a JSON object"
    for key, kind in (("utterances", list), ("prompts", list)):
        if not isinstance(summary.get(key, []), kind):
            return None, f"summary key {key!r} is not a {kind.__name__}"
    return summary, None


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


# --------------------------------------------------------------------------- events <-> JSON


def _event_classes() -> dict[str, type]:
    from callcoach.coach.events import CallSummary, Feedback, Prompt, PromptCleared, ScoredUtterance
    from callcoach.engine.events import AudioDropped, CallEnded, DeviceGap, Notice, Utterance

    return {c.__name__: c for c in (Utterance, ScoredUtterance, Prompt, PromptCleared, Feedback, Notice,
                                    CallSummary, CallEnded, DeviceGap, AudioDropped)}


STORED_KINDS = ("Utterance", "ScoredUtterance", "Prompt", "PromptCleared", "Feedback", "Notice",
                "CallSummary", "CallEnded", "DeviceGap", "AudioDropped")


def _event_from_json(kind: str, body: Any):
    """The event object a journal row describes, or None if it cannot be made."""
    cls = _event_classes().get(kind)
    if cls is None:
        return None
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in data.items() if k in names}
        if kind == "Utterance":
            from callcoach.engine.transcriber import Word

            data["words"] = tuple(Word(str(w.get("text", "")), float(w["start"]), float(w["end"]),
                                       float(w.get("probability", 0.0))) for w in data.get("words") or ())
        for key in ("checklist", "cues"):
            if key in data:
                data[key] = tuple(data[key] or ())
        return cls(**data)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


# --------------------------------------------------------------------------- redaction


def _redact_module():
    from callcoach import redact  # written alongside; imported only when something is stored

    return redact


def redact_text(text: str | None) -> str | None:
    """One piece of text with personal data removed (no state carried between calls)."""
    if not text:
        return text
    return _redact_module().redact(text).text


def _redact_words(words: Sequence, original: str, redacted: str) -> tuple:
    """Word timings kept; the words' text follows the redacted utterance text.

    Tokens the redactor left alone keep their word; a replaced stretch puts the replacement
    on its first word and empties the others. If the result would still read as personal
    data, every word loses its text (timings stay).
    """
    if redacted == original:
        return tuple(words)
    old = [w.text.strip() for w in words]
    new = redacted.split()
    texts = [w.text for w in words]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            for k in range(i1, i2):
                texts[k] = ""
            lead = " " if words[i1].text[:1] == " " else ""
            texts[i1] = (lead + " ".join(new[j1:j2])) if j2 > j1 else ""
    if _redact_module().redact(" ".join(texts)).found:
        texts = [""] * len(words)
    return tuple(dataclasses.replace(w, text=t) for w, t in zip(words, texts))


class EventRedactor:
    """Redaction of everything a call would store: utterances through one StreamRedactor
    (a number read in pieces, or asked for by the other speaker, is still caught), the
    rest (prompt reasons, handoff note, checklist, notices) one text at a time."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._stream = None

    def text(self, text: str | None) -> str | None:
        return redact_text(text) if self.enabled else text

    def event(self, event):
        if not self.enabled:
            return event
        name = type(event).__name__
        if name == "Utterance":
            if self._stream is None:
                self._stream = _redact_module().StreamRedactor()
            text = self._stream.push(event.text, event.role, event.end)
            return dataclasses.replace(event, text=text, words=_redact_words(event.words, event.text, text))
        if name == "Prompt":
            return dataclasses.replace(
                event, because=self.text(event.because), handoff=self.text(event.handoff),
                message=self.text(event.message), phrase=self.text(event.phrase),
                checklist=tuple(self.text(c) for c in event.checklist))
        if name == "Notice":
            return dataclasses.replace(event, message=self.text(event.message))
        if name == "DeviceGap":
            return dataclasses.replace(event, reason=self.text(event.reason))
        if name == "CallSummary":
            return dataclasses.replace(event, handoff=self.text(event.handoff),
                                       checklist=tuple(self.text(c) for c in event.checklist))
        return event


def redacted_recorder(pipeline):
    """A second SessionRecorder for this call (same id and start) that only sees redacted
    events: its summary is what may be written to a file."""
    from callcoach.session import SessionRecorder

    rec = pipeline.recorder
    recorder = SessionRecorder(rec.source)
    recorder.id, recorder.started_at = rec.id, rec.started_at
    redactor = EventRedactor(True)
    pipeline.subscribe(lambda event: recorder(redactor.event(event)))
    return recorder


# --------------------------------------------------------------------------- the writer


_CLOSE = object()
_TAKEN = frozenset(STORED_KINDS) | {"CoachState"}
_MAX_WAITING_ROWS = 50_000  # while the store cannot be written: bounded memory


class StoreWriter:
    """Pipeline listener that journals a call into the store as it happens.

    `writer = StoreWriter(store, meta={...}); pipeline.subscribe(writer)` — or
    `StoreWriter.attach(pipeline, store)`. Calling the listener only enqueues (it runs on
    the engine's threads); a background thread redacts and writes, committing at least
    every `flush_s` seconds. At the end of the call (CallEnded, then the coach's
    CallSummary) the session is finished with its redacted summary. `close()` flushes
    what is queued and stops the thread; a call closed before it ended is 'incomplete'.

    `redact` is the effective setting: pass `settings.get("redact")` (a machine policy
    that locks it on wins there). Write failures never reach the engine: they are kept in
    `errors` (one line each) and passed to `on_error`.
    """

    def __init__(self, store: SessionStore | str | os.PathLike | None = None, *, meta: dict | None = None,
                 redact: bool = True, flush_s: float = 0.5, on_error=None):
        self._own_store = not isinstance(store, SessionStore)
        self.store = store if isinstance(store, SessionStore) else SessionStore(store)
        if redact:
            _redact_module()  # fail now, on the caller's thread, rather than store raw words later
        self.redactor = EventRedactor(redact)
        self.flush_s = flush_s
        self.on_error = on_error
        self.errors: list[str] = []
        self.dropped = 0
        meta = dict(meta or {})
        from callcoach.session import SessionRecorder

        self.recorder = SessionRecorder(meta.get("source"))  # sees only redacted events
        meta.setdefault("id", self.recorder.id)
        meta.setdefault("started_at", self.recorder.started_at)
        try:
            self.id = self.store.begin(meta)
        except CallCoachError:
            if self._own_store:
                self.store.close()
            raise
        self.recorder.id, self.recorder.started_at = self.id, _utc_iso(meta["started_at"])
        self.finished = threading.Event()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._rows: list[tuple] = []  # redacted, not yet committed
        self._ended = False
        self._finish = False
        self._closed = False
        self._figures = {"duration_s": 0.0, "worst_mood": None, "escalated": False,
                         "prompts_shown": 0, "prompts_acted": 0}
        self._thread = threading.Thread(target=self._run, name="callcoach-store", daemon=True)
        self._thread.start()

    @classmethod
    def attach(cls, pipeline, store: SessionStore | str | os.PathLike | None = None, *, agent: str | None = None,
               redact: bool = True, **kwargs) -> StoreWriter:
        """A writer for this pipeline's call (same id and start time as its recorder), subscribed."""
        rec = pipeline.recorder
        writer = cls(store, meta={"id": rec.id, "started_at": rec.started_at, "source": rec.source, "agent": agent},
                     redact=redact, **kwargs)
        pipeline.subscribe(writer)
        return writer

    # -- listener (engine threads) ---------------------------------------------------------

    def __call__(self, event: object) -> None:
        if type(event).__name__ in _TAKEN:
            self._queue.put(event)

    # -- writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        deadline = None  # when what is waiting must be committed
        last_write = time.monotonic()
        stop = False
        while not stop:
            timeout = HEARTBEAT_S if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            flushes = []
            while item is not None:  # take everything already queued
                if item is _CLOSE:
                    stop = True
                elif isinstance(item, _Flush):
                    flushes.append(item.done)
                else:
                    self._take(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            now = time.monotonic()
            if (self._rows or self._finish) and deadline is None:
                deadline = now + self.flush_s
            if deadline is not None and (now >= deadline or stop or flushes or self._finish):
                if self._commit():
                    deadline = None
                else:  # the store is busy or failing: try again a little later
                    deadline = time.monotonic() + max(self.flush_s, 1.0)
                last_write = time.monotonic()
            elif not self.finished.is_set() and now - last_write >= HEARTBEAT_S:
                self._guard(lambda: self.store.touch(self.id, **self._figures))
                last_write = now
            for done in flushes:
                done.set()
        if self._rows:
            self.dropped += len(self._rows)
            self._error(f"{len(self._rows)} events of the call could not be saved")
        if not self.finished.is_set():
            self._guard(lambda: self.store.abandon(self.id))

    def _take(self, event) -> None:
        """Redact one event and turn it into a journal row (writer thread)."""
        name = type(event).__name__
        if name == "CoachState":
            self._track_state(event)
            return
        try:
            clean = self.redactor.event(event)
        except Exception as exc:  # a redactor bug must never let raw words through
            self._error(f"redaction failed, {name} not stored: {_one_line(exc)}")
            return
        self.recorder(clean)
        self._track(clean)
        if len(self._rows) >= _MAX_WAITING_ROWS:
            self._rows.pop(0)
            self.dropped += 1
        self._rows.append((name, _event_time(clean), dataclasses.asdict(clean)))
        if name == "CallEnded":
            self._ended = True
        elif name == "CallSummary" and self._ended:
            self._finish = True

    def _commit(self) -> bool:
        """Everything waiting in one transaction; with the summary once the call has ended."""
        try:
            with self.store.batch():
                for kind, t, payload in self._rows:
                    self.store.append(self.id, kind, t, payload)
                if self._finish:  # again after late events (feedback on the follow-up card)
                    self.store.finish(self.id, self.recorder.summary())
                else:
                    self.store.touch(self.id, **self._figures)
        except (CallCoachError, sqlite3.Error) as exc:
            self.store._seq.pop(self.id, None)  # re-read the next seq after the rollback
            self._error(f"could not save the call: {_one_line(exc)}")
            return False
        self._rows = []
        if self._finish:
            self.finished.set()
        return True

    def _track(self, event) -> None:
        name = type(event).__name__
        f = self._figures
        t = _event_time(event)
        if t is not None:
            f["duration_s"] = max(f["duration_s"], round(t, 2))
        if name == "Prompt":
            f["prompts_shown"] += 1
            if event.kind == "escalate":
                f["escalated"] = True
        elif name == "Feedback" and event.action == "done":
            f["prompts_acted"] += 1
        elif name == "PromptCleared" and event.reason == "acted_on":
            f["prompts_acted"] += 1

    def _track_state(self, state) -> None:
        f = self._figures
        if _finite(state.mood):
            f["worst_mood"] = state.mood if f["worst_mood"] is None else min(f["worst_mood"], state.mood)
        f["escalated"] = f["escalated"] or bool(state.escalated)
        if _finite(state.t):
            f["duration_s"] = max(f["duration_s"], round(state.t, 2))

    def _guard(self, action) -> None:
        try:
            action()
        except CallCoachError as exc:
            self._error(_one_line(exc))

    def _error(self, message: str) -> None:
        if len(self.errors) < 100:
            self.errors.append(message)
        if self.on_error:
            try:
                self.on_error(message)
            except Exception:
                pass

    # -- closing ---------------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> None:
        """Block until everything queued so far is written (tests, the end of a call)."""
        done = threading.Event()
        self._queue.put(_Flush(done))
        done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, stop the thread; the session ends complete or incomplete."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_CLOSE)
        self._thread.join(timeout)
        if self._own_store:
            self.store.close()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Flush:
    def __init__(self, done: threading.Event):
        self.done = done


def _event_time(event) -> float | None:
    for attr in ("end", "t", "duration"):
        value = getattr(event, attr, None)
        if _finite(value):
            return float(value)
    return None

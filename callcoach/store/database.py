"""SessionStore: opening the file (a foreign or broken one is left as it is), the schema,
transactions, writing sessions and their journals, CSV export. Reading is in reading.py."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from callcoach.errors import CallCoachError, one_line
from callcoach.store.common import finite, now_iso, orphaned, summary_figures, utc_iso
from callcoach.store.events import json_default
from callcoach.store.paths import private_files, private_folder
from callcoach.store.reading import SessionReading
from callcoach.store.redaction import redact_text
from callcoach.store.outbox import Outbox
from callcoach.store.schema import MIGRATIONS, SCHEMA_SQL, SQLITE_MAGIC, LIST_COLUMNS, SCHEMA_VERSION


class SessionStore(SessionReading, Outbox):
    """All sessions of this user. Thread-safe (one connection behind a lock)."""

    remote = False  # a SessionSource read in milliseconds: the review window reads it on the GUI thread

    def __init__(self, path: str | os.PathLike, *, timeout_s: float = 5.0):
        self.path = Path(path)  # the command's store: default_store_path(settings) or its own
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._seq: dict[str, int] = {}
        private_folder(self.path.parent)
        self._check_file()
        try:
            if not self.path.exists():
                # Created 0600 by us, before SQLite: SQLite gives -wal/-shm the db file's mode.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise CallCoachError(f"cannot create the session store {self.path}: {one_line(exc)}") from None
        try:
            self._db = sqlite3.connect(str(self.path), timeout=timeout_s, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise CallCoachError(f"cannot open the session store {self.path}: {one_line(exc)}") from None
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
                                 f"({one_line(exc)}); it was left as it is") from None
        private_files(self.path)

    # -- opening -------------------------------------------------------------------------

    def _check_file(self) -> None:
        """A file that is there must look like SQLite before SQLite ever touches it."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        except OSError as exc:
            raise CallCoachError(f"cannot read the session store {self.path}: {one_line(exc)}") from None
        if self.path.is_dir():
            raise CallCoachError(f"{self.path} is a folder, not a session store")
        if size == 0:
            return  # a fresh file (ours, created just before a crash) is an empty database
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(100)
        except OSError as exc:
            raise CallCoachError(f"cannot read the session store {self.path}: {one_line(exc)}") from None
        if not head.startswith(SQLITE_MAGIC) or len(head) < 100:
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
            for statement in filter(str.strip, SCHEMA_SQL.split(";")):
                self._db.execute(statement)
            version = self._db.execute("SELECT max(version) FROM schema_version").fetchone()[0]
            if version is None:
                self._db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                return
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    self._db.execute(statement)
            self._db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        private_files(self.path)

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
                    raise CallCoachError(f"session store {self.path}: {one_line(exc)}") from None
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
        """A new live session; `meta` may give id, started_at, agent, source, and redacted
        (whether what is stored went through the redactor; only such sessions ever leave the
        PC). Returns the id."""
        meta = dict(meta or {})
        session_id = str(meta.get("id") or uuid.uuid4().hex)
        started = utc_iso(meta.get("started_at"))
        redacted = meta.get("redacted")
        with self._tx():
            self._db.execute(
                "INSERT INTO sessions (id, started_at, agent, source, status, writer_pid, updated_at, redacted)"
                " VALUES (?, ?, ?, ?, 'live', ?, ?, ?)",
                (session_id, str(started), meta.get("agent"), meta.get("source"), os.getpid(), now_iso(),
                 None if redacted is None else int(bool(redacted))))
        self._seq[session_id] = 0
        return session_id

    def append(self, session_id: str, kind: str, t: float | None, payload: Any) -> None:
        """One journal event (already redacted) of a session."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=json_default)
        with self._tx():
            seq = self._next_seq(session_id)
            self._db.execute("INSERT INTO events (session_id, seq, t, kind, json) VALUES (?, ?, ?, ?, ?)",
                             (session_id, seq, t if finite(t) else None, kind, body))

    def _next_seq(self, session_id: str) -> int:
        seq = self._seq.get(session_id)
        if seq is None:
            row = self._db.execute("SELECT max(seq) FROM events WHERE session_id = ?", (session_id,)).fetchone()
            seq = (row[0] + 1) if row and isinstance(row[0], int) else 0
        self._seq[session_id] = seq + 1
        return seq

    def forget_seq(self, session_id: str) -> None:
        """The session's next event seq is read from the database again (after it ended, or
        after a batch was rolled back)."""
        self._seq.pop(session_id, None)

    def touch(self, session_id: str, **figures: Any) -> None:
        """Heartbeat of a live session, with its figures so far (duration, worst mood...)."""
        allowed = {k: v for k, v in figures.items()
                   if k in ("duration_s", "worst_mood", "escalated", "prompts_shown", "prompts_acted")}
        sets = "".join(f", {k} = ?" for k in allowed)
        with self._tx():
            self._db.execute(f"UPDATE sessions SET updated_at = ?{sets} WHERE id = ?",
                             (now_iso(), *allowed.values(), session_id))

    def finish(self, session_id: str, summary: dict, *, keep_events: bool = False) -> None:
        """The call ended: store its (redacted) summary, mark it complete, drop the journal."""
        body = json.dumps(summary, ensure_ascii=False, default=json_default)
        f = summary_figures(summary)
        with self._tx():
            self._db.execute(
                "UPDATE sessions SET status = 'complete', duration_s = ?, worst_mood = ?,"
                " escalated = ?, prompts_shown = ?, prompts_acted = ?, updated_at = ? WHERE id = ?",
                (f["duration_s"], f["worst_mood"], int(f["escalated"]), f["prompts_shown"],
                 f["prompts_acted"], now_iso(), session_id))
            self._db.execute("INSERT OR REPLACE INTO summaries (session_id, summary_json) VALUES (?, ?)",
                             (session_id, body))
            if not keep_events:
                self._db.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
            self._queue_upload(session_id)
        self.forget_seq(session_id)

    def abandon(self, session_id: str) -> None:
        """The writer stops before the call ended (app closed mid-call): incomplete."""
        with self._tx():
            cur = self._db.execute("UPDATE sessions SET status = 'incomplete', updated_at = ? "
                                   "WHERE id = ? AND status = 'live'", (now_iso(), session_id))
            if cur.rowcount:
                self._queue_upload(session_id)
        self.forget_seq(session_id)

    def recover(self) -> list[str]:
        """Sessions left 'live' by a writer that is gone → 'incomplete'. Returns their ids."""
        recovered = []
        with self._tx():
            rows = self._db.execute(
                "SELECT id, writer_pid, updated_at FROM sessions WHERE status = 'live'").fetchall()
            for session_id, pid, updated in rows:
                if not orphaned(pid, updated):
                    continue  # a running CallCoach is recording it
                duration = self._db.execute(
                    "SELECT max(t) FROM events WHERE session_id = ?", (session_id,)).fetchone()[0]
                self._db.execute(
                    "UPDATE sessions SET status = 'incomplete', updated_at = ?,"
                    " duration_s = coalesce(max(coalesce(duration_s, 0), ?), duration_s) WHERE id = ?",
                    (now_iso(), duration if finite(duration) else None, session_id))
                self._queue_upload(session_id)
                recovered.append(session_id)
        return recovered

    def set_qa(self, session_id: str, note: str | None, score: float | None, *, redact: bool = True) -> bool:
        """The QA reviewer's note (redacted like everything else) and score; False if no such session."""
        if score is not None and not finite(score):
            raise ValueError(f"QA score must be a number, not {score!r}")
        if note is not None and redact:
            note = redact_text(str(note))
        with self._tx():
            cur = self._db.execute("UPDATE sessions SET qa_note = ?, qa_score = ?, updated_at = ? WHERE id = ?",
                                   (note, None if score is None else float(score), now_iso(), session_id))
        return cur.rowcount > 0

    def mark_damaged(self, session_id: str) -> None:
        try:
            with self._tx():
                cur = self._db.execute("UPDATE sessions SET status = 'damaged' WHERE id = ? AND status != 'damaged'",
                                       (session_id,))
                if cur.rowcount:
                    self._queue_upload(session_id)
        except CallCoachError:
            pass  # a read-only or broken file: the reader still shows it as damaged

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
            raise CallCoachError(f"cannot write {path}: {one_line(exc)}") from None
        return n


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value

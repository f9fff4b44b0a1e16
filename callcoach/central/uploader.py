"""Sending the outbox to the team store, in batches through its one ingest function.

Policy:
* The local store is the source of truth. A session leaves the outbox only when the server
  answered for its revision (stored, or already there); a crash between the server's commit
  and that acknowledgement means one resend, which the server ignores.
* A batch that fails (server down, refused connection, a schema this CallCoach does not
  speak) keeps every session and puts each off with exponential backoff and jitter, so a
  floor of desktops does not come back all at once. Nothing expires. Once a batch goes
  through, the server is back: the sessions still backing off go too, in the same pass.
* A session that must never leave (stored with redaction off; an id another desktop owns)
  stays in the outbox, marked, and is counted as failed; the background uploader skips it.
* Never on the GUI thread: `sync` runs it in the command's own thread, the widget and
  `listen` in `Uploader`'s.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass

from callcoach.central.connect import connect, server_name
from callcoach.central.payload import NotUploadable, upload_row
from callcoach.central.schema import INGEST_FUNCTION
from callcoach.errors import CallCoachError, one_line
from callcoach.store.database import SessionStore
from callcoach.store.outbox import NEVER, PendingUpload

log = logging.getLogger("callcoach.events")

BATCH = 20  # sessions per call of the ingest function (tens of kB each)
BACKOFF_FIRST_S = 5.0
BACKOFF_MAX_S = 300.0  # after an outage every desktop has tried again within 5 minutes
IDLE_WAKE_S = 60.0  # the background uploader looks at the outbox at least this often


@dataclass(frozen=True)
class SyncResult:
    uploaded: int
    already_there: int
    pending: int  # still waiting, to be retried
    failed: int  # refused this time (redaction off, another desktop's id)
    error: str | None = None  # why the server could not take the rest, if it could not
    batch_s: tuple[float, ...] = ()  # how long the server took for each batch (logs, benchmarks)

    def to_json(self) -> dict:
        return {"uploaded": self.uploaded, "already_there": self.already_there, "pending": self.pending,
                "failed": self.failed}


def backoff_s(attempts: int) -> float:
    """Exponential, capped, with jitter (50-100 % of the step)."""
    step = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** min(attempts, 20))
    return step * random.uniform(0.5, 1.0)


def upload_pending(store: SessionStore, dsn: str, *, due_only: bool = False) -> SyncResult:
    """Send what the outbox holds (only what is due after its backoff, with `due_only`)."""
    counts = {"uploaded": 0, "already_there": 0, "failed": 0}
    background = due_only  # what must stay on this PC is skipped, not counted again and again
    error = None
    sent: set[str] = set()  # one try per session per pass
    batch_s: list[float] = []
    try:
        with connect(dsn, purpose="upload to the team store") as db:
            while True:
                due = [p for p in store.uploads_due(BATCH + len(sent), now=time.time() if due_only else None,
                                                    skip_never=background) if p.session_id not in sent][:BATCH]
                if not due:
                    break
                sent.update(p.session_id for p in due)
                began = time.monotonic()
                error = _send(db, store, due, counts)
                if error:
                    break
                batch_s.append(time.monotonic() - began)
                due_only = False  # the server took a batch: what was backing off goes now too
    except CallCoachError as exc:
        error = str(exc)
    if error:  # the rest waits too, each with its own backoff
        for pending in store.uploads_due(10_000, now=time.time() if due_only else None, skip_never=True):
            if pending.session_id not in sent:
                store.upload_failed(pending.session_id, pending.revision, error,
                                    time.time() + backoff_s(pending.attempts))
        log.warning("team store: %s", error)
    return SyncResult(pending=store.outbox_state().pending, error=error, batch_s=tuple(batch_s), **counts)


def _send(db, store: SessionStore, due: list[PendingUpload], counts: dict) -> str | None:
    """One batch; the error that stopped it, if any."""
    import psycopg
    from psycopg.types.json import Jsonb

    rows = []
    for pending in due:
        session = store.get(pending.session_id)
        if session is None:  # deleted on this PC meanwhile: nothing to send
            store.upload_done(pending.session_id, pending.revision)
            continue
        try:
            rows.append(upload_row(pending, session))
        except NotUploadable as exc:
            store.upload_failed(pending.session_id, pending.revision, str(exc), NEVER)
            counts["failed"] += 1
    if not rows:
        return None
    try:
        answer = db.execute(f"SELECT {INGEST_FUNCTION}(%s)", (Jsonb([r.row for r in rows]),)).fetchone()[0]
    except psycopg.Error as exc:
        error = _server_error(db, exc)
        for r in rows:
            attempts = next(p.attempts for p in due if p.session_id == r.session_id)
            store.upload_failed(r.session_id, r.revision, error, time.time() + backoff_s(attempts))
        return error
    by_id = {r.session_id: r for r in rows}
    for r in rows:
        if r.rechecked:  # the stored copy held what the redactor now removes: IT should know
            log.warning("team store: %d texts of session %s were redacted again before upload", r.rechecked,
                        r.session_id)
    for key, outcome in (("stored", "uploaded"), ("already", "already_there")):
        for session_id in answer.get(key, []):
            store.upload_done(session_id, by_id[session_id].revision)
            counts[outcome] += 1
    for session_id in answer.get("refused", []):
        store.upload_failed(session_id, by_id[session_id].revision,
                            "the team store holds a session with this id from another desktop", NEVER)
        counts["failed"] += 1
    return None


def _server_error(db, exc) -> str:
    import psycopg

    where = server_name(db.info.dsn)
    if isinstance(exc, psycopg.errors.UndefinedFunction):
        return (f"the team store at {where} has no {INGEST_FUNCTION}: its schema is older or newer than "
                "this CallCoach; sessions are kept and retried later")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return f"the team store at {where} refused this desktop ({one_line(exc)}); sessions are kept"
    return f"the team store at {where}: {one_line(exc)}; sessions are kept and retried later"


def upload_once(store_path, dsn: str, on_result) -> threading.Thread:
    """One pass on its own thread, for a command that ends after its call (`listen`): join
    it before exiting. `on_result(SyncResult)`."""

    def run() -> None:
        try:
            with SessionStore(store_path) as store:
                on_result(upload_pending(store, dsn, due_only=True))
        except CallCoachError as exc:
            on_result(SyncResult(0, 0, 0, 0, error=str(exc)))

    thread = threading.Thread(target=run, name="callcoach-upload", daemon=True)
    thread.start()
    return thread


class Uploader:
    """The background uploader of a widget or `listen`: wakes after each call (`wake()`), at
    the earliest retry time, or every minute, and sends what is due. Its own thread only."""

    def __init__(self, store_path, dsn: str, *, on_result=None):
        self._store_path = store_path
        self._dsn = dsn
        self._on_result = on_result
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.last: SyncResult | None = None
        self._thread = threading.Thread(target=self._run, name="callcoach-upload", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            store = SessionStore(self._store_path)
        except CallCoachError as exc:
            log.warning("team store uploads stopped: %s", exc)
            return
        try:
            while not self._stop.is_set():
                self.last = upload_pending(store, self._dsn, due_only=True)
                if self._on_result:
                    self._on_result(self.last)
                self._wake.wait(self._next_wait(store))
                self._wake.clear()
        finally:
            store.close()

    @staticmethod
    def _next_wait(store: SessionStore) -> float:
        soonest = store.next_upload_time()
        if soonest is None:
            return IDLE_WAKE_S
        return min(IDLE_WAKE_S, max(0.5, soonest - time.time()))

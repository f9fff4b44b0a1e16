"""The store's outbox: sessions still to go to the team store (store and forward).

A session joins the outbox in the transaction that ends it (finished, abandoned, recovered
or found damaged), with its new revision; it leaves only when the server has that revision.
A newer revision queued while an older one is on its way stays queued. Rows never expire:
a desktop that is offline for a month uploads that month when it is back.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcoach.store.common import now_iso

NEVER = float("inf")  # next_try of a session that must not leave this PC (it stays, marked)


@dataclass(frozen=True)
class PendingUpload:
    session_id: str
    revision: int
    attempts: int  # failed tries so far (the backoff grows with it)
    redacted: bool | None  # as stored; None: stored before the store recorded it (version 1)


@dataclass(frozen=True)
class OutboxState:
    pending: int  # sessions waiting to be sent (or retried)
    never: int  # sessions that stay on this PC (redaction was off; the id is another desktop's)
    oldest_queued_at: str | None  # when the oldest session still waiting was queued
    last_error: str | None  # the newest failure of a session still waiting


class Outbox:
    """Mixed into SessionStore, which gives it `_db`, `_lock` and `_tx()`."""

    def _queue_upload(self, session_id: str) -> None:
        """Inside the transaction that ends a session: one more revision, queued to upload."""
        self._db.execute("UPDATE sessions SET revision = revision + 1 WHERE id = ?", (session_id,))
        self._db.execute(
            "INSERT INTO outbox (session_id, revision, queued_at) SELECT id, revision, ? FROM sessions WHERE id = ?"
            " ON CONFLICT (session_id) DO UPDATE SET revision = excluded.revision, attempts = 0, next_try = 0,"
            " last_error = NULL", (now_iso(), session_id))

    def uploads_due(self, limit: int, *, now: float | None = None, skip_never: bool = False) -> list[PendingUpload]:
        """The oldest queued sessions whose backoff has passed by `now` (None: all of them),
        without those that must stay on this PC when `skip_never`."""
        until = NEVER if now is None else now
        with self._tx():
            rows = self._db.execute(
                "SELECT o.session_id, o.revision, o.attempts, s.redacted FROM outbox o"
                " LEFT JOIN sessions s ON s.id = o.session_id WHERE o.next_try <= ? AND (? = 0 OR o.next_try < ?)"
                " ORDER BY o.queued_at, o.session_id LIMIT ?",
                (until, int(skip_never), NEVER, int(limit))).fetchall()
        return [PendingUpload(sid, rev, attempts, None if redacted is None else bool(redacted))
                for sid, rev, attempts, redacted in rows]

    def upload_done(self, session_id: str, revision: int) -> None:
        """The server has this revision (or a newer one): it leaves the outbox."""
        with self._tx():
            self._db.execute("DELETE FROM outbox WHERE session_id = ? AND revision <= ?", (session_id, revision))

    def upload_failed(self, session_id: str, revision: int, error: str, next_try: float) -> None:
        with self._tx():
            self._db.execute("UPDATE outbox SET attempts = attempts + 1, next_try = ?, last_error = ?"
                             " WHERE session_id = ? AND revision = ?", (next_try, error, session_id, revision))

    def next_upload_time(self) -> float | None:
        """When the soonest session waiting may be tried again (Unix time); None if none waits."""
        with self._tx():
            return self._db.execute("SELECT min(next_try) FROM outbox WHERE next_try < ?", (NEVER,)).fetchone()[0]

    def outbox_state(self) -> OutboxState:
        with self._tx():
            pending, never, oldest = self._db.execute(
                "SELECT count(*) FILTER (WHERE next_try < ?), count(*) FILTER (WHERE next_try >= ?),"
                " min(queued_at) FILTER (WHERE next_try < ?) FROM outbox", (NEVER, NEVER, NEVER)).fetchone()
            row = self._db.execute("SELECT last_error FROM outbox WHERE last_error IS NOT NULL AND next_try < ?"
                                   " ORDER BY next_try DESC LIMIT 1", (NEVER,)).fetchone()
        return OutboxState(int(pending), int(never), oldest, row[0] if row else None)

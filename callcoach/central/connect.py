"""Connecting to the team store: bounded waits, and one-line errors that name the server
(host and port, never a password or key path)."""

from __future__ import annotations

from contextlib import contextmanager
from collections.abc import Iterator

from callcoach.errors import CallCoachError, one_line

CONNECT_TIMEOUT_S = 5  # an unreachable server must not hold a sync, the doctor or QA for long
STATEMENT_TIMEOUT_MS = 30_000


def server_name(dsn: str) -> str:
    """host:port of a connection string, for messages."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(dsn)
    except Exception:  # a malformed string: say so without echoing it (it may hold a password)
        return "the team store (its connection string is not valid)"
    return f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}"


@contextmanager
def connect(dsn: str, *, purpose: str) -> Iterator:
    """An autocommit connection (callers open transactions); CallCoachError if it fails."""
    import psycopg

    try:
        db = psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                             application_name="callcoach",
                             options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")
    except psycopg.Error as exc:
        raise CallCoachError(f"cannot {purpose}: {server_name(dsn)} did not accept the connection "
                             f"({one_line(exc)})") from None
    try:
        yield db
    except psycopg.Error as exc:
        raise CallCoachError(f"cannot {purpose} on {server_name(dsn)}: {one_line(exc)}") from None
    finally:
        db.close()

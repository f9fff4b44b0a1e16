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


def check_tls(dsn: str) -> None:
    """Over the network only with the server's certificate and name checked: what leaves the
    PC must not go to whoever answers at that address. A Unix socket (the server's own
    machine: IT's administrator, tests) is not the network."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(dsn)
    except Exception:
        raise CallCoachError("the team store's connection string is not valid") from None
    hosts = [h for h in (params.get("host") or "").split(",") if h]
    remote = bool(params.get("hostaddr")) or any(not h.startswith(("/", "@")) for h in hosts)
    if remote and params.get("sslmode") != "verify-full":
        raise CallCoachError(f"the team store at {server_name(dsn)} must be reached with sslmode=verify-full "
                             "(and sslrootcert): nothing is sent to a server whose certificate is not checked")


@contextmanager
def connect(dsn: str, *, purpose: str) -> Iterator:
    """An autocommit connection (callers open transactions); CallCoachError if it fails."""
    import psycopg

    check_tls(dsn)
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

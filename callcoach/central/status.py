"""The team store as `doctor` reports it: can this desktop reach it, does it speak our
schema, and what is still waiting in the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from callcoach.central.connect import connect, server_name
from callcoach.central.schema import INGEST_FUNCTION
from callcoach.errors import CallCoachError
from callcoach.store.outbox import OutboxState


@dataclass(frozen=True)
class TeamStoreStatus:
    server: str  # host:port
    schema_version: int | None  # None: not reached
    speaks_ours: bool  # the server has the ingest function this CallCoach calls
    error: str | None
    outbox: OutboxState


def team_store_status(dsn: str, outbox: OutboxState) -> TeamStoreStatus:
    version, ours, error = None, False, None
    try:
        with connect(dsn, purpose="reach the team store") as db:
            info = db.execute("SELECT callcoach.server_info()").fetchone()[0]
        version = int(info.get("schema_version") or 0)
        ours = int(INGEST_FUNCTION.rsplit("_v", 1)[1]) in info.get("ingest", [])
        if not ours:
            error = (f"the server's schema (version {version}) has no {INGEST_FUNCTION}: sessions are kept "
                     "until the server or this CallCoach is upgraded")
    except CallCoachError as exc:
        error = str(exc)
    return TeamStoreStatus(server_name(dsn), version, ours, error, outbox)


def without_password(dsn: str) -> str:
    """The connection string as it may be shown (doctor, logs): any password removed."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(dsn)
    except Exception:
        return "(not a valid connection string)"
    if "password" in params:
        params["password"] = "…"
    return make_conninfo(**params)

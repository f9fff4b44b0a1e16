"""What IT runs against the team store with an administrator's connection: `central init`
(create or upgrade the schema and roles; safe to run again) and `central person` (who may
log in and whose calls they see)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcoach.central.connect import connect
from callcoach.central.schema import GRANTS, OWNER, PEOPLE, ROLES, SCHEMA_VERSION, STEPS
from callcoach.errors import CallCoachError

_LOGIN = re.compile(r"^[a-z][a-z0-9_.]*$")  # what a person's certificate CN may be (pg_ident map)


@dataclass(frozen=True)
class InitResult:
    version_before: int  # 0: a server without the schema
    version: int


def init(dsn: str) -> InitResult:
    """Create or upgrade the schema and the roles; each step in its own transaction."""
    from psycopg import sql

    with connect(dsn, purpose="set up the team store") as db:
        with db.transaction():
            for role, options in ROLES.items():
                if not db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                    db.execute(sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(role)))
            if not db.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
                db.execute(sql.SQL("GRANT {} TO current_user").format(sql.Identifier(OWNER)))
        before = _version(db)
        if before > SCHEMA_VERSION:
            raise CallCoachError(f"the team store has schema version {before}, newer than this CallCoach "
                                 f"({SCHEMA_VERSION}): run `central init` from the newer CallCoach")
        for step in range(before + 1, SCHEMA_VERSION + 1):
            with db.transaction():
                db.execute(STEPS[step])
                db.execute("UPDATE callcoach.schema_info SET version = %s", (step,))
        with db.transaction():
            db.execute(GRANTS)
    return InitResult(before, SCHEMA_VERSION)


def add_person(dsn: str, login: str, *, agent_name: str | None, team: str | None, lead: bool) -> None:
    """A person who logs in as `login` (their certificate's CN): their own calls are those
    stored under `agent_name`; as a lead they also see (and review) their team's calls."""
    from psycopg import sql

    if not _LOGIN.match(login):
        raise CallCoachError(f"login {login!r}: use lowercase letters, digits, '_' and '.', starting with a letter")
    with connect(dsn, purpose="add a person to the team store") as db, db.transaction():
        if _version(db) == 0:
            raise CallCoachError("the team store has no schema yet: run `callcoach central init` first")
        if not db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone():
            db.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
        db.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(PEOPLE), sql.Identifier(login)))
        db.execute("INSERT INTO callcoach.people (login, agent_name, team, lead) VALUES (%s, %s, %s, %s)"
                   " ON CONFLICT (login) DO UPDATE SET agent_name = excluded.agent_name, team = excluded.team,"
                   " lead = excluded.lead", (login, agent_name or None, team or None, lead))


def _version(db) -> int:
    if not db.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'callcoach'").fetchone():
        return 0
    return int(db.execute("SELECT max(version) FROM callcoach.schema_info").fetchone()[0])

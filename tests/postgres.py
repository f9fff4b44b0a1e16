"""The central PostgreSQL server for tests (tools/central_server.py): one per session, and a
fresh database per test that wants one.

The per-test database keeps the production pg_hba.conf shape: its database column names
exact databases (`callcoach,callcoach_test_<hex>`), never `all`. fresh_database() creates
the database, adds its name to those lines, reloads and waits until the postmaster has
reread the rules; afterwards it takes the name out again, drops the database, and drops the
roles the test made (roles belong to the whole cluster, so `callcoach central init` can run
again in the next test).

    server = start_server(folder)
    with fresh_database(server) as db:
        psycopg.connect(db.dsn("desktop-PC0042", "callcoach_desktop"))
    server.stop()
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.central_server import (
    ADMIN,
    DATABASE,
    DESKTOP_ROLE,
    PEOPLE_ROLE,
    CentralServer,
    free_port,
    libpq_dsn,
    missing_programs,
)

TEST_DATABASE_PREFIX = "callcoach_test_"

__all__ = ["CentralDatabase", "configure_desktop", "configure_pc", "create_roles", "fresh_database",
           "missing_programs", "running_server", "server_folder", "start_server"]


@contextlib.contextmanager
def server_folder() -> Iterator[Path]:
    """A folder for a server, removed afterwards. Not pytest's tmp_path: as root the server runs
    as postgres, which cannot enter root's 0700 pytest folders."""
    base = Path(tempfile.mkdtemp(prefix="callcoach-central-"))
    try:
        base.chmod(0o711)
        yield base / "server"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def start_server(folder: Path) -> CentralServer:
    """A new server in `folder` on a free port, running, with the `callcoach` database."""
    server = CentralServer.create(folder, free_port())
    server.start()
    server.create_database()
    return server


@contextlib.contextmanager
def running_server() -> Iterator[CentralServer]:
    """A server of its own for a tool or a benchmark, stopped and removed afterwards."""
    with server_folder() as folder:
        server = start_server(folder)
        try:
            yield server
        finally:
            server.stop()


@dataclass(frozen=True)
class CentralDatabase:
    """One test's database on the session's server."""

    server: CentralServer
    name: str

    def dsn(self, cn: str, user: str) -> str:
        """A desktop's or person's connection string to this database (verify-full, client cert)."""
        return self.server.dsn(cn, user, dbname=self.name)

    @property
    def admin_dsn(self) -> str:
        """The administrator (postgres) on the Unix socket, in this database."""
        return libpq_dsn(host=self.server.socket_dir, port=self.server.port, user=ADMIN, dbname=self.name)

    def admin_sql(self, sql: str) -> str:
        return self.server.admin_sql(sql, dbname=self.name)


@contextlib.contextmanager
def fresh_database(server: CentralServer) -> Iterator[CentralDatabase]:
    if server.pid() is None:  # a test that killed the server and failed before restarting it
        server.start()
    roles_before = set(_roles(server))
    name = TEST_DATABASE_PREFIX + uuid.uuid4().hex[:12]
    server.create_database(name)
    server.allow_database(name)
    try:
        yield CentralDatabase(server, name)
    finally:
        if server.pid() is None:
            server.start()
        server.forbid_database(name)
        server.admin_sql(f'DROP DATABASE "{name}" WITH (FORCE)')  # FORCE: connections a test left open
        if new_roles := sorted(set(_roles(server)) - roles_before):
            names = ", ".join(f'"{role}"' for role in new_roles)
            server.admin_sql(f"DROP OWNED BY {names}", dbname=DATABASE)  # grants in `callcoach`, if any
            server.admin_sql(f"DROP ROLE {names}")


def _roles(server: CentralServer) -> list[str]:
    return server.admin_sql("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_'").splitlines()


def create_roles(db: CentralDatabase, people: tuple[str, ...] = ()) -> None:
    """The roles `callcoach central init` makes, for tests of authentication alone: the shared
    desktop login, the people group, and a login in it for each person."""
    statements = [f"CREATE ROLE {DESKTOP_ROLE} LOGIN", f"CREATE ROLE {PEOPLE_ROLE} NOLOGIN",
                  *(f'CREATE ROLE "{person}" LOGIN IN ROLE {PEOPLE_ROLE}' for person in people)]
    db.admin_sql("; ".join(statements))


def configure_pc(central_store: str, person_dsn: str) -> str:
    """A PC set up as IT's instructions say: the machine policy (CALLCOACH_POLICY_FILE) names
    the team store with the desktop's certificate; the person's own settings hold their login
    (their name and certificate from `person_dsn`, the server from the policy). Returns it."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from callcoach.settings import Key, Settings

    _write_policy(central_store)
    mine = conninfo_to_dict(person_dsn)
    login = make_conninfo(user=mine["user"], sslcert=mine["sslcert"], sslkey=mine["sslkey"])
    settings = Settings()
    settings.set(Key.CENTRAL_LOGIN, login)
    settings.save()
    return login


def configure_desktop(central_store: str, agent: str, **policy: object) -> None:
    """An agent's PC: the machine policy names the team store (with the desktop's
    certificate) and sets `policy` too (live_board, live_board_notes…); the agent's own
    settings hold their name, which their calls are stored and shared under."""
    _write_policy(central_store, **policy)
    Path(os.environ["CALLCOACH_CONFIG_DIR"], "settings.json").write_text(json.dumps({"agent_name": agent}),
                                                                        encoding="utf-8")


def _write_policy(central_store: str, **policy: object) -> None:
    """The machine policy file (CALLCOACH_POLICY_FILE): central_store, then `policy`."""
    lines = [f"{key} = {json.dumps(value)}" for key, value in {"central_store": central_store, **policy}.items()]
    Path(os.environ["CALLCOACH_POLICY_FILE"]).write_text("[settings]\n" + "\n".join(lines) + "\n", encoding="utf-8")

"""The central server for the team store (tools/central_server.py) lets in exactly what IT
expects: desktops and people by their TLS client certificates from our CA, each only as
the role the certificate names, and nothing without TLS; it survives a crash with what was
committed, and stops without leaving a process behind. All against a real PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.postgres import create_roles, fresh_database, server_folder
from tools.central_server import CentralServer, CentralServerError, CertificateAuthority

ROOT = Path(__file__).resolve().parents[1]
DESKTOP = "desktop-PC0042"
# Revoked on the session's server for the rest of the session: no other test uses these names.
LOST_DESKTOP, KEPT_DESKTOP, LOST_PERSON = "desktop-LOST-PC", "desktop-KEPT-PC", "lost_laptop"


def refused(dsn: str) -> str:
    """The error a connection gets (the test fails if it gets in)."""
    with pytest.raises(psycopg.OperationalError) as error:
        psycopg.connect(dsn, connect_timeout=10).close()
    return str(error.value)


def central_server_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.central_server", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def cli(*args: str) -> str:
    """The tool's output, once it has succeeded."""
    done = central_server_cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def whoami(dsn: str) -> tuple[str, bool, str]:
    """current_user, whether the session is TLS, and the client certificate's DN."""
    with psycopg.connect(dsn, connect_timeout=10) as conn:
        return conn.execute("SELECT current_user, ssl, client_dn FROM pg_stat_ssl"
                            " WHERE pid = pg_backend_pid()").fetchone()


def test_a_desktop_certificate_logs_in_as_the_shared_desktop_role(central_db):
    create_roles(central_db)
    assert whoami(central_db.dsn(DESKTOP, "callcoach_desktop")) == ("callcoach_desktop", True, f"/CN={DESKTOP}")


def test_a_person_logs_in_as_themselves_only(central_db):
    create_roles(central_db, people=("alice", "bob"))
    assert whoami(central_db.dsn("alice", "alice"))[:2] == ("alice", True)
    for cn, user in (("alice", "bob"), ("alice", "callcoach_desktop"), (DESKTOP, "alice")):
        assert f'certificate authentication failed for user "{user}"' in refused(central_db.dsn(cn, user))


def test_a_login_outside_the_people_group_is_refused_even_with_a_good_certificate(central_db):
    create_roles(central_db)
    central_db.admin_sql("CREATE ROLE carol LOGIN")
    assert "rejects connection" in refused(central_db.dsn("carol", "carol"))


def test_the_administrator_cannot_log_in_over_the_network(central_db):
    server = central_db.server
    with pytest.raises(CentralServerError, match="reserved role"):
        server.ca.issue_client("postgres", server.clients)
    server.ca.issue_client("postgres", server.clients, reserved_ok=True)  # as if the CA had slipped
    # The map would take CN=postgres to postgres, but the superuser is no member of callcoach_people.
    assert "rejects connection" in refused(server.dsn("postgres", "postgres", dbname=central_db.name))


def test_a_certificate_from_another_ca_is_refused(central_db, tmp_path):
    create_roles(central_db, people=("alice",))
    stranger = CertificateAuthority.create(tmp_path / "other-ca").issue_client("alice", tmp_path / "clients")
    dsn = central_db.dsn("alice", "alice")
    dsn = re.sub(r"sslcert='[^']*'", f"sslcert='{stranger.crt}'", dsn)
    dsn = re.sub(r"sslkey='[^']*'", f"sslkey='{stranger.key}'", dsn)
    assert "unknown ca" in refused(dsn)  # the server ends the TLS handshake


def test_tls_without_a_client_certificate_is_refused(central_db, tmp_path):
    create_roles(central_db, people=("alice",))
    # libpq sends no certificate when the file is not there (sslcertmode=allow, the default)
    dsn = re.sub(r"sslcert='[^']*'", f"sslcert='{tmp_path / 'none.crt'}'", central_db.dsn("alice", "alice"))
    assert "requires a valid client certificate" in refused(dsn)


def test_without_tls_the_server_refuses(central_db):
    create_roles(central_db, people=("alice",))
    dsn = f"host=127.0.0.1 port={central_db.server.port} dbname={central_db.name} user=alice sslmode=disable"
    assert "no encryption" in refused(dsn)


def test_other_databases_are_out_of_reach(central_db):
    create_roles(central_db, people=("alice",))
    assert "rejects connection" in refused(central_db.server.dsn("alice", "alice", dbname="postgres"))


def test_verify_full_checks_the_server_name_against_its_certificate(central_db, tmp_path):
    create_roles(central_db, people=("alice",))
    dsn = central_db.dsn("alice", "alice")
    # The certificate names localhost and IP 127.0.0.1: libpq matches an IP host against IP entries.
    assert whoami(dsn.replace("host='localhost'", "host='127.0.0.1'"))[0] == "alice"
    # hostaddr dials the same server; host is the name checked against the certificate.
    wrong_name = dsn.replace("host='localhost'", "host='central.example' hostaddr='127.0.0.1'")
    assert 'does not match host name "central.example"' in refused(wrong_name)
    # A server our CA did not sign: the client trusts only ca.crt.
    other_ca = CertificateAuthority.create(tmp_path / "other-ca")
    assert "certificate verify failed" in refused(re.sub(r"sslrootcert='[^']*'", f"sslrootcert='{other_ca.crt}'", dsn))


def test_after_a_crash_the_committed_rows_are_there_and_the_rest_is_not(central_db):
    server = central_db.server
    with psycopg.connect(central_db.admin_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE uploads (n int)")
        conn.execute("INSERT INTO uploads VALUES (1), (2)")
    in_flight = psycopg.connect(central_db.admin_dsn)
    in_flight.execute("INSERT INTO uploads VALUES (3)")  # never committed
    server.kill()
    assert server.pid() is None and server.processes() == []
    with pytest.raises(psycopg.OperationalError):
        in_flight.commit()
    in_flight.close()
    server.start()  # crash recovery replays the WAL
    with psycopg.connect(central_db.admin_dsn) as conn:
        assert conn.execute("SELECT n FROM uploads ORDER BY n").fetchall() == [(1,), (2,)]
    server.restart()
    assert central_db.admin_sql("SELECT count(*) FROM uploads") == "2"


def test_a_test_database_is_reachable_only_while_the_test_has_it(central_server):
    with fresh_database(central_server) as db:
        create_roles(db, people=("alice",))
        assert whoami(db.dsn("alice", "alice"))[0] == "alice"
        assert db.name in central_server.databases
    assert db.name not in central_server.databases
    assert central_server.admin_sql(f"SELECT count(*) FROM pg_database WHERE datname = '{db.name}'") == "0"
    assert central_server.admin_sql("SELECT count(*) FROM pg_roles WHERE rolname = 'alice'") == "0"
    assert db.name not in (central_server.data / "pg_hba.conf").read_text()


def test_it_sets_up_issues_and_stops_a_server_from_the_command_line():
    with server_folder() as folder:
        cli("setup", str(folder))
        server = CentralServer.open(folder)
        try:
            server.admin_sql("CREATE ROLE callcoach_desktop LOGIN")
            dsn = cli("issue", str(folder), "desktop", "PC0042").split("connect: ", 1)[1].strip()
            assert whoami(dsn) == ("callcoach_desktop", True, f"/CN={DESKTOP}")
        finally:
            cli("stop", str(folder))
        assert server.pid() is None and server.processes() == []
        assert "not empty" in central_server_cli("setup", str(folder)).stderr


def test_a_revoked_certificate_is_refused_and_every_other_one_still_gets_in(central_db):
    """A lost desktop and a person's lost laptop: once revoked, each is refused from the next
    connection on, and everyone else gets in as before. Revoking again changes nothing."""
    create_roles(central_db, people=(LOST_PERSON, "bob"))
    lost = {LOST_DESKTOP: central_db.dsn(LOST_DESKTOP, "callcoach_desktop"),
            LOST_PERSON: central_db.dsn(LOST_PERSON, LOST_PERSON)}
    assert [whoami(dsn)[2] for dsn in lost.values()] == [f"/CN={cn}" for cn in lost]
    server = central_db.server
    serials = [server.revoke(cn) for cn in lost]
    assert [server.revoke(cn) for cn in lost] == serials
    for dsn in lost.values():
        assert "certificate revoked" in refused(dsn)
    assert whoami(central_db.dsn(KEPT_DESKTOP, "callcoach_desktop"))[0] == "callcoach_desktop"
    assert whoami(central_db.dsn("bob", "bob"))[0] == "bob"
    listed = [row.split("\t")[3] for row in server.ca.index.read_text().splitlines()]
    assert sorted(s for s in listed if s in serials) == sorted(serials), "each listed once"


def test_it_revokes_from_the_command_line_and_says_which_names_it_never_issued():
    with server_folder() as folder:
        cli("setup", str(folder))
        server = CentralServer.open(folder)
        try:
            server.admin_sql("CREATE ROLE callcoach_desktop LOGIN")
            lost, kept = (cli("issue", str(folder), "desktop", name).split("connect: ", 1)[1].strip()
                          for name in ("PC0042", "PC0043"))
            said = cli("revoke", str(folder), "desktop", "PC0042")
            assert re.fullmatch(r"central_server: revoked desktop-PC0042 \(serial [0-9A-F]+\): "
                                r"the server refuses it from now on\n", said)
            assert cli("revoke", str(folder), "desktop", "PC0042") == said
            assert "certificate revoked" in refused(lost)
            # Never issued; and a name that would lead out of clients/ to the CA's own certificate.
            for kind, name, cn in (("desktop", "PC9999", "desktop-PC9999"), ("person", "lea", "lea"),
                                   ("person", "../ca/ca", "../ca/ca")):
                done = central_server_cli("revoke", str(folder), kind, name)
                assert (done.returncode, done.stdout) == (1, "")
                assert done.stderr.splitlines() == [f"central_server: no certificate for {cn!r} in {server.clients}: "
                                                    "`issue` never made one, nothing to revoke"]
            assert whoami(kept)[0] == "callcoach_desktop"
            cli("stop", str(folder))
            cli("revoke", str(folder), "desktop", "PC0043")  # the server reads the CRL when it starts
            cli("start", str(folder))
            assert "certificate revoked" in refused(kept)
        finally:
            cli("stop", str(folder))

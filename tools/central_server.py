"""A throwaway central PostgreSQL server for the team store (issue 14), set up the way IT sets
up the real one: TLS only, desktops and people authenticated by client certificates from one
CA (the identity is the certificate's CN), nothing else let in. Standard library only, so IT
can run it without CallCoach's venv; it needs the PostgreSQL 15+ server programs (Debian:
`apt-get install postgresql`) and openssl.

For IT, from the checkout (as root the server runs as the `postgres` OS user):

    python3 -m tools.central_server setup /srv/cc-test --port 55432   # CA, cluster, start, database
    python3 -m tools.central_server issue /srv/cc-test desktop PC0042 # -> clients/desktop-PC0042.crt/.key
    python3 -m tools.central_server issue /srv/cc-test person alice   # -> clients/alice.crt/.key
    python3 -m tools.central_server revoke /srv/cc-test desktop PC0042 # a lost desktop: refused from now on
    python3 -m tools.central_server start /srv/cc-test                # after a stop or a reboot
    python3 -m tools.central_server stop /srv/cc-test

Run it from the checkout's top folder (or as python3 tools/central_server.py). `issue` prints the libpq connection string for the
certificate (sslmode=verify-full: the client checks the server's name against its
certificate). On a desktop the key must be owned by the user who runs CallCoach, mode 0600:
libpq refuses a key that others can read. The folder holds:
    ca/        the test CA (ca.key never leaves this folder; ca.crt goes to every desktop),
               index.txt (the revoked certificates) and crl.pem (its CRL)
    data/      the cluster (PGDATA): callcoach.conf (TLS, port, socket; included from
               postgresql.conf), pg_hba.conf, pg_ident.conf, server.crt/.key, root.crt,
               root.crl (the CA's CRL, from the start: an empty one is valid), postgresql.log
    socket/    the private Unix socket folder: only the administrator (postgres) logs in there
    clients/   issued client certificates and keys (0600: libpq refuses a key others can read)

Who gets in (pg_hba.conf; the first matching line decides, the last lines refuse the rest):
a certificate CN=desktop-<name> as callcoach_desktop; a certificate CN=<login> as that login
only, and only if it is a member of callcoach_people (so never as postgres or a role outside
it; `issue` refuses CNs naming the shared roles); the administrator (postgres) only on the
private socket, by OS user (peer; map admin in pg_ident.conf: the server's OS user and
whoever ran setup).
The roles themselves are made by `callcoach central init`. A real server differs only in
listen_addresses, the client network in pg_hba.conf (127.0.0.1/32 and ::1/128 here) and the
certificates (the company CA; the server certificate names the server's DNS name).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DATABASE = "callcoach"
DESKTOP_ROLE = "callcoach_desktop"
PEOPLE_ROLE = "callcoach_people"
ADMIN = "postgres"
MAP = "callcoach"
CLIENT_NETWORKS = ("127.0.0.1/32", "::1/128")
DESKTOP_PREFIX = "desktop-"
# A person's CN is their login role; pg_ident.conf maps exactly these names to themselves.
PERSON_NAME = re.compile(r"[a-z][a-z0-9_.]*")
DESKTOP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# A person's certificate with one of these CNs would map onto a shared or administrator role.
RESERVED_NAMES = frozenset({DESKTOP_ROLE, PEOPLE_ROLE, ADMIN})
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql")
CERT_DAYS = 825
# index.txt as `openssl ca` keeps it: status, expiry, revocation time (UTCTime), serial, file, subject.
INDEX_TIME = "%y%m%d%H%M%SZ"
CRL_CONFIG = "[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = {index}\n"
WAIT_SECONDS = 60.0
POLL = 0.02


class CentralServerError(RuntimeError):
    """A one-line message for the person running it."""


def _bindir() -> Path:
    """The PostgreSQL server programs: CALLCOACH_PG_BINDIR, else Debian's newest
    /usr/lib/postgresql/<version>/bin, else wherever initdb is on PATH."""
    candidates: list[Path] = []
    if env := os.environ.get("CALLCOACH_PG_BINDIR"):
        candidates.append(Path(env))
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _version_key(p.parent.name))
    candidates += reversed(versions)
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in SERVER_PROGRAMS):
            return folder
    raise CentralServerError(
        f"PostgreSQL server programs not found ({', '.join(SERVER_PROGRAMS)}): install the postgresql "
        "package (Debian/Ubuntu: apt-get install postgresql) or set CALLCOACH_PG_BINDIR")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def missing_programs() -> list[str]:
    """What is missing to run a server here (empty when everything is installed)."""
    missing = [] if shutil.which("openssl") else ["openssl"]
    try:
        _bindir()
    except CentralServerError:
        missing.append("PostgreSQL server programs (package postgresql)")
    return missing


def _run(args: Sequence[str | os.PathLike], what: str, *, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise CentralServerError(f"{what} failed: {detail[-1] if detail else f'exit status {result.returncode}'}")
    return result.stdout


def free_port() -> int:
    """A TCP port nobody listens on right now (the caller starts the server on it at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def libpq_dsn(**params: str | int) -> str:
    """A libpq key=value connection string, every value quoted."""
    def quote(value: str | int) -> str:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
    return " ".join(f"{key}={quote(value)}" for key, value in params.items())


# --------------------------------------------------------------------------- certificates

@dataclass(frozen=True)
class KeyPair:
    crt: Path
    key: Path


@dataclass(frozen=True)
class CertificateAuthority:
    """A test CA in `folder` (ca.crt, ca.key, serial; index.txt and crl.pem for revocation); EC
    P-256 keys, made with openssl."""

    folder: Path

    @property
    def crt(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def index(self) -> Path:
        return self.folder / "index.txt"

    @property
    def crl(self) -> Path:
        return self.folder / "crl.pem"

    @classmethod
    def create(cls, folder: Path, name: str = "CallCoach test CA") -> CertificateAuthority:
        ca = cls(Path(folder))
        ca.folder.mkdir(parents=True, exist_ok=True)
        _new_key(ca.key)
        _openssl("make the CA", "req", "-x509", "-new", "-key", ca.key, "-out", ca.crt, "-days", CERT_DAYS,
                 "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        ca.write_crl()
        return ca

    def issue_server(self, crt: Path, key: Path, names: Iterable[str] = ("localhost", "127.0.0.1")) -> KeyPair:
        """A server certificate: CN is the first name; every name is a subjectAltName (libpq's
        verify-full checks those, an IP address against an IP entry)."""
        names = list(names)
        alt = ",".join(f"IP:{n}" if _is_ip(n) else f"DNS:{n}" for n in names)
        return self._issue(names[0], crt, key, ["extendedKeyUsage=serverAuth", f"subjectAltName={alt}"])

    def issue_client(self, cn: str, folder: Path, *, reserved_ok: bool = False) -> KeyPair:
        """A client certificate for `cn` in folder/<cn>.crt and .key (0600, owned by whoever runs
        this: libpq refuses a key that group or others can read). reserved_ok: for tests that
        show such a certificate gets nowhere."""
        if not (reserved_ok and cn in RESERVED_NAMES):
            _check_client_cn(cn)
        folder.mkdir(parents=True, exist_ok=True)
        return self._issue(cn, folder / f"{cn}.crt", folder / f"{cn}.key", ["extendedKeyUsage=clientAuth"])

    def _issue(self, cn: str, crt: Path, key: Path, extensions: list[str]) -> KeyPair:
        _new_key(key)
        with tempfile.TemporaryDirectory() as scratch:
            request, extfile = Path(scratch) / "req.csr", Path(scratch) / "ext.cnf"
            extfile.write_text("\n".join(["basicConstraints=critical,CA:FALSE",
                                          "keyUsage=critical,digitalSignature", *extensions]) + "\n")
            _openssl(f"a certificate request for {cn}", "req", "-new", "-key", key, "-out", request,
                     "-subj", f"/CN={cn}")
            _openssl(f"sign the certificate for {cn}", "x509", "-req", "-in", request, "-CA", self.crt,
                     "-CAkey", self.key, "-CAserial", self.folder / "serial", "-CAcreateserial",
                     "-days", CERT_DAYS, "-extfile", extfile, "-out", crt)
        return KeyPair(crt, key)

    def revoke(self, crt: Path) -> str:
        """Record `crt` as revoked in index.txt and write a new CRL; returns its serial. Revoking
        it again changes nothing."""
        serial, expiry, subject = _serial_expiry_subject(crt)
        rows = self.index.read_text().splitlines() if self.index.exists() else []
        if not any(row.split("\t")[3] == serial for row in rows):
            revoked = time.strftime(INDEX_TIME, time.gmtime())
            rows.append("\t".join(("R", expiry, revoked, serial, "unknown", subject)))
            self.index.write_text("".join(f"{row}\n" for row in rows))
        self.write_crl()
        return serial

    def write_crl(self) -> Path:
        """crl.pem: every certificate index.txt lists as revoked (none yet: an empty CRL),
        signed by the CA. Valid for CERT_DAYS, as long as the CA: a CRL past its nextUpdate
        makes PostgreSQL refuse every client certificate, so a short one would lock every
        desktop out the day it ran out."""
        self.index.touch()
        with tempfile.TemporaryDirectory() as scratch:
            config = Path(scratch) / "ca.cnf"
            config.write_text(CRL_CONFIG.format(index=_config_value(self.index)))
            _openssl("write the CRL", "ca", "-gencrl", "-config", config, "-cert", self.crt, "-keyfile", self.key,
                     "-md", "sha256", "-crldays", CERT_DAYS, "-out", self.crl)
        return self.crl


def _serial_expiry_subject(crt: Path) -> tuple[str, str, str]:
    """A certificate's serial (hex), notAfter as index.txt writes it, and subject (/CN=...)."""
    fields = dict(line.split("=", 1) for line in _openssl(
        f"read {crt.name}", "x509", "-in", crt, "-noout", "-serial", "-enddate", "-subject",
        "-nameopt", "compat").splitlines())
    expiry = time.strptime(fields["notAfter"], "%b %d %H:%M:%S %Y GMT")
    return fields["serial"], time.strftime(INDEX_TIME, expiry), fields["subject"]


def _config_value(path: Path) -> str:
    """A path as an openssl config value, escaped: '$' would expand a variable, '#' start a
    comment, a backslash or quote escape or quote what follows."""
    return re.sub(r"""([\\$#"'])""", r"\\\1", str(path))


def _check_client_cn(cn: str) -> None:
    if cn.startswith(DESKTOP_PREFIX):
        if not DESKTOP_NAME.fullmatch(cn[len(DESKTOP_PREFIX):]):
            raise CentralServerError(f"desktop name {cn[len(DESKTOP_PREFIX):]!r}: use letters, digits, '.', '_', '-'")
    elif not PERSON_NAME.fullmatch(cn):
        raise CentralServerError(f"person {cn!r}: a login role is lower case letters, digits, '_' and '.'")
    elif cn in RESERVED_NAMES:
        raise CentralServerError(f"{cn!r} is a reserved role, not a person: a certificate for it would log in as it")


def _is_ip(name: str) -> bool:
    with contextlib.suppress(OSError):
        socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
        return True
    return False


def _new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    # Created 0600 from the start: the key is never readable by others, even for a moment.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    _openssl("make a key", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)


def _openssl(what: str, *args: str | os.PathLike | int) -> str:
    if not shutil.which("openssl"):
        raise CentralServerError("openssl not found: install the openssl package")
    return _run(["openssl", *map(str, args)], what)


# --------------------------------------------------------------------------- the server

def _as_root() -> bool:
    return os.geteuid() == 0


def _server_user() -> pwd.struct_passwd:
    """initdb refuses root: as root the cluster belongs to (and runs as) the postgres OS user."""
    name = ADMIN if _as_root() else pwd.getpwuid(os.geteuid()).pw_name
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise CentralServerError("no 'postgres' OS user to run the server as: install the postgresql "
                                 "package, or run this as a normal user") from None


@dataclass
class CentralServer:
    """A cluster in `folder` (see the module docstring for the layout). `databases` are the
    names pg_hba.conf lets the desktops and people reach: `callcoach`, plus whatever the
    tests add with allow_database()."""

    folder: Path
    port: int
    databases: list[str] = field(default_factory=lambda: [DATABASE])

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    @property
    def clients(self) -> Path:
        return self.folder / "clients"

    @property
    def log_file(self) -> Path:
        return self.data / "postgresql.log"

    @property
    def ca(self) -> CertificateAuthority:
        return CertificateAuthority(self.folder / "ca")

    # --- making one
    @classmethod
    def create(cls, folder: Path, port: int) -> CentralServer:
        """A new CA and cluster in `folder` (empty or absent); not started."""
        folder = Path(folder).resolve()
        if folder.exists() and any(folder.iterdir()):
            raise CentralServerError(f"{folder} is not empty: choose a new folder")
        bindir, user = _bindir(), _server_user()
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)  # the server user must reach data/ and socket/
        _check_reachable(folder, user)
        server = cls(folder, port)
        ca = CertificateAuthority.create(server.folder / "ca")
        for private in (server.data, server.socket_dir):
            private.mkdir(mode=0o700)
            os.chown(private, user.pw_uid, user.pw_gid)
        _run(server._as_server_user(bindir / "initdb", "-D", server.data, "-U", ADMIN, "-E", "UTF8",
                                    "--no-locale", "--data-checksums", "--auth=reject"), "initdb")
        ca.issue_server(server.data / "server.crt", server.data / "server.key")
        shutil.copyfile(ca.crt, server.data / "root.crt")
        server._write(CRL_NAME, ca.crl.read_text())
        with open(server.data / "postgresql.conf", "a") as conf:
            conf.write("\n# CallCoach central store: TLS, port, socket, logging\ninclude 'callcoach.conf'\n")
        server._write(CONF_NAME, server._conf())
        server._write("pg_ident.conf", _pg_ident(_admin_os_users(user)))
        server._write("pg_hba.conf", _pg_hba(server.databases))
        for name in ("server.crt", "server.key", "root.crt"):
            os.chown(server.data / name, user.pw_uid, user.pw_gid)
        return server

    @classmethod
    def open(cls, folder: Path) -> CentralServer:
        """The server made earlier in `folder` (its port is read from data/callcoach.conf)."""
        folder = Path(folder).resolve()
        try:
            text = (folder / "data" / CONF_NAME).read_text()
        except FileNotFoundError:
            raise CentralServerError(f"{folder} has no central server: run setup first") from None
        port = int(re.search(r"^port = (\d+)$", text, re.MULTILINE).group(1))
        hba = (folder / "data" / "pg_hba.conf").read_text()
        databases = re.search(r"^hostssl\s+(\S+)", hba, re.MULTILINE).group(1).split(",")
        return cls(folder, port, databases)

    def _conf(self) -> str:
        return CONF_TEMPLATE.format(port=self.port, socket=self.socket_dir, crl=CRL_NAME)

    def _write(self, name: str, text: str) -> None:
        # Written aside and renamed: a reload never reads half a pg_hba.conf.
        path, user = self.data / name, _server_user()
        partial = path.with_name(f".{name}.new")
        partial.write_text(text)
        os.chown(partial, user.pw_uid, user.pw_gid)
        partial.chmod(0o600)
        partial.replace(path)

    def _as_server_user(self, *args: str | os.PathLike) -> list[str]:
        command = [str(a) for a in args]
        return ["runuser", "-u", ADMIN, "--", *command] if _as_root() else command

    # --- running it
    def start(self) -> None:
        """Start and wait until it accepts connections (pg_ctl -w polls the server)."""
        if self.pid() is not None:
            raise CentralServerError(f"the server in {self.folder} is already running (pid {self.pid()})")
        self._wait_no_processes()  # a killed postmaster's children may still be on their way out
        self._clear_stale_locks()
        try:
            _run(self._as_server_user(_bindir() / "pg_ctl", "start", "-w", "-t", int(WAIT_SECONDS), "-D", self.data,
                                      "-l", self.log_file, "-s"), "pg_ctl start")
        except CentralServerError:
            # pg_ctl only says "examine the log output": the server's last complaint is the reason.
            complaints = [line for line in self.log_file.read_text().splitlines() if "FATAL" in line or "ERROR" in line]
            reason = complaints[-1].split("  ", 1)[-1] if complaints else "no reason logged"
            raise CentralServerError(f"PostgreSQL did not start: {reason} (log: {self.log_file})") from None

    def _clear_stale_locks(self) -> None:
        """After a crash the lock files name a dead postmaster. PostgreSQL checks that pid with
        kill(pid, 0), which also answers for a zombie nobody has reaped yet (some container
        inits reap late) or for a reused pid, and then refuses to start. No process works in
        the data folder any more (checked just before), so the locks are stale."""
        for lock in (self.data / "postmaster.pid", self.socket_dir / f".s.PGSQL.{self.port}.lock"):
            lock.unlink(missing_ok=True)

    def pid(self) -> int | None:
        """The postmaster's pid while it runs (first line of postmaster.pid), else None."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None
        return pid if self._owns(pid) else None

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster: sessions are cut, the rest is written out),
        then wait until no process of this cluster is left."""
        if (pid := self.pid()) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
        self._wait_no_processes()

    def kill(self) -> None:
        """A crash: SIGKILL the postmaster and every process of the cluster, like a power cut
        (nothing is written out; committed rows come back through crash recovery on start)."""
        if (pid := self.pid()) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._wait_no_processes()

    def restart(self) -> None:
        self.stop()
        self.start()

    def processes(self) -> list[int]:
        """Every live process of this cluster: each postgres process works in its data folder."""
        return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit() and self._owns(entry.name)]

    def _owns(self, pid: int | str) -> bool:
        """Whether `pid` is a live process of this cluster: a stale postmaster.pid may name a pid
        that is reused, or a killed postmaster left unreaped (a zombie has no cwd)."""
        try:
            return os.readlink(f"/proc/{pid}/cwd") == str(self.data)
        except OSError:
            return False

    def _wait_no_processes(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while self.processes():
            if time.monotonic() > deadline:
                raise CentralServerError(f"the server in {self.folder} did not stop: pids {self.processes()}")
            time.sleep(POLL)  # polling for the processes to be gone, with a deadline

    # --- the administrator
    @property
    def admin_dsn(self) -> str:
        """The administrator over the private Unix socket (peer authentication, map admin)."""
        return libpq_dsn(host=self.socket_dir, port=self.port, user=ADMIN, dbname=DATABASE)

    def admin_sql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL as the administrator with psql (stdlib only: no driver needed); the output,
        unaligned, one row a line."""
        dsn = libpq_dsn(host=self.socket_dir, port=self.port, user=ADMIN, dbname=dbname)
        return _run([_bindir() / "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
                    "psql", env={**os.environ, "PGCONNECT_TIMEOUT": "10"}).strip()

    def create_database(self, name: str = DATABASE) -> None:
        self.admin_sql(f'CREATE DATABASE "{name}"')

    def allow_database(self, name: str) -> None:
        """Let desktops and people reach database `name` too (pg_hba.conf, reloaded)."""
        self._set_databases([*self.databases, name])

    def forbid_database(self, name: str) -> None:
        self._set_databases([d for d in self.databases if d != name])

    def _set_databases(self, databases: list[str]) -> None:
        self.databases = databases
        self._write("pg_hba.conf", _pg_hba(databases))
        self.reload()

    def reload(self) -> None:
        """Reread the configuration, and wait until the postmaster has: a new session inherits
        its load time, so a later pg_conf_load_time() means new connections see the new rules."""
        errors = self.admin_sql("SELECT line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL")
        if errors:
            raise CentralServerError(f"pg_hba.conf line {errors.splitlines()[0]}")
        before = self.admin_sql("SELECT pg_conf_load_time()")
        self.admin_sql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + WAIT_SECONDS
        while self.admin_sql("SELECT pg_conf_load_time()") == before:
            if time.monotonic() > deadline:
                raise CentralServerError(f"the server did not reload its configuration (see {self.log_file})")

    # --- desktops and people
    def revoke(self, cn: str) -> str:
        """Revoke the certificate issued to `cn` (desktop-<name>, or a person's login): the CA's
        CRL lists it and the server, reloaded, refuses it from the next connection on (one
        already open stays until it closes). Returns its serial; revoking again changes nothing."""
        # Only a name in clients/: a path such as ../ca/ca would revoke the CA itself.
        if cn not in {crt.stem for crt in self.clients.glob("*.crt")}:
            raise CentralServerError(f"no certificate for {cn!r} in {self.clients}: `issue` never made one, "
                                     "nothing to revoke")
        serial = self.ca.revoke(self.clients / f"{cn}.crt")
        self._write(CRL_NAME, self.ca.crl.read_text())
        self._write(CONF_NAME, self._conf())  # a server set up before revocation existed lacks ssl_crl_file
        if self.pid() is not None:  # a stopped server reads it when it starts
            self.reload()
        return serial

    def client_cert(self, cn: str) -> KeyPair:
        """The certificate for `cn` (issued on first use, kept in clients/)."""
        pair = KeyPair(self.clients / f"{cn}.crt", self.clients / f"{cn}.key")
        if pair.crt.exists() and pair.key.exists():
            return pair
        return self.ca.issue_client(cn, self.clients)

    def dsn(self, cn: str, user: str, dbname: str = DATABASE) -> str:
        """How a desktop (cn 'desktop-<name>', user callcoach_desktop) or a person (cn = user)
        connects: TLS with the server's name checked against its certificate (verify-full)."""
        pair = self.client_cert(cn)
        return libpq_dsn(host="localhost", port=self.port, dbname=dbname, user=user, sslmode="verify-full",
                         sslrootcert=self.ca.crt, sslcert=pair.crt, sslkey=pair.key)


def _check_reachable(folder: Path, user: pwd.struct_passwd) -> None:
    """The server user must be able to enter every folder above its data: a pytest temp
    folder (0700, root's) is not."""
    if user.pw_uid == os.geteuid():
        return
    for parent in [folder, *folder.parents]:
        st = parent.stat()
        if not (st.st_mode & 0o001 or st.st_uid == user.pw_uid):
            raise CentralServerError(f"the {user.pw_name} OS user cannot enter {parent} "
                                     f"(mode {st.st_mode & 0o777:o}): choose a folder it can reach")


def _admin_os_users(user: pwd.struct_passwd) -> list[str]:
    """Who may log in as the administrator on the socket: the server's OS user and whoever
    set it up (root, when it runs as postgres)."""
    me = pwd.getpwuid(os.geteuid()).pw_name
    return sorted({user.pw_name, me})


CONF_NAME = "callcoach.conf"
CRL_NAME = "root.crl"
CONF_TEMPLATE = """\
# CallCoach central store (tools/central_server.py).
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket}'
unix_socket_permissions = 0700
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_ca_file = 'root.crt'
ssl_crl_file = '{crl}'
ssl_min_protocol_version = 'TLSv1.2'
log_connections = on
log_line_prefix = '%m [%p] %q%u@%d '
"""


def _pg_hba(databases: Sequence[str]) -> str:
    names = ",".join(databases)
    lines = [
        "# CallCoach central store. The first line that matches decides; the last lines refuse the rest.",
        "# TYPE  DATABASE  USER  ADDRESS  METHOD",
        "# The administrator: only on the private Unix socket, by OS user (map admin in pg_ident.conf).",
        f"local   all  {ADMIN}  peer map=admin",
        "# Desktops: a certificate CN=desktop-<name> logs in as the shared desktop role.",
        *(f"hostssl {names}  {DESKTOP_ROLE}  {net}  cert map={MAP}" for net in CLIENT_NETWORKS),
        f"# People: members of {PEOPLE_ROLE}, each as the login named by their certificate's CN.",
        *(f"hostssl {names}  +{PEOPLE_ROLE}  {net}  cert map={MAP}" for net in CLIENT_NETWORKS),
        "# Everything else: refused, with TLS or without.",
        "local   all  all  reject",
        "host    all  all  0.0.0.0/0  reject",
        "host    all  all  ::/0  reject",
    ]
    return "\n".join(lines) + "\n"


def _pg_ident(admin_os_users: Iterable[str]) -> str:
    lines = [
        "# MAPNAME  CERTIFICATE CN or OS USER  DATABASE ROLE",
        f"{MAP}  /^desktop-(.+)$  {DESKTOP_ROLE}",
        f"{MAP}  /^([a-z][a-z0-9_.]*)$  \\1",
        *(f"admin  {name}  {ADMIN}" for name in admin_os_users),
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command line

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.central_server", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("setup", help="make a CA and a cluster in FOLDER, start it, create the database")
    setup.add_argument("folder", type=Path)
    setup.add_argument("--port", type=int, default=None, help="TCP port (default: a free one)")
    for name, text in (("issue", "issue a client certificate from the folder's CA"),
                       ("revoke", "revoke a client certificate: the server refuses it from now on")):
        certificate = commands.add_parser(name, help=text)
        certificate.add_argument("folder", type=Path)
        certificate.add_argument("kind", choices=("desktop", "person"))
        certificate.add_argument("name", help="desktop: its name (CN desktop-NAME); person: their login role")
    for name, text in (("start", "start the server"), ("stop", "stop the server (fast shutdown)")):
        commands.add_parser(name, help=text).add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    try:
        return _command(args)
    except CentralServerError as error:
        print(f"central_server: {error}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace) -> int:
    if args.command == "setup":
        server = CentralServer.create(args.folder, args.port or free_port())
        server.start()
        server.create_database()
        print(f"central_server: running on 127.0.0.1:{server.port}, database {DATABASE}, log {server.log_file}")
        print(f"  administrator: psql \"{server.admin_dsn}\"")
        return 0
    server = CentralServer.open(args.folder)
    if args.command == "issue":
        cn = _cn(args)
        user = DESKTOP_ROLE if args.kind == "desktop" else args.name
        pair = server.ca.issue_client(cn, server.clients)
        print(f"central_server: {pair.crt}, {pair.key} (CA {server.ca.crt})")
        print(f"  connect: {server.dsn(cn, user)}")
    elif args.command == "revoke":
        cn = _cn(args)
        print(f"central_server: revoked {cn} (serial {server.revoke(cn)}): the server refuses it from now on")
    elif args.command == "start":
        server.start()
    else:
        server.stop()
    return 0


def _cn(args: argparse.Namespace) -> str:
    """The certificate's CN: desktop-NAME for a desktop, the login itself for a person."""
    return DESKTOP_PREFIX + args.name if args.kind == "desktop" else args.name


if __name__ == "__main__":
    sys.exit(main())

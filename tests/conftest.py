"""Shared pytest fixtures."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Widget tests need no display: Qt draws offscreen unless the caller chose a platform.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
# Let plain `pytest` (not only `python -m pytest`) import the package from the checkout.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import postgres, sound_servers  # after the path above
from tests.sound_servers import SoundServer
from tools.central_server import CentralServer

# --------------------------------------------------------------------------- sound servers
# Real, private sound servers (tests/sound_servers.py), each with a Test Headset and a Test
# Microphone. Each kind starts once per session, on first use, and stops at the end. The
# fixtures tests use are function-scoped on purpose: PULSE_SERVER names a server only while
# a test that asked for one runs. A session- or module-scoped fixture would leave it set
# for every other test that pytest happens to run while it is alive (pytest groups tests
# by parameter but does not keep the others out), and two kinds would hand os.environ
# over wherever pytest interleaves them. After each test the server is put back as it was
# (see SoundServer.reset_test_devices), so tests can load, unload and play freely.


def _running(kind: sound_servers.Kind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoundServer]:
    missing = sound_servers.missing_tools(kind)
    if missing:
        pytest.skip(f"{kind} not installed ({', '.join(missing)} missing; tools/setup.sh --test installs it)")
    server = sound_servers.STARTERS[kind](tmp_path_factory.mktemp(kind) / "server")
    try:
        server.add_test_devices()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _pulseaudio_server(tmp_path_factory) -> Iterator[SoundServer]:
    yield from _running("pulseaudio", tmp_path_factory)


@pytest.fixture(scope="session")
def _pipewire_server(tmp_path_factory) -> Iterator[SoundServer]:
    yield from _running("pipewire", tmp_path_factory)


def _in_use(server: SoundServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SoundServer]:
    before = server.module_ids()
    monkeypatch.setenv("PULSE_SERVER", server.env["PULSE_SERVER"])
    yield server
    server.reset_test_devices(before)


@pytest.fixture(params=sound_servers.KINDS)
def sound_server(request, monkeypatch) -> Iterator[SoundServer]:
    """The test runs once on PulseAudio and once on PipeWire (ids "pulseaudio", "pipewire"),
    with PULSE_SERVER set to that server; devices: sound_servers.TEST_HEADSET (a sink),
    TEST_MICROPHONE (a real source), TEST_MIC_FEED (the sink that feeds the microphone)."""
    yield from _in_use(request.getfixturevalue(f"_{request.param}_server"), monkeypatch)


@pytest.fixture
def pulse_server(request, monkeypatch) -> Iterator[SoundServer]:
    """Like `sound_server`, PulseAudio only: for heavier tests that need not run twice."""
    yield from _in_use(request.getfixturevalue("_pulseaudio_server"), monkeypatch)



# --------------------------------------------------------------------------- central PostgreSQL
# The team store's central server (tests/postgres.py, tools/central_server.py): one real
# cluster with TLS and client certificates per session, started on first use and stopped by
# its pid at the end, whatever the tests did. Tests that want a clean database ask for
# `central_db`: a new database of their own, reachable with the production pg_hba.conf rules.


@pytest.fixture(scope="session")
def central_server() -> Iterator[CentralServer]:
    """The session's running server (tools.central_server.CentralServer): .dsn(cn, user,
    dbname="callcoach"), .admin_dsn, .admin_sql(sql, dbname), .kill(), .start(), .restart()."""
    if missing := postgres.missing_programs():
        pytest.skip(f"central server tests need {', '.join(missing)} (tools/setup.sh --test installs them)")
    with postgres.server_folder() as folder:
        server = postgres.start_server(folder)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def central_db(central_server) -> Iterator[postgres.CentralDatabase]:
    """A fresh database of this test's own on the session's server (tests.postgres.CentralDatabase):
    .name, .dsn(cn, user), .admin_dsn, .admin_sql(sql); dropped afterwards with the roles the test made."""
    with postgres.fresh_database(central_server) as db:
        yield db


@pytest.fixture
def team(central_db):
    """The schema set up by `central init`; a team "billing" with agents ana and ben, their
    lead lea, and another team's lead oto."""
    from callcoach.central.admin import add_person, init

    init(central_db.admin_dsn)
    for login, agent, team_name, lead in (("ana", "Ana", "billing", False), ("ben", "Ben", "billing", False),
                                          ("lea", None, "billing", True), ("oto", "Oto", "sales", True)):
        add_person(central_db.admin_dsn, login, agent_name=agent, team=team_name, lead=lead)
    return central_db


def pytest_configure(config):
    """Before any fixture, even a module-scoped one, runs: point every per-user folder at a
    private temporary one, so no test can touch the developer's own settings or sessions.
    HOME too: a desktop has no hand-written ~/.asoundrc or PulseAudio cookie, so the tests
    must not find the developer's (only the TTS cache is kept, it saves minutes)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="callcoach-tests-"))
    for var, name in (("CALLCOACH_CONFIG_DIR", "config"), ("CALLCOACH_DATA_DIR", "data"),
                      ("CALLCOACH_LOG_DIR", "logs")):
        os.environ[var] = str(base / name)
    os.environ["CALLCOACH_POLICY_FILE"] = str(base / "config" / "policy.toml")
    from tests import callgen

    os.environ["CALLCOACH_TTS_CACHE"] = str(callgen.cache_dir())  # resolved with the real HOME
    (base / "home").mkdir()
    os.environ["HOME"] = str(base / "home")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ.pop(var, None)  # they would point into the real HOME


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path_factory, monkeypatch):
    """Every test gets empty user settings, no machine policy, an empty session store and its
    own log folder, never the developer's own."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("CALLCOACH_CONFIG_DIR", str(folder))
    monkeypatch.setenv("CALLCOACH_POLICY_FILE", str(folder / "policy.toml"))
    monkeypatch.setenv("CALLCOACH_DATA_DIR", str(tmp_path_factory.mktemp("data")))  # the session store
    monkeypatch.setenv("CALLCOACH_LOG_DIR", str(tmp_path_factory.mktemp("logs")))
    return folder

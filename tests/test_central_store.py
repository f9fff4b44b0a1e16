"""The team store on a real PostgreSQL (tools/central_server.py: TLS, client certificates):
`central init`, uploads from a real local store through the outbox, idempotency, who can
see what, and a server that is down or speaks another schema version."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from callcoach.central.admin import init
from callcoach.central.schema import SCHEMA_VERSION
from callcoach.central.uploader import upload_pending
from callcoach.store import SessionStore
from tests import callgen
from tests.listen_harness import Listen
from tests.pii_call import CARD_CALL, planted_card
from tests.sound_servers import TEST_HEADSET

DESKTOP = "callcoach_desktop"
PC1, PC2 = "desktop-PC0001", "desktop-PC0002"
# Revoked on the session's server for the rest of the session: no other test uses these names.
LOST_PC, KEPT_PC = "desktop-PC-LOST", "desktop-PC-KEPT"


def _summary(session_id: str, agent: str, said: str, *, mood: float = -0.3) -> dict:
    return {
        "schema": "callcoach.session.v1", "id": session_id, "started_at": "2026-12-01T09:00:00+00:00",
        "duration_s": 42.0, "source": "live",
        "utterances": [
            {"speaker": "customer", "start": 1.0, "end": 4.0, "text": said, "sentiment": mood,
             "words": [{"w": w, "start": 1.0, "end": 1.2} for w in said.split()]},
            {"speaker": "agent", "start": 4.5, "end": 7.0, "text": "I am sorry, let me fix that.", "sentiment": 0.3},
        ],
        "prompts": [{"t": 4.1, "kind": "apologize", "severity": "warning", "title": "Apologize and own it",
                     "because": f'customer said "{said}"'}],
        "metrics": {"customer_sentiment": {"start": mood, "end": 0.1, "min": mood}, "escalated": False},
    }


def _stored(store: SessionStore, agent: str, said: str, *, redact: bool = True) -> str:
    session_id = store.begin({"agent": agent, "source": "live", "redacted": redact})
    store.finish(session_id, _summary(session_id, agent, said))
    return session_id


def _as(db, cn: str, user: str):
    return psycopg.connect(db.dsn(cn, user), autocommit=True)


def _seen_by(db, person: str) -> list[tuple]:
    with _as(db, person, person) as conn:
        return conn.execute("SELECT agent, revision, summary->'utterances'->0->>'text' FROM callcoach.sessions"
                            " ORDER BY agent").fetchall()


def test_init_sets_up_the_schema_and_is_safe_to_run_again(central_db):
    first = init(central_db.admin_dsn)
    again = init(central_db.admin_dsn)
    assert (first.version_before, first.version) == (0, SCHEMA_VERSION)
    assert (again.version_before, again.version) == (SCHEMA_VERSION, SCHEMA_VERSION)
    owner = central_db.admin_sql("SELECT tableowner FROM pg_tables WHERE schemaname = 'callcoach'"
                                 " AND tablename = 'sessions'")
    assert owner.strip() == "callcoach_owner"
    assert central_db.admin_sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'callcoach_owner'").strip() == "f"


def test_sync_uploads_each_finished_session_once(team, tmp_path):
    with SessionStore(tmp_path / "sessions.db") as store:
        for said in ("I was charged twice", "My parcel never came", "The app keeps crashing"):
            _stored(store, "Ana", said)
        store.begin({"agent": "Ana", "redacted": True})  # a call still going: not uploaded
        dsn = team.dsn(PC1, DESKTOP)
        first = upload_pending(store, dsn)
        second = upload_pending(store, dsn)
    assert first.to_json() == {"uploaded": 3, "already_there": 0, "pending": 0, "failed": 0}
    assert second.to_json() == {"uploaded": 0, "already_there": 0, "pending": 0, "failed": 0}
    seen = _seen_by(team, "ana")
    assert sorted(s[2] for s in seen) == ["I was charged twice", "My parcel never came", "The app keeps crashing"]
    assert team.admin_sql("SELECT count(*) FROM callcoach.sessions WHERE summary::text LIKE '%\"words\"%'"
                          ).strip() == "0", "word timings stay on the PC"


def test_replayed_batches_and_old_revisions_change_nothing(team, tmp_path):
    with SessionStore(tmp_path / "sessions.db") as store:
        session_id = _stored(store, "Ben", "first version")
        upload_pending(store, team.dsn(PC1, DESKTOP))

    def send(revision: int, said: str) -> dict:
        row = {"id": session_id, "revision": revision, "agent": "Ben", "status": "complete",
               "summary": _summary(session_id, "Ben", said)}
        with _as(team, PC1, DESKTOP) as conn:
            return conn.execute("SELECT callcoach.ingest_v1(%s)", (json.dumps([row]),)).fetchone()[0]

    assert [send(1, "first version") for _ in range(3)] == [{"stored": [], "already": [session_id],
                                                           "refused": []}] * 3
    assert send(3, "third version")["stored"] == [session_id]
    assert send(2, "second version, late")["already"] == [session_id]
    assert _seen_by(team, "ben") == [("Ben", 3, "third version")]


def test_a_desktop_cannot_overwrite_another_desktops_session(team, tmp_path):
    with SessionStore(tmp_path / "sessions.db") as store:
        session_id = _stored(store, "Ana", "mine")
        upload_pending(store, team.dsn(PC1, DESKTOP))
    forged = {"id": session_id, "revision": 99, "agent": "Ana", "status": "complete",
              "desktop": PC1, "summary": _summary(session_id, "Ana", "overwritten")}
    with _as(team, PC2, DESKTOP) as conn:
        answer = conn.execute("SELECT callcoach.ingest_v1(%s)", (json.dumps([forged]),)).fetchone()[0]
    assert answer["refused"] == [session_id]
    assert _seen_by(team, "ana") == [("Ana", 1, "mine")]
    assert team.admin_sql(f"SELECT desktop FROM callcoach.sessions WHERE id = '{session_id}'").strip() == PC1


def test_the_desktop_role_can_only_call_the_ingest_function(team):
    with _as(team, PC1, DESKTOP) as conn:
        for statement in ("SELECT * FROM callcoach.sessions", "SELECT * FROM callcoach.people",
                          "SELECT * FROM callcoach.desktops", "DELETE FROM callcoach.sessions",
                          "UPDATE callcoach.sessions SET qa_note = 'x'",
                          "INSERT INTO callcoach.desktops (name) VALUES ('x')",
                          "SELECT * FROM callcoach.visible_agents()"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_people_see_their_own_calls_and_leads_their_teams(team, tmp_path):
    with SessionStore(tmp_path / "sessions.db") as store:
        for agent in ("Ana", "Ben", "Oto"):
            _stored(store, agent, f"a call of {agent}")
        upload_pending(store, team.dsn(PC1, DESKTOP))
    assert [s[0] for s in _seen_by(team, "ana")] == ["Ana"]
    assert [s[0] for s in _seen_by(team, "lea")] == ["Ana", "Ben"]
    assert [s[0] for s in _seen_by(team, "oto")] == ["Oto"]
    with _as(team, "ana", "ana") as conn:  # an agent cannot review their own calls
        assert conn.execute("UPDATE callcoach.sessions SET qa_score = 5").rowcount == 0
    with _as(team, "lea", "lea") as conn:
        assert conn.execute("UPDATE callcoach.sessions SET qa_score = 4, qa_note = 'good'").rowcount == 2
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE callcoach.sessions SET agent = 'Lea'")
    assert team.admin_sql("SELECT DISTINCT qa_by FROM callcoach.sessions WHERE qa_score = 4").strip() == "lea"


def test_a_server_that_is_down_keeps_everything_for_later(team, central_server, tmp_path):
    with SessionStore(tmp_path / "sessions.db") as store:
        ids = [_stored(store, "Ana", f"call {i}") for i in range(3)]
        central_server.kill()
        try:
            down = upload_pending(store, team.dsn(PC1, DESKTOP))
            state = store.outbox_state()
        finally:
            central_server.start()
        assert (down.uploaded, down.pending) == (0, 3) and "did not accept the connection" in down.error
        assert state.pending == 3 and state.oldest_queued_at and "did not accept" in state.last_error
        assert upload_pending(store, team.dsn(PC1, DESKTOP), due_only=True).uploaded == 0, "backing off"
        back = upload_pending(store, team.dsn(PC1, DESKTOP))
    assert (back.uploaded, back.pending, back.error) == (3, 0, None)
    assert team.admin_sql("SELECT count(*) FROM callcoach.sessions").strip() == str(len(ids))


def test_a_session_stored_without_redaction_never_leaves(team, tmp_path):
    with SessionStore(tmp_path / "sessions.db") as store:
        _stored(store, "Ana", "my card is 4111 1111 1111 1111", redact=False)
        _stored(store, "Ana", "fine")
        result = upload_pending(store, team.dsn(PC1, DESKTOP))
        assert store.outbox_state().never == 1
    assert (result.uploaded, result.failed) == (1, 1)
    assert [s[2] for s in _seen_by(team, "ana")] == ["fine"]


def test_texts_are_redacted_again_before_they_leave(team, tmp_path, caplog):
    """A stored copy that still holds a card number (a redactor bug, an old version) is
    caught by the second pass, and the log says so."""
    with SessionStore(tmp_path / "sessions.db") as store:
        session_id = _stored(store, "Ana", "my card is 4111 1111 1111 1111")
        upload_pending(store, team.dsn(PC1, DESKTOP))
    dump = team.admin_sql("SELECT summary::text || coalesce(transcript, '') FROM callcoach.sessions")
    assert "4111" not in dump and "[CARD]" in dump
    assert f"2 texts of session {session_id} were redacted again before upload" in caplog.text


def test_a_server_on_another_schema_version_is_told_and_nothing_is_lost(team, tmp_path):
    team.admin_sql("ALTER FUNCTION callcoach.ingest_v1(jsonb) RENAME TO ingest_v0")  # as an older server
    with SessionStore(tmp_path / "sessions.db") as store:
        _stored(store, "Ana", "hello")
        result = upload_pending(store, team.dsn(PC1, DESKTOP))
        assert store.outbox_state().pending == 1
    assert result.uploaded == 0 and "older or newer" in result.error


def test_sync_command_prints_the_counts(team, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[settings]\ncentral_store = {json.dumps(team.dsn(PC1, DESKTOP))}\n")
    env = {**os.environ, "CALLCOACH_POLICY_FILE": str(policy), "CALLCOACH_DATA_DIR": str(tmp_path)}
    with SessionStore(tmp_path / "sessions.db") as store:
        _stored(store, "Ana", "one")
        _stored(store, "Ana", "two")
    run = subprocess.run([sys.executable, "-m", "callcoach", "sync", "--json"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"uploaded": 2, "already_there": 0, "pending": 0, "failed": 0}


def test_a_revoked_desktop_keeps_its_calls_and_the_other_desktops_still_upload(team, tmp_path):
    """IT revokes a lost desktop's certificate: that desktop's next sync fails with one line
    naming the server, its finished call stays queued on the PC, and the others upload as before."""
    lost_dsn = team.dsn(LOST_PC, DESKTOP)
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[settings]\ncentral_store = {json.dumps(lost_dsn)}\n")
    env = {**os.environ, "CALLCOACH_POLICY_FILE": str(policy), "CALLCOACH_DATA_DIR": str(tmp_path)}
    with SessionStore(tmp_path / "sessions.db") as store:
        _stored(store, "Ana", "before it was lost")
        assert upload_pending(store, lost_dsn).uploaded == 1
        queued = _stored(store, "Ana", "my router is broken")
    team.server.revoke(LOST_PC)
    run = subprocess.run([sys.executable, "-m", "callcoach", "sync"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert (run.returncode, run.stdout) == (1, "0 uploaded, 0 already there, 1 pending, 0 failed\n")
    [said] = run.stderr.splitlines()  # one line, no traceback
    assert said.startswith(f"callcoach: cannot upload to the team store: localhost:{team.server.port} did not "
                           "accept the connection (") and "certificate revoked" in said
    with SessionStore(tmp_path / "sessions.db") as store:
        assert [p.session_id for p in store.uploads_due(10)] == [queued], "still waiting on this PC"
        assert store.get(queued)["utterances"][0]["text"] == "my router is broken"
        assert "certificate revoked" in store.outbox_state().last_error
    with SessionStore(tmp_path / "kept.db") as store:
        _stored(store, "Ben", "the bill is wrong")
        assert upload_pending(store, team.dsn(KEPT_PC, DESKTOP)).to_json() == {
            "uploaded": 1, "already_there": 0, "pending": 0, "failed": 0}
    uploaded = team.admin_sql("SELECT desktop || ' ' || (summary->'utterances'->0->>'text') FROM callcoach.sessions"
                              " ORDER BY desktop")
    assert uploaded.splitlines() == [f"{KEPT_PC} the bill is wrong", f"{LOST_PC} before it was lost"]


def test_sync_without_a_team_store_says_so(tmp_path):
    env = {**os.environ, "CALLCOACH_POLICY_FILE": str(tmp_path / "none.toml"), "CALLCOACH_DATA_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "callcoach", "sync"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"callcoach: error: no team store: the machine policy ({tmp_path / 'none.toml'}) does not set central_store"]


# -- crashes: the server mid-upload, the uploader between the server's commit and its ack --


def _wait_for(condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)  # polling a condition with a deadline, not a sleep standing in for one
    return value


def _uploads_waiting_on_a_lock(admin) -> bool:
    return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'callcoach'"
                         " AND wait_event_type = 'Lock'").fetchone()[0] > 0


def _central_rows(db) -> dict[str, dict]:
    with psycopg.connect(db.admin_dsn, autocommit=True) as admin:
        return {sid: (rev, summary) for sid, rev, summary in admin.execute(
            "SELECT id, revision, summary FROM callcoach.sessions")}


def _assert_same_as_local(db, store: SessionStore, ids: list[str]) -> None:
    central = _central_rows(db)
    assert sorted(central) == sorted(ids), "every session on the server, once"
    for sid in ids:
        local = store.get(sid)
        revision, summary = central[sid]
        assert revision == 1
        assert [u["text"] for u in summary["utterances"]] == [u["text"] for u in local["utterances"]]


def _hold_the_ingest(db):
    """An administrator's open transaction that locks the desktops table: ingest_v1 (which
    records the desktop first) waits inside its transaction until this one ends."""
    admin = psycopg.connect(db.admin_dsn)
    admin.execute("LOCK TABLE callcoach.desktops IN EXCLUSIVE MODE")
    return admin


def test_killing_the_server_mid_upload_loses_nothing_and_duplicates_nothing(team, central_server, tmp_path):
    with SessionStore(tmp_path / "sessions.db") as store:
        ids = [_stored(store, "Ana", f"call number {i}") for i in range(45)]
        dsn = team.dsn(PC1, DESKTOP)
        upload_pending(store, dsn)  # the desktop's row exists; what follows is new revisions' work
        for sid in ids:
            store.finish(sid, _summary(sid, "Ana", "the second version"))  # revision 2 of each
        admin = _hold_the_ingest(team)
        outcome = {}
        worker = threading.Thread(target=lambda: outcome.setdefault("result", upload_pending(store, dsn)))
        worker.start()
        with psycopg.connect(team.admin_dsn, autocommit=True) as watcher:
            _wait_for(lambda: _uploads_waiting_on_a_lock(watcher), "the upload to be inside the ingest")
        central_server.kill()  # the batch's transaction never commits
        worker.join(60)
        admin.close()
        central_server.start()
        assert outcome["result"].error and outcome["result"].pending == 45
        final = upload_pending(store, dsn)
        assert (final.uploaded, final.already_there, final.pending, final.failed) == (45, 0, 0, 0)
        central = _central_rows(team)
        assert sorted(central) == sorted(ids)
        assert {rev for rev, _ in central.values()} == {2}
        assert {summary["utterances"][0]["text"] for _, summary in central.values()} == {"the second version"}


def test_killing_the_uploader_after_the_server_committed_resends_as_a_no_op(team, tmp_path):
    """`callcoach sync` SIGKILLed after the server committed its batch and before it noted
    that in the local store: the next sync finds those sessions already there."""
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[settings]\ncentral_store = {json.dumps(team.dsn(PC1, DESKTOP))}\n")
    env = {**os.environ, "CALLCOACH_POLICY_FILE": str(policy), "CALLCOACH_DATA_DIR": str(tmp_path)}
    with SessionStore(tmp_path / "sessions.db") as store:
        ids = [_stored(store, "Ben", f"call number {i}") for i in range(30)]
    admin = _hold_the_ingest(team)
    sync = subprocess.Popen([sys.executable, "-m", "callcoach", "sync", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with psycopg.connect(team.admin_dsn, autocommit=True) as watcher:
            _wait_for(lambda: _uploads_waiting_on_a_lock(watcher), "sync to be inside the ingest")
            local = sqlite3.connect(tmp_path / "sessions.db", isolation_level=None)
            local.execute("BEGIN IMMEDIATE")  # the acknowledgement will wait for the local store
            admin.commit()  # the server's batch goes through
            _wait_for(lambda: watcher.execute("SELECT count(*) FROM callcoach.sessions").fetchone()[0] == 20,
                      "the server to commit the first batch")
            sync.kill()
            sync.wait(30)
            local.execute("ROLLBACK")
            local.close()
    finally:
        admin.close()
        if sync.poll() is None:
            sync.kill()
    with SessionStore(tmp_path / "sessions.db") as store:
        assert store.outbox_state().pending == 30, "the killed sync acknowledged nothing"
        final = upload_pending(store, team.dsn(PC1, DESKTOP))
        assert (final.uploaded, final.already_there, final.pending, final.failed) == (10, 20, 0, 0)
        _assert_same_as_local(team, store, ids)


def test_a_spoken_card_number_reaches_no_table_on_the_server(team, tmp_path):
    """A real call (the model hears the customer read out a card number), analyzed and stored
    on this PC as an agent's desktop would, then synced: a dump of the whole server database
    holds the call but not the number, in digits or in words."""
    wav = tmp_path / "card.wav"
    callgen.render_call(CARD_CALL, wav)
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[settings]\ncentral_store = {json.dumps(team.dsn(PC1, DESKTOP))}\n")
    env = {**os.environ, "CALLCOACH_POLICY_FILE": str(policy), "CALLCOACH_DATA_DIR": str(tmp_path / "data")}
    for command in (["analyze", str(wav), "--json", str(tmp_path / "card.json"), "--agent-name", "Ana"],
                    ["sync", "--json"]):
        run = subprocess.run([sys.executable, "-m", "callcoach", *command], env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["uploaded"] == 1
    dump = subprocess.run(["pg_dump", "--data-only", "-d", team.admin_dsn], capture_output=True, check=True,
                          timeout=120).stdout
    assert b"pay my bill" in dump, "the call is on the server"
    assert not planted_card(dump), "the card number reached the server"


def test_calls_stored_before_the_upgrade_go_too_redacted_again(team, tmp_path):
    """A store written by the version before the outbox: on opening, its ended calls join
    the outbox (their redaction was not recorded, so the second pass is what vouches for
    them) and a call still live does not."""
    path = tmp_path / "sessions.db"
    with SessionStore(path) as store:
        old = _stored(store, "Ana", "my card is 4111 1111 1111 1111")
        live = store.begin({"agent": "Ana"})
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE outbox; ALTER TABLE sessions DROP COLUMN revision;"
                     " ALTER TABLE sessions DROP COLUMN redacted; UPDATE schema_version SET version = 1;")
    db.close()
    with SessionStore(path) as store:
        assert [p.session_id for p in store.uploads_due(10)] == [old]
        result = upload_pending(store, team.dsn(PC1, DESKTOP))
    assert (result.uploaded, result.pending) == (1, 0)
    dump = team.admin_sql("SELECT summary::text FROM callcoach.sessions")
    assert old in dump and live not in dump and "4111" not in dump


def _doctor_team_check(env: dict) -> dict:
    run = subprocess.run([sys.executable, "-m", "callcoach", "doctor", "--json"], env=env, capture_output=True,
                         text=True, timeout=300)
    report = json.loads(run.stdout)
    shown = report["settings"]["central_store"]["value"]
    assert "password=secret" not in shown, "doctor never shows the password"
    return next(c for c in report["checks"] if c["name"] == "team store")


def test_doctor_shows_the_oldest_pending_upload_and_the_last_error(team, central_server, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[settings]\ncentral_store = {json.dumps(team.dsn(PC1, DESKTOP) + ' password=secret')}\n")
    env = {**os.environ, "CALLCOACH_POLICY_FILE": str(policy), "CALLCOACH_DATA_DIR": str(tmp_path)}
    with SessionStore(tmp_path / "sessions.db") as store:
        _stored(store, "Ana", "waiting for the server")
        central_server.kill()
        try:
            upload_pending(store, team.dsn(PC1, DESKTOP))
            down = _doctor_team_check(env)
        finally:
            central_server.start()
        oldest = store.outbox_state().oldest_queued_at
    assert down["status"] == "warn"
    assert down["details"]["pending"] == 1 and down["details"]["oldest_pending"] == oldest
    assert f"1 waiting, the oldest since {oldest}" in down["message"] and "last error" in down["message"]
    subprocess.run([sys.executable, "-m", "callcoach", "sync"], env=env, capture_output=True, timeout=120, check=True)
    up = _doctor_team_check(env)
    assert up["status"] == "ok" and f"schema {SCHEMA_VERSION}: nothing waiting" in up["message"]


def test_listen_sends_its_call_to_the_team_store_when_it_ends(sound_server, team, fresh_settings, tmp_path):
    """A live call on the virtual devices: when `listen` stops, the call is on the server,
    with no `sync` run by anyone."""
    (fresh_settings / "settings.json").write_text(json.dumps({"agent_name": "Ana"}))
    (fresh_settings / "policy.toml").write_text(
        f"[settings]\ncentral_store = {json.dumps(team.dsn(PC1, DESKTOP))}\n")
    truth = callgen.render_call([callgen.Turn(callgen.CUSTOMER, "I want to cancel my contract today.")],
                                tmp_path / "call.wav", trailing_silence=1.0)
    wavs = callgen.split_for_sinks(truth.path, tmp_path)
    listen = Listen("--mic", "Test Microphone", "--call-output", "Test Headset")
    try:
        listen.ready()
        sound_server.play(wavs[callgen.CUSTOMER], TEST_HEADSET).wait(60)
        listen.wait_for(lambda lines: any(line.event.get("type") == "utterance" for line in lines), 30)
    finally:
        status = listen.stop()
    assert status == 0, listen.stderr
    assert "team store: 1 uploaded, 0 waiting" in listen.stderr
    assert [(s[0], "cancel" in (s[2] or "").lower()) for s in _seen_by(team, "ana")] == [("Ana", True)]


# -- who can do what: every role against every table and the functions ----------------------

_TABLES = ("sessions", "live_calls", "people", "desktops", "schema_info")
_WRITES = {"INSERT": "INSERT INTO callcoach.{t} DEFAULT VALUES",
           "UPDATE": "UPDATE callcoach.{t} SET {c} = {c}",
           "DELETE": "DELETE FROM callcoach.{t}"}
_A_COLUMN = {"sessions": "agent", "live_calls": "agent", "people": "team", "desktops": "name",
             "schema_info": "version"}


def _outcome(conn, statement: str):
    """'denied', or the rows read / the row count written (rolled back)."""
    try:
        with conn.transaction(force_rollback=True):
            cur = conn.execute(statement)
            return sorted(r[0] for r in cur.fetchall()) if cur.description else cur.rowcount
    except psycopg.errors.InsufficientPrivilege:
        return "denied"


@pytest.mark.parametrize("who", ["desktop", "ana", "lea", "oto"])
def test_every_role_against_every_table_and_operation(team, tmp_path, who):
    with SessionStore(tmp_path / "sessions.db") as store:
        for agent in ("Ana", "Ben", "Oto"):
            _stored(store, agent, f"a call of {agent}")
        upload_pending(store, team.dsn(PC1, DESKTOP))
    for desktop, agent in ((PC1, "Ana"), (PC2, "Oto")):  # a call going on at each desktop
        with _as(team, desktop, DESKTOP) as conn:
            conn.execute("SELECT callcoach.live_v1(%s)", (json.dumps({"call_id": "c1", "agent": agent}),))
    seen = {"desktop": "denied", "ana": ["Ana"], "lea": ["Ana", "Ben"], "oto": ["Oto"]}[who]
    live = {"desktop": "denied", "ana": [], "lea": ["Ana"], "oto": ["Oto"]}[who]  # the board is for leads
    reviews = {"desktop": "denied", "ana": 0, "lea": 2, "oto": 1}[who]
    with _as(team, *((PC1, DESKTOP) if who == "desktop" else (who, who))) as conn:
        for table in _TABLES:
            read = _outcome(conn, f"SELECT {_A_COLUMN[table]}::text FROM callcoach.{table}")
            assert read == {"sessions": seen, "live_calls": live}.get(table, "denied"), (table, "SELECT")
            for op, sql in _WRITES.items():
                got = _outcome(conn, sql.format(t=table, c=_A_COLUMN[table]))
                assert got == "denied", (table, op)
        assert _outcome(conn, "UPDATE callcoach.sessions SET qa_score = 3") == reviews
        ingest = _outcome(conn, "SELECT callcoach.ingest_v1('[]')")
        assert (ingest != "denied") == (who == "desktop"), "only desktops upload"
        status = _outcome(conn, "SELECT callcoach.live_v1('{\"call_id\": \"c2\"}')")
        assert (status != "denied") == (who == "desktop"), "only desktops share live status"
        ack = _outcome(conn, f"SELECT callcoach.acknowledge_v1('{PC1}', 'c1')::text")
        assert ack == {"desktop": "denied", "ana": ["false"], "lea": ["true"], "oto": ["false"]}[who]
        assert _outcome(conn, "SELECT (callcoach.server_info()->>'schema_version')::int") == [SCHEMA_VERSION]
        teams = _outcome(conn, "SELECT team || ':' || agent_name FROM callcoach.my_teams()")  # the team filter
        assert teams == {"desktop": "denied", "ana": [], "lea": ["billing:Ana", "billing:Ben"],
                         "oto": ["sales:Oto"]}[who], "only the teams a lead leads"



def test_nothing_goes_over_the_network_without_the_servers_certificate_checked(team, tmp_path):
    """A policy whose central_store would let a desktop talk to whoever answers at that
    address (sslmode other than verify-full) is refused before any connection."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(team.dsn(PC1, DESKTOP))
    with SessionStore(tmp_path / "sessions.db") as store:
        _stored(store, "Ana", "hello")
        for mode in ("require", "prefer", "verify-ca"):
            result = upload_pending(store, make_conninfo(**{**params, "sslmode": mode}))
            assert result.uploaded == 0 and "must be reached with sslmode=verify-full" in result.error
        assert upload_pending(store, team.dsn(PC1, DESKTOP)).uploaded == 1

"""The review window on the team store (issue 14): the "This PC / Team" switch, paging,
sorting and filtering done by the server's SQL, the free-text search on both sources, QA
notes written to the server as the person logged in, and a server that is slow or down
while the GUI keeps running. A real PostgreSQL (tools/central_server.py, TLS and client
certificates), real SQLite stores, sessions uploaded by the real uploader."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from PySide6.QtCore import QPoint, Qt, QTimer

from callcoach.central.admin import add_person, init
from callcoach.central.login import merged_dsn, team_login
from callcoach.central.reading import CentralSessions
from callcoach.central.uploader import upload_pending
from callcoach.errors import CallCoachError
from callcoach.gui.review import session_model
from callcoach.gui.review.session_model import COLUMNS
from callcoach.gui.review.source_switch import Source
from callcoach.gui.review.window import TRY_TEAM, ReviewWindow
from callcoach.settings import Settings
from callcoach.store import SessionStore, default_store_path
from callcoach.store.source import SessionSource
from tests.postgres import configure_pc
from tests.widget_helpers import StallMeter, wait_threads_finished

DESKTOP, PC1 = "callcoach_desktop", "desktop-PC0001"
BASE = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
SERVER_WAIT_MS = 20_000  # a TLS connection per read on a shared 2-core machine


def _summary(session_id: str, said: str, duration: float, started: datetime) -> dict:
    return {
        "schema": "callcoach.session.v1", "id": session_id, "started_at": started.isoformat(),
        "duration_s": duration, "source": "live",
        "utterances": [
            {"speaker": "customer", "start": 1.0, "end": 4.0, "text": said, "sentiment": -0.4, "words": []},
            {"speaker": "agent", "start": 4.5, "end": 7.0, "text": "Let me look into that for you.",
             "sentiment": 0.3, "words": []},
        ],
        "prompts": [],
        "metrics": {"customer_sentiment": {"start": -0.2, "end": 0.1, "min": -0.4}, "escalated": False},
    }


def _store_calls(store: SessionStore, calls: list[tuple[str, str, float]], *, start: int = 0) -> list[str]:
    """(agent, what the customer said, duration) each, an hour apart; their ids."""
    ids = []
    with store.batch():
        for i, (agent, said, duration) in enumerate(calls, start):
            started = BASE + timedelta(hours=i)
            sid = store.begin({"agent": agent, "source": "live", "redacted": True, "started_at": started.isoformat()})
            store.finish(sid, _summary(sid, said, duration, started))
            ids.append(sid)
    return ids


@pytest.fixture
def team(central_db):
    """`central init`; billing: agents ana (Ana), ben (Ben) and their lead lea; sales: oto."""
    init(central_db.admin_dsn)
    for login, agent, team_name, lead in (("ana", "Ana", "billing", False), ("ben", "Ben", "billing", False),
                                          ("lea", None, "billing", True), ("oto", "Oto", "sales", True)):
        add_person(central_db.admin_dsn, login, agent_name=agent, team=team_name, lead=lead)
    return central_db


def _upload(team, tmp_path, calls: list[tuple[str, str, float]]) -> list[str]:
    """Calls stored on an agent's desktop and sent by the real uploader."""
    with SessionStore(tmp_path / "desktop" / "sessions.db") as store:
        ids = _store_calls(store, calls)
        result = upload_pending(store, team.dsn(PC1, DESKTOP))
    assert (result.uploaded, result.pending, result.error) == (len(ids), 0, None)
    return ids


def _configure(team, person: str = "lea", central_store: str | None = None) -> None:
    configure_pc(central_store or team.dsn(PC1, DESKTOP), team.dsn(person, person))


@pytest.fixture
def open_window(qtbot):
    windows = []

    def make(central: bool = False) -> ReviewWindow:
        w = ReviewWindow(None, Settings(), central=central)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
    assert not wait_threads_finished(), "background threads left running"
    assert all(w.store is None for w in windows), "store left open"


def _rows(w: ReviewWindow) -> list[dict]:
    return [w.model.row(i) for i in range(w.model.rowCount())]


def _listed(qtbot, w: ReviewWindow, count: int) -> None:
    qtbot.waitUntil(lambda: not w.model.reading() and w.model.rowCount() == count, timeout=SERVER_WAIT_MS)


def _to_team(qtbot, w: ReviewWindow) -> None:
    qtbot.mouseClick(w.switch.buttons[Source.TEAM], Qt.MouseButton.LeftButton)
    assert w.source is w.team


def _click_header(qtbot, w: ReviewWindow, key: str) -> None:
    header = w.table.horizontalHeader()
    col = next(i for i, c in enumerate(COLUMNS) if c.key == key)
    x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def _search(qtbot, w: ReviewWindow, words: str) -> None:
    w.filters.search.clear()
    qtbot.keyClicks(w.filters.search, words)  # listed after a pause in typing
    qtbot.waitUntil(lambda: w.model.filters.get("search") == words and not w.model.reading(),
                    timeout=SERVER_WAIT_MS)


# --------------------------------------------------------------------------- the connection


def test_the_login_is_laid_over_the_servers_keys_and_cannot_move_the_server(tmp_path):
    server = "host=cc.example.com port=5433 dbname=callcoach sslmode=verify-full sslrootcert=/etc/cc/ca.crt " \
             "user=callcoach_desktop sslcert=/etc/cc/desktop.crt sslkey=/etc/cc/desktop.key"
    mine = conninfo_to_dict(merged_dsn(server, "user=lea sslcert=~/lea.crt sslkey=~/lea.key"))
    assert mine == {"host": "cc.example.com", "port": "5433", "dbname": "callcoach", "sslmode": "verify-full",
                    "sslrootcert": "/etc/cc/ca.crt", "user": "lea", "sslcert": os.path.expanduser("~/lea.crt"),
                    "sslkey": os.path.expanduser("~/lea.key")}, "the desktop's certificate is not the person's"
    with pytest.raises(CallCoachError, match="central_login may set only .* not host, sslmode"):
        merged_dsn(server, "user=lea host=evil.example.com sslmode=disable")
    assert "central_store" in team_login("", "user=lea").problem
    assert "central_login" in team_login(server, "").problem
    assert team_login(server, "user='unterminated").problem == \
        "central_login is not a valid libpq connection string (ProgrammingError)"
    assert isinstance(CentralSessions("host=x"), SessionSource) and isinstance(
        SessionStore(tmp_path / "s.db"), SessionSource), "both sources implement the protocol"


def test_team_is_disabled_with_the_reason_when_there_is_no_team_store(open_window):
    w = open_window(central=True)
    team = w.switch.buttons[Source.TEAM]
    assert not team.isEnabled() and "central_store" in team.toolTip()
    assert w.switch.source() is Source.LOCAL and w.source is w.store
    assert w.message.isVisible() and "Team is not available" in w.message.text.text()


# --------------------------------------------------------------------------- the list on Team


def test_switching_to_team_lists_the_leads_team_and_back(team, tmp_path, open_window, qtbot):
    _upload(team, tmp_path, [("Ana", "I was charged twice", 60.0), ("Ben", "My parcel never came", 90.0),
                             ("Oto", "Another team's call", 30.0)])
    with SessionStore(default_store_path(Settings())) as mine:  # this PC's own calls
        _store_calls(mine, [("Zed", "A call on this PC", 45.0)] * 2)
    _configure(team)
    w = open_window()
    assert w.switch.buttons[Source.TEAM].isEnabled() and "as lea" in w.switch.buttons[Source.TEAM].toolTip()
    assert {r["agent"] for r in _rows(w)} == {"Zed"}

    busy = []
    w.model.loading.connect(lambda reading: busy.append((reading, w.switch.busy.isVisible())))
    _to_team(qtbot, w)
    _listed(qtbot, w, 2)
    assert busy[0] == (True, True) and busy[-1] == (False, False), "a busy mark while the server is read"
    assert sorted(r["agent"] for r in _rows(w)) == ["Ana", "Ben"], "the lead's team, not sales"
    assert w.status.text() == "2 sessions"
    w.table.selectRow(w.model.row_of(next(r["id"] for r in _rows(w) if r["agent"] == "Ben")))
    qtbot.waitUntil(lambda: w.detail.session is not None, timeout=SERVER_WAIT_MS)
    assert "My parcel never came" in w.detail.transcript.toPlainText()

    qtbot.mouseClick(w.switch.buttons[Source.LOCAL], Qt.MouseButton.LeftButton)
    assert {r["agent"] for r in _rows(w)} == {"Zed"} and w.detail.session is None


def test_cli_central_opens_on_team(team, tmp_path, open_window, qtbot):
    _upload(team, tmp_path, [("Ana", "hello", 10.0)])
    _configure(team, "ana")
    w = open_window(central=True)
    assert w.switch.source() is Source.TEAM
    _listed(qtbot, w, 1)
    assert w.model.row(0)["agent"] == "Ana"


def test_team_pages_sorts_and_filters_on_the_server(team, tmp_path, open_window, qtbot, monkeypatch):
    monkeypatch.setattr(session_model, "PAGE", 50)
    _upload(team, tmp_path, [("Ana" if i % 2 else "Ben", f"call number {i}", 30.0 + (i * 37) % 120 + i / 1000)
                             for i in range(120)])
    _configure(team)
    w = open_window(central=True)
    _listed(qtbot, w, 50)
    assert w.status.text() == "120 sessions" and w.model.canFetchMore()
    starts = [r["started_at"] for r in _rows(w)]
    assert starts == sorted(starts, reverse=True) and starts[0] == (BASE + timedelta(hours=119)).isoformat()
    for expected in (100, 120):
        w.table.scrollToBottom()
        qtbot.waitUntil(lambda n=expected: w.model.rowCount() == n, timeout=SERVER_WAIT_MS)
    assert len({r["id"] for r in _rows(w)}) == 120, "no page twice"

    _click_header(qtbot, w, "duration_s")
    qtbot.waitUntil(lambda: w.model.sort_key == "duration_s" and not w.model.reading(), timeout=SERVER_WAIT_MS)
    assert w.model.rowCount() == 50, "sorted by the server, listed from its first page again"
    durations = [r["duration_s"] for r in _rows(w)]
    every = sorted((30.0 + (i * 37) % 120 + i / 1000 for i in range(120)), reverse=w.model.descending)
    assert durations == every[:50], "the first page of all 120 sorted, not of the rows loaded"

    with qtbot.waitSignal(w.model.counted, timeout=SERVER_WAIT_MS):
        w.filters.agent.setText("Ben")
        w.filters.agent.returnPressed.emit()
    qtbot.waitUntil(lambda: not w.model.reading(), timeout=SERVER_WAIT_MS)
    assert w.status.text() == "60 sessions (of 120)" and {r["agent"] for r in _rows(w)} == {"Ben"}


# --------------------------------------------------------------------------- search


def test_search_finds_a_call_by_a_word_said_in_it_on_both_sources(team, tmp_path, open_window, qtbot):
    calls = [("Ana", "I was charged twice for my subscription", 60.0), ("Ben", "My parcel never came", 90.0),
             ("Ana", "The app keeps crashing on login", 30.0)]
    ids = _upload(team, tmp_path, calls)
    with SessionStore(default_store_path(Settings())) as mine:
        local = _store_calls(mine, calls)
    _configure(team)
    w = open_window()
    busy = []
    w.model.loading.connect(lambda reading: busy.append((reading, w.switch.busy.isVisible())))
    _search(qtbot, w, "parcel")
    assert busy == [(True, True), (False, False)], "a search of this PC runs off the GUI thread too"
    assert [r["id"] for r in _rows(w)] == [local[1]] and w.status.text() == "1 session (of 3)"
    _search(qtbot, w, "CHARGED subscription")
    assert [r["id"] for r in _rows(w)] == [local[0]], "every word, any case"
    _search(qtbot, w, "for you")  # said by the agent in every call
    assert w.model.rowCount() == 3

    _to_team(qtbot, w)  # the search box stays: the team store is searched too
    _listed(qtbot, w, 3)
    _search(qtbot, w, "parcel")
    assert [r["id"] for r in _rows(w)] == [ids[1]]
    _search(qtbot, w, "crashes")  # the server's full-text search knows a word's forms
    assert [r["id"] for r in _rows(w)] == [ids[2]]
    _search(qtbot, w, "charged -subscription")
    assert w.model.rowCount() == 0 and w.status.text() == "0 sessions (of 3)"


def test_local_search_reads_summaries_and_journals_and_skips_damage(tmp_path):
    with SessionStore(tmp_path / "sessions.db") as store:
        done = _store_calls(store, [("Ana", "a 100% refund_please", 10.0), ("Ana", "nothing here", 10.0)])
        cut = store.begin({"agent": "Ana"})
        store.append(cut, "Utterance", 3.0, {"role": "customer", "start": 1.0, "end": 3.0,
                                             "text": "cancel my contract", "words": []})
        store.abandon(cut)
        store._db.execute("UPDATE summaries SET summary_json = '{\"utterances\": [{\"te' WHERE session_id = ?",
                          (done[1],))
        assert [r["id"] for r in store.list_sessions(search="contract")] == [cut], "a call cut short, by its journal"
        assert [r["id"] for r in store.list_sessions(search="100%")] == [done[0]]
        assert store.list_sessions(search="1_0") == [] and store.list_sessions(search="refundXplease") == [], \
            "_ is not a wildcard"
        assert [r["id"] for r in store.list_sessions(search="refund_please")] == [done[0]]
        assert store.list_sessions(search="utterances") == [], "keys of the JSON are not said"
        assert store.count_sessions(search="nothing") == 0, "a damaged summary is skipped, not an error"
        assert len(store.list_sessions()) == 3


# --------------------------------------------------------------------------- QA notes on Team


def test_a_qa_note_written_on_team_lands_on_the_server_as_the_login(team, tmp_path, open_window, qtbot):
    ids = _upload(team, tmp_path, [("Ana", "I was charged twice", 60.0), ("Ben", "My parcel never came", 90.0)])
    _configure(team)
    w = open_window(central=True)
    _listed(qtbot, w, 2)
    w.table.selectRow(w.model.row_of(ids[1]))
    qtbot.waitUntil(lambda: (w.detail.session or {}).get("id") == ids[1], timeout=SERVER_WAIT_MS)
    qa = w.detail.qa
    qtbot.keyClicks(qa.note, "Read back the card 4111 1111 1111 1111: never do that")
    qa.score.setValue(64)
    qtbot.mouseClick(qa.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: qa.state.text() == "Saved", timeout=SERVER_WAIT_MS)
    row = team.admin_sql(f"SELECT qa_note || '|' || qa_score || '|' || qa_by FROM callcoach.sessions"
                         f" WHERE id = '{ids[1]}'").strip()
    note, score, by = row.split("|")
    assert (score, by) == ("64", "lea") and "4111" not in note and "never do that" in note
    assert w.model.index(w.model.row_of(ids[1]), [c.key for c in COLUMNS].index("qa_score")).data() == "✎ 64"
    with SessionStore(tmp_path / "desktop" / "sessions.db") as desktop:
        assert desktop.get(ids[1])["qa"] == {"note": None, "score": None}, "the PC's copy is not touched"

    as_lea = CentralSessions(merged_dsn(team.dsn(PC1, DESKTOP), _login_of(team, "lea")))
    assert as_lea.set_qa(ids[0], "card 4111 1111 1111 1111", 50, redact=False)
    assert "4111" not in team.admin_sql(f"SELECT qa_note FROM callcoach.sessions WHERE id = '{ids[0]}'"), \
        "a note leaves the PC redacted even with redaction off here"
    with psycopg.connect(team.dsn("ana", "ana"), autocommit=True) as ana:  # the note on her call, not on Ben's
        assert ana.execute("SELECT id FROM callcoach.sessions WHERE qa_by = 'lea'").fetchall() == [(ids[0],)]
    assert not CentralSessions(merged_dsn(team.dsn(PC1, DESKTOP), _login_of(team, "ben"))).set_qa(
        ids[1], "my own call is great", 100), "row-level security: an agent cannot review their own calls"


def _login_of(team, person: str) -> str:
    mine = conninfo_to_dict(team.dsn(person, person))
    return make_conninfo(user=person, sslcert=mine["sslcert"], sslkey=mine["sslkey"])


# --------------------------------------------------------------------------- a slow or missing server


def test_a_slow_server_shows_a_busy_list_and_never_stalls_the_gui(team, tmp_path, open_window, qtbot):
    _upload(team, tmp_path, [("Ana", "hello", 10.0)])
    _configure(team)
    w = open_window()
    admin = psycopg.connect(team.admin_dsn)
    admin.execute("LOCK TABLE callcoach.sessions IN ACCESS EXCLUSIVE MODE")  # every read waits for it
    meter = StallMeter()
    meter.start()
    try:
        _to_team(qtbot, w)
        qtbot.waitUntil(lambda: w.switch.busy.isVisible() and meter.ticks > 100, timeout=SERVER_WAIT_MS)
        assert w.status.text() == "Reading the team store…" and w.model.reading()
    finally:
        admin.close()
    _listed(qtbot, w, 1)
    meter.stop()
    assert not w.switch.busy.isVisible()
    meter.assert_no_recurring_stall(0.1, 0.5, "while the team store was read")


def test_a_server_that_is_down_puts_the_window_back_on_this_pc(team, tmp_path, central_server, open_window,
                                                               qtbot):
    _upload(team, tmp_path, [("Ana", "hello", 10.0), ("Ben", "hi", 20.0)])
    with SessionStore(default_store_path(Settings())) as mine:
        _store_calls(mine, [("Zed", "A call on this PC", 45.0)])
    _configure(team)
    w = open_window(central=True)
    _listed(qtbot, w, 2)
    meter = StallMeter()
    central_server.kill()  # waits for the server's processes: not the window's time
    try:
        meter.start()
        qtbot.mouseClick(w.refresh_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.switch.source() is Source.LOCAL, timeout=SERVER_WAIT_MS)
        alive = meter.ticks
        qtbot.waitUntil(lambda: meter.ticks > alive + 20)  # the event loop keeps running
        meter.stop()
        text = w.message.text.text()
        assert w.message.level == "error" and text.startswith("Team: cannot read the team store:")
        assert "did not accept the connection" in text and "\n" not in text
        assert w.message.button.text() == TRY_TEAM and w.message.button.isVisible()
        assert [r["agent"] for r in _rows(w)] == ["Zed"] and w.source is w.store
        meter.assert_no_recurring_stall(0.1, 0.5, "while the team store was down")
    finally:
        central_server.start()
    qtbot.mouseClick(w.message.button, Qt.MouseButton.LeftButton)  # the server is back
    _listed(qtbot, w, 2)
    assert w.switch.source() is Source.TEAM and not w.message.isVisible()


def test_a_server_that_never_answers_times_out_while_the_gui_runs(team, open_window, qtbot):
    """A host that takes the TCP connection and says nothing (a firewall, a hung server):
    the read gives up after connect.py's timeout; meanwhile the window is busy, not frozen."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        server = conninfo_to_dict(team.dsn(PC1, DESKTOP))
        _configure(team, central_store=make_conninfo(**{**server, "host": "127.0.0.1",
                                                         "port": str(silent.getsockname()[1])}))
        w = open_window()
        meter = StallMeter()
        meter.start()
        _to_team(qtbot, w)
        assert w.switch.busy.isVisible()
        qtbot.waitUntil(lambda: w.switch.source() is Source.LOCAL, timeout=SERVER_WAIT_MS)
        meter.stop()
    assert meter.ticks > 200, "the event loop ran all along"
    meter.assert_no_recurring_stall(0.1, 0.5, "while the server did not answer")
    assert w.message.level == "error" and "did not accept the connection" in w.message.text.text()


def test_no_timer_runs_after_the_window_closed(team, open_window, qtbot):
    _configure(team)
    w = open_window(central=True)
    qtbot.waitUntil(lambda: not w.model.reading(), timeout=SERVER_WAIT_MS)
    w.close()
    assert not [t.objectName() or repr(t) for t in w.findChildren(QTimer) if t.isActive()]


def test_the_board_opens_an_ended_call_in_the_review_window(team, tmp_path, qtbot):
    """"Open in review" on an ended call's tile: the review window on Team, on that session."""
    from callcoach.gui.board.app import open_review

    ids = _upload(team, tmp_path, [("Ana", "My router keeps dropping the line", 60.0),
                                   ("Ben", "I was charged twice", 90.0)])
    _configure(team)
    review = open_review(ids[0], Settings())
    qtbot.addWidget(review)
    try:
        qtbot.waitUntil(lambda: review.detail.session is not None, timeout=SERVER_WAIT_MS)
        assert "router keeps dropping" in review.detail.transcript.toPlainText()
        assert review.source is not None and review.source.remote, "on Team"
    finally:
        review.close()
    assert not wait_threads_finished(), "background threads left running"

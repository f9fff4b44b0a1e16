"""The supervisor's live board on a real PostgreSQL (tools/central_server.py: TLS, client
certificates). The desktops are real connections with desktop certificates calling
callcoach.live_v1, as the widget does; the board logs in as the lead and sees what
row-level security and LISTEN/NOTIFY give it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from psycopg import sql
from PySide6.QtCore import QEvent, QObject, Qt

from callcoach.central.admin import add_person, init
from callcoach.central.board_feed import DEAD_AIR_S, LOST_AFTER_S, Need
from callcoach.gui.board.window import BoardWindow
from tests.postgres import configure_pc
from tests.widget_helpers import StallMeter, no_leftover_threads, run_until, wait_threads_finished  # noqa: F401 (fixture)

DESKTOP = "callcoach_desktop"
BILLING = ("Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lin")
SERVER_WAIT_S = 10.0
PUSH_LIMIT_S = 2.0  # the issue: a desktop's change is on the board within 2 s
LOST_TOLERANCE_S = 1.5  # the board's 1 s clock, and a loaded machine


@pytest.fixture
def billing(central_db):
    """Twelve billing agents and their lead lea; oto leads sales (agent Oto)."""
    init(central_db.admin_dsn)
    for agent in BILLING:
        add_person(central_db.admin_dsn, agent.lower(), agent_name=agent, team="billing", lead=False)
    add_person(central_db.admin_dsn, "lea", agent_name=None, team="billing", lead=True)
    add_person(central_db.admin_dsn, "oto", agent_name="Oto", team="sales", lead=True)
    return central_db


class Desktop:
    """A desktop sharing its call's status through callcoach.live_v1, as the widget does."""

    def __init__(self, db, number: int, agent: str):
        self.name = f"desktop-PC{number:04d}"
        self.agent = agent
        self.call_id = f"call-{number:04d}"
        self.dsn = db.dsn(self.name, DESKTOP)
        self.conn = psycopg.connect(self.dsn, autocommit=True)
        self.status = {"call_id": self.call_id, "agent": agent, "call_s": 60.0 + number, "mood": 0.2,
                       "mood_state": "calm", "mood_trend": "steady", "pace_state": "ok", "talk_share": 0.45,
                       "dead_air_s": 0.0}
        self.sent_at = 0.0  # time.monotonic() when the server had the last status

    def send(self, **change) -> dict:
        self.status.update(change)
        reply = self.conn.execute("SELECT callcoach.live_v1(%s)", (json.dumps(self.status),)).fetchone()[0]
        self.sent_at = time.monotonic()  # autocommit: committed (and notified) when execute returns
        return reply


@pytest.fixture
def desktops(billing):
    made: list[Desktop] = []

    def make(agents=BILLING, first=1) -> list[Desktop]:
        new = [Desktop(billing, first + i, agent) for i, agent in enumerate(agents)]
        made.extend(new)
        return new

    yield make
    for desktop in made:
        desktop.conn.close()


@pytest.fixture
def open_board(billing, qtbot, no_leftover_threads):
    boards: list[BoardWindow] = []

    def open_(who: str = "lea") -> BoardWindow:
        board = BoardWindow(billing.dsn(who, who), who)
        boards.append(board)
        board.show()
        board.start()
        assert run_until(lambda: board.connected, SERVER_WAIT_S), board.status.text()
        return board

    yield open_
    for board in boards:
        board.close()
    assert not wait_threads_finished(), "the board's feed outlived its window"
    for board in boards:
        board.deleteLater()


def _needs(board: BoardWindow) -> list[tuple[str, Need]]:
    return [(board.tiles[d].call.agent, board.tiles[d].need) for d in board.order]


def _stage_a_dozen(pcs: list[Desktop]) -> None:
    """Every kind of need among twelve calls."""
    for pc in pcs:
        pc.send()
    pcs[3].send(escalation=True, handoff_note="Wants a refund of the double charge; asked twice for a manager",
                mood_state="angry", mood_trend="worsening", prompt_kind="escalate", prompt_severity="critical",
                prompt_title="Offer a supervisor")
    pcs[7].send(mood_state="angry", mood_trend="worsening", mood=-0.7, prompt_severity="warning",
                prompt_title="Apologize and own it")
    pcs[9].send(dead_air_s=DEAD_AIR_S + 4)
    pcs[10].send(mood_state="frustrated", mood_trend="improving")
    pcs[11].send(ended=True)


def test_the_board_shows_the_teams_calls_most_need_first(open_board, desktops, qtbot):
    pcs = desktops()
    _stage_a_dozen(pcs)
    board = open_board()
    assert run_until(lambda: len(board.order) == 12, SERVER_WAIT_S)
    needs = _needs(board)
    assert needs[:3] == [("Dev", Need.ESCALATION), ("Hana", Need.ANGRY_WORSENING), ("Jun", Need.DEAD_AIR)]
    assert needs[-1] == ("Lin", Need.ENDED)
    assert {need for _, need in needs[3:-1]} == {Need.REST}
    rest = [board.tiles[d].call.call_s for d in board.order[3:-1]]
    assert rest == sorted(rest, reverse=True), "within a need, the longest call first"
    ended = board.tiles[pcs[11].name]
    assert ended.state.text() == "ended" and ended.review_button.isVisible()
    assert ended.review_button.toolTip() == f"session {pcs[11].call_id}"
    with qtbot.waitSignal(board.review_requested, timeout=1000) as asked:
        qtbot.mouseClick(ended.review_button, Qt.MouseButton.LeftButton)
    assert asked.args == [pcs[11].call_id], "the desktop's call id is its session's id"
    calm = board.tiles[pcs[0].name]
    assert calm.mood.text() == "calm → steady" and calm.figures.text() == "pace ok · agent talks 45%"


def test_a_change_reaches_the_tile_within_2_s_and_the_gui_never_stalls(open_board, desktops):
    pcs = desktops()
    for pc in pcs:
        pc.send()
    board = open_board()
    assert run_until(lambda: len(board.order) == 12, SERVER_WAIT_S)
    target = board.tiles[pcs[5].name]
    painted = PaintClock(target)
    meter = StallMeter()
    meter.start()
    chatter = Chatter(pcs[:5] + pcs[6:])  # the other eleven keep sending, 5 statuses a second each
    chatter.start()
    try:
        assert run_until(lambda: chatter.rounds >= 3, SERVER_WAIT_S)
        pcs[5].send(mood_state="angry", mood_trend="worsening", mood=-0.8)
        changed_at = pcs[5].sent_at
        assert run_until(lambda: target.need == Need.ANGRY_WORSENING and painted.after(changed_at), PUSH_LIMIT_S + 1)
        assert painted.after(changed_at) - changed_at < PUSH_LIMIT_S
        assert board.order[0] == pcs[5].name, "it moved to the top"
        assert run_until(lambda: chatter.rounds >= 15, SERVER_WAIT_S)
    finally:
        chatter.stop()
        meter.stop()
    assert target.mood.text() == "angry ↓ worsening"
    meter.assert_no_recurring_stall(0.05, 0.2, "while twelve desktops sent their status")


class PaintClock(QObject):
    """When a widget was last painted (time.monotonic()): the change is on screen."""

    def __init__(self, widget):
        super().__init__()
        self.times: list[float] = []
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.times.append(time.monotonic())
        return False

    def after(self, moment: float) -> float:
        """The first paint after `moment`, or 0.0."""
        return next((t for t in self.times if t > moment), 0.0)


class Chatter:
    """Desktops sending their status from a thread of the test's own (a desktop is not the
    board's GUI thread), each five times a second, until stopped."""

    def __init__(self, pcs: list[Desktop]):
        self.pcs = pcs
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-desktops")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for pc in self.pcs:
                pc.send(call_s=pc.status["call_s"] + 0.2, talk_share=0.3 + (self.rounds % 5) / 10)
            self.rounds += 1


def test_im_coming_reaches_the_desktop(open_board, desktops, qtbot):
    (pc,) = desktops(["Ana"])
    pc.send(escalation=True, handoff_note="Card blocked abroad, customer stranded at the airport")
    board = open_board()
    assert run_until(lambda: pc.name in board.tiles, SERVER_WAIT_S)
    tile = board.tiles[pc.name]
    assert tile.need == Need.ESCALATION and tile.badge.text() == "ESCALATION"
    assert tile.note.text() == "“Card blocked abroad, customer stranded at the airport”" and tile.note.isVisible()
    assert tile.coming_button.isVisible() and not tile.on_the_way.isVisible()
    qtbot.mouseClick(tile.coming_button, Qt.MouseButton.LeftButton)
    assert run_until(lambda: tile.on_the_way.isVisible(), SERVER_WAIT_S)
    assert tile.on_the_way.text() == "Lea is on the way" and not tile.coming_button.isVisible()
    assert tile.need != Need.ESCALATION, "an answered escalation no longer waits"
    assert pc.send()["ack_by"] == "lea"
    assert pc.send(call_id="call-next", escalation=False)["ack_by"] is None, "a new call starts unanswered"


def test_a_desktop_that_stops_sending_turns_lost_within_10_s(open_board, desktops):
    alive, killed = desktops(["Ana", "Ben"])
    board = open_board()
    alive.send()
    killed.send(mood_state="frustrated")
    assert run_until(lambda: killed.name in board.tiles and alive.name in board.tiles, SERVER_WAIT_S)
    tile = board.tiles[killed.name]
    # Its last statuses change nothing a tile shows, so the board is not told of them: the
    # tile must still turn lost 10 s after the last status, not after the last it was told of.
    for _ in range(2):
        assert run_until(lambda: time.monotonic() - killed.sent_at >= 1.5, 3.0)
        killed.send(call_s=killed.status["call_s"] + 1.5)
    killed.conn.close()  # the PC is gone mid-call: no more statuses, no goodbye
    last = killed.sent_at
    while time.monotonic() - last < LOST_AFTER_S + LOST_TOLERANCE_S and tile.need != Need.LOST:
        alive.send()  # the other desktop's heartbeat keeps it current
        run_until(lambda: tile.need == Need.LOST, 1.0)
    assert tile.need == Need.LOST, f"still {tile.need.name} {time.monotonic() - last:.1f} s after the last status"
    assert LOST_AFTER_S - 0.5 <= time.monotonic() - last <= LOST_AFTER_S + LOST_TOLERANCE_S
    assert tile.state.text().startswith("lost (no news for 1") and tile.badge.text() == "LOST"
    assert board.tiles[alive.name].need == Need.REST
    assert board.order == [killed.name, alive.name], "a lost call sorts above the calm ones"


def test_the_board_is_told_of_a_status_that_changes_a_tile_or_every_5_s(billing, desktops):
    """A floor's statuses mostly change nothing a supervisor sees; each notification takes a
    cluster-wide lock, so live_v1 notifies only on a change a tile shows, and at least every
    5 s per desktop as a heartbeat."""
    (pc,) = desktops(["Ana"])
    with psycopg.connect(billing.dsn("lea", "lea"), autocommit=True) as lead:
        (channel,) = lead.execute("SELECT callcoach.my_channels()").fetchone()
        lead.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

        def told(within: float) -> int:
            return sum(1 for _ in lead.notifies(timeout=within, stop_after=10))

        pc.send()
        assert told(1.0) == 1, "a new call"
        first = pc.sent_at
        pc.send(call_s=pc.status["call_s"] + 2, mood=0.25, talk_share=0.474, dead_air_s=0.4)
        assert told(0.5) == 0, "call time, the mood's number, talk share within its 5 % step: not on a tile"
        for change in ({"talk_share": 0.476}, {"dead_air_s": 3.0}, {"mood_trend": "worsening"},
                       {"prompt_title": "Acknowledge the frustration", "prompt_severity": "warning"}):
            pc.send(**change)
            assert told(1.0) == 1, f"{change} is on the tile"
        last_told = pc.sent_at
        unchanged_told: list[float] = []
        while time.monotonic() - last_told < 8.0 and not unchanged_told:
            pc.send(call_s=pc.status["call_s"] + 1)
            if told(1.0):
                unchanged_told.append(pc.sent_at - last_told)
        assert unchanged_told and 5.0 <= unchanged_told[0] <= 7.0, f"heartbeat after {unchanged_told} s"
        assert last_told - first < 5.0


def test_a_lead_of_another_team_sees_none_of_it(open_board, desktops):
    billing_pcs = desktops(BILLING[:3])
    (sales,) = desktops(["Oto"], first=20)
    for pc in billing_pcs + [sales]:
        pc.send()
    board = open_board("oto")
    assert run_until(lambda: sales.name in board.tiles, SERVER_WAIT_S)
    for pc in billing_pcs:  # notified on billing's channel, which oto's board does not hear
        pc.send(escalation=True, handoff_note="billing only", mood_state="angry", mood_trend="worsening")
    sales.send(mood_state="frustrated")
    assert run_until(lambda: board.tiles[sales.name].call.mood_state == "frustrated", SERVER_WAIT_S)
    assert list(board.calls) == [sales.name]


def test_a_server_that_goes_away_is_one_line_on_the_board_until_it_is_back(open_board, desktops, central_server):
    (pc,) = desktops(["Ana"])
    pc.send()
    board = open_board()
    assert run_until(lambda: pc.name in board.tiles, SERVER_WAIT_S)
    meter = StallMeter()
    meter.start()
    central_server.kill()  # waits for the server's processes: not the board's time
    try:
        assert run_until(lambda: not board.connected, SERVER_WAIT_S)
        text = board.status.text()
        assert text.startswith("cannot reach the team store at localhost:") and "trying again in" in text
        assert "\n" not in text
        alive = meter.ticks
        assert run_until(lambda: meter.ticks > alive + 50, SERVER_WAIT_S)  # the event loop keeps running
    finally:
        central_server.start()
    meter.stop()
    assert run_until(lambda: board.connected, SERVER_WAIT_S + 15), board.status.text()
    assert board.status.text().startswith("live: 1 team on localhost:")
    # A status is committed without waiting for the disk, so the crash may have taken the
    # last one; the desktop's next (2 s later, on a new connection) brings the call back.
    pc.conn.close()
    pc.conn = psycopg.connect(pc.dsn, autocommit=True)
    pc.send()
    assert run_until(lambda: list(board.calls) == [pc.name], SERVER_WAIT_S), "the call back after the reconnection"
    meter.assert_no_recurring_stall(0.05, 0.2, "while the team store was down")


def test_my_channels_are_the_teams_a_person_leads(billing):
    def channels(cn: str, user: str):
        with psycopg.connect(billing.dsn(cn, user), autocommit=True) as conn:
            return sorted(r[0] for r in conn.execute("SELECT callcoach.my_channels()"))

    def channel_of(team: str) -> str:
        return billing.admin_sql(f"SELECT callcoach.live_channel('{team}')").strip()

    assert channels("lea", "lea") == [channel_of("billing")]
    assert channels("oto", "oto") == [channel_of("sales")]
    assert channels("ana", "ana") == [], "an agent leads no team"
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        channels("desktop-PC0001", DESKTOP)


def test_callcoach_board_logs_in_as_the_person_and_closes_on_ctrl_c(billing, qapp):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    refused = subprocess.run([sys.executable, "-m", "callcoach", "board"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == ("callcoach: error: cannot open the board: no team store: "
                                                       "the machine policy does not set central_store")
    configure_pc(billing.dsn("desktop-PC0001", DESKTOP), billing.dsn("lea", "lea"))
    board = subprocess.Popen([sys.executable, "-m", "callcoach", "board"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        watching = "SELECT usename FROM pg_stat_activity WHERE application_name = 'callcoach board'"
        assert run_until(lambda: billing.admin_sql(watching).strip() == "lea" or board.poll() is not None,
                         SERVER_WAIT_S * 2, poll_ms=200)
        assert board.poll() is None, board.stderr.read()
        board.send_signal(signal.SIGINT)
        assert board.wait(timeout=SERVER_WAIT_S) == 0, board.stderr.read()
    finally:
        if board.poll() is None:
            board.kill()
            board.wait()

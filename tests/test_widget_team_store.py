"""The widget sends each call to the team store when it ends, from its own thread: the
agent does nothing and the window never waits for the server."""

from __future__ import annotations

import json

import psycopg
import pytest

from callcoach.central.admin import init
from callcoach.gui.app import CoachApp
from callcoach.settings import Settings
from tests import callgen
from tests.widget_helpers import StallMeter, no_leftover_threads, run_until, shut_down  # noqa: F401 (fixture)


def _on_server(db) -> list[tuple]:
    with psycopg.connect(db.admin_dsn, autocommit=True) as admin:
        return admin.execute("SELECT agent, desktop, transcript FROM callcoach.sessions").fetchall()


@pytest.mark.usefixtures("no_leftover_threads")
def test_a_finished_call_reaches_the_team_store_on_its_own(central_db, fresh_settings, tmp_path, qtbot):
    init(central_db.admin_dsn)
    (fresh_settings / "settings.json").write_text(json.dumps({"agent_name": "Ana"}))
    (fresh_settings / "policy.toml").write_text(
        f"[settings]\ncentral_store = {json.dumps(central_db.dsn('desktop-PC0001', 'callcoach_desktop'))}\n")
    call = callgen.render_call([callgen.Turn(callgen.CUSTOMER, "My order never arrived."),
                                callgen.Turn(callgen.AGENT, "I am sorry, let me check that for you.")],
                               tmp_path / "call.wav", trailing_silence=1.0)
    coach = CoachApp(Settings(), mode="demo", demo_call=str(call.path), store_path=str(tmp_path / "sessions.db"))
    finished = []
    coach.call_finished.connect(finished.append)
    meter = StallMeter()
    try:
        coach.start()
        assert run_until(lambda: finished, 60), "the call did not finish"
        meter.start()  # while the call goes to the server
        assert run_until(lambda: bool(_on_server(central_db)), 30), "the call never reached the team store"
        meter.stop()
    finally:
        shut_down(coach)
    [(agent, desktop, transcript)] = _on_server(central_db)
    assert (agent, desktop) == ("Ana", "desktop-PC0001") and "order" in transcript.lower()
    meter.assert_no_recurring_stall(0.05, 0.15, "while the call was uploaded")


@pytest.mark.usefixtures("no_leftover_threads")
def test_the_agent_sees_that_the_call_is_shared_and_that_the_supervisor_is_coming(team, fresh_settings, tmp_path,
                                                                                  qtbot):
    (fresh_settings / "settings.json").write_text(json.dumps({"agent_name": "Ana"}))
    dsn = team.dsn("desktop-PC0001", "callcoach_desktop")
    (fresh_settings / "policy.toml").write_text(f"[settings]\ncentral_store = {json.dumps(dsn)}\nlive_board = true\n")
    call = callgen.render_call([callgen.Turn(callgen.CUSTOMER, "I want to speak to your manager right now."),
                                callgen.Turn(callgen.AGENT, "Of course, let me get my supervisor.", gap_before=6.0)],
                               tmp_path / "call.wav", trailing_silence=1.0)
    coach = CoachApp(Settings(), mode="demo", demo_call=str(call.path), store_path=str(tmp_path / "sessions.db"))
    badge = coach.window.title_bar.shared
    try:
        coach.start()
        assert run_until(lambda: badge.isVisible(), 30), "the agent is not told the call is shared"
        assert "No audio and no words" in badge.toolTip()
        assert run_until(lambda: _live(team, "escalation"), 30), "no escalation on the board"
        with psycopg.connect(team.dsn("lea", "lea"), autocommit=True) as lead:
            call_id = _live(team, "call_id")
            assert lead.execute("SELECT callcoach.acknowledge_v1(%s, %s)", ("desktop-PC0001", call_id)).fetchone()[0]
        assert run_until(lambda: "Supervisor on the way: lea" in coach.window.message.text.text(), 10), \
            coach.window.message.text.text()
        assert run_until(lambda: not coach.call_active(), 60)
        assert not badge.isVisible(), "after the call nothing is shared"
    finally:
        shut_down(coach)


def _live(db, column: str):
    with psycopg.connect(db.admin_dsn, autocommit=True) as admin:
        row = admin.execute(f"SELECT {column} FROM callcoach.live_calls").fetchone()
        return row[0] if row else None

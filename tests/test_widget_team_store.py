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

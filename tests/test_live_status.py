"""A desktop's live status for the supervisors' board (issue 15), on a real server: what a
live call shares, when, and that nothing is shared unless the policy says so."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests import callgen
from tests.callgen import AGENT as A
from tests.callgen import CUSTOMER as C
from tests.listen_harness import Listen
from tests.postgres import configure_desktop
from tests.sound_servers import TEST_HEADSET, TEST_MIC_FEED

PC1 = "desktop-PC0001"

ANGRY_CALL = [
    callgen.Turn(A, "Thank you for calling, this is Sam. How can I help you today?"),
    callgen.Turn(C, "This is ridiculous. I have called five times and nobody has fixed my internet. "
                    "I want to speak to your manager right now."),
    callgen.Turn(A, "I understand, let me see what I can do.", gap_before=1.0),
]


def _policy(team, **extra) -> None:
    configure_desktop(team.dsn(PC1, "callcoach_desktop"), "Ana", **extra)


def _live_row(team) -> dict | None:
    with psycopg.connect(team.admin_dsn, autocommit=True) as admin:
        cur = admin.execute("SELECT * FROM callcoach.live_calls")
        row = cur.fetchone()
        return dict(zip([c.name for c in cur.description], row)) if row else None


@pytest.fixture(scope="module")
def angry_call(tmp_path_factory):
    folder = tmp_path_factory.mktemp("angry")
    truth = callgen.render_call(ANGRY_CALL, folder / "call.wav", trailing_silence=1.0)
    return callgen.split_for_sinks(truth.path, folder)


@pytest.mark.slow  # a call played in real time
@pytest.mark.parametrize("notes", [True, False])
def test_a_live_call_shares_its_status_and_the_escalation(sound_server, team, fresh_settings, angry_call, notes):
    _policy(team, live_board=True, live_board_notes=notes)
    listen = Listen("--mic", "Test Microphone", "--call-output", "Test Headset")
    seen: list[dict] = []
    try:
        listen.ready()
        players = [sound_server.play(angry_call[A], TEST_MIC_FEED), sound_server.play(angry_call[C], TEST_HEADSET)]
        while any(p.poll() is None for p in players):
            if (row := _live_row(team)) is not None:
                seen.append(row)
            time.sleep(0.25)  # sampling the server's row while the call plays
        escalated = listen.wait_for(lambda lines: any(line.event.get("kind") == "escalate" for line in lines), 20)
        final_live = _live_row(team)
    finally:
        status = listen.stop()
    assert status == 0, listen.stderr
    assert escalated, listen.stderr
    assert "shared with the supervisors' board" in listen.stderr
    assert seen and {r["agent"] for r in seen} == {"Ana"} and {r["desktop"] for r in seen} == {PC1}
    heartbeats = sorted({r["updated_at"] for r in seen})
    assert len(heartbeats) >= 3, "a status every 2 s while the call goes on"
    assert final_live["escalation"] and final_live["prompt_kind"] == "escalate"
    assert final_live["mood_state"] in ("frustrated", "angry")
    assert (final_live["handoff_note"] is not None) == notes, "the note goes only when the policy allows it"
    ended = _live_row(team)
    assert ended["ended"], "the last status says the call ended"
    assert not [k for k, v in ended.items() if isinstance(v, str) and "internet" in v.lower()
                and k != "handoff_note"], "no words but the note"


def test_nothing_is_shared_without_live_board(sound_server, team, fresh_settings):
    """central_store set (sessions go to the server), live_board not: no status rows at all."""
    _policy(team)
    listen = Listen("--mic", "Test Microphone", "--call-output", "Test Headset", "--seconds", "5")
    listen.ready()
    assert listen.stop(timeout=60) == 0, listen.stderr
    assert "shared" not in listen.stderr
    assert team.admin_sql("SELECT count(*) FROM callcoach.live_calls") == "0"
    assert team.admin_sql("SELECT count(*) FROM callcoach.sessions") == "1"

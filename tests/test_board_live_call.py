"""End to end, as on a floor: an agent's live call on the virtual devices through `callcoach
listen` (the widget's pipeline and publisher), and the lead's board (pytest-qt) on a real
team store. The tile turns angry, then shows the escalation with its note; "I'm coming"
reaches the agent."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from callcoach.central.board_feed import LOST_AFTER_S, Need
from callcoach.gui.board.window import BoardWindow
from tests import callgen
from tests.callgen import AGENT as A
from tests.callgen import CUSTOMER as C
from tests.listen_harness import Listen
from tests.postgres import configure_desktop
from tests.sound_servers import TEST_HEADSET, TEST_MIC_FEED
from tests.widget_helpers import no_leftover_threads, run_until, wait_threads_finished  # noqa: F401 (fixture)

PC = "desktop-PC0001"
CALL = [
    callgen.Turn(A, "Thank you for calling, this is Sam. How can I help you today?"),
    callgen.Turn(C, "This is absolutely unacceptable, I am furious, you people are useless and I am sick of this."),
    callgen.Turn(A, "I am sorry to hear that. Let me look at your account.", gap_before=1.0),
    callgen.Turn(C, "I have called five times about my broken router. I want to speak to your manager right now.",
                 gap_before=1.0),
    callgen.Turn(A, "I understand.", gap_before=4.0),
]


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    folder = tmp_path_factory.mktemp("board_call")
    truth = callgen.render_call(CALL, folder / "call.wav", trailing_silence=1.0)
    return callgen.split_for_sinks(truth.path, folder)


@pytest.mark.slow  # a call played in real time
@pytest.mark.usefixtures("no_leftover_threads")
def test_the_board_follows_a_live_call_and_the_agent_hears_im_coming(sound_server, team, fresh_settings, call,
                                                                      qtbot):
    configure_desktop(team.dsn(PC, "callcoach_desktop"), "Ana", live_board=True, live_board_notes=True)
    board = BoardWindow(team.dsn("lea", "lea"), "lea")
    board.show()
    board.start()
    listen = Listen("--mic", "Test Microphone", "--call-output", "Test Headset")
    moods: list[str] = []

    def tile():
        return board.tiles.get(PC)

    def watched(condition):
        def check() -> bool:
            if tile() is not None and (not moods or moods[-1] != tile().call.mood_state):
                moods.append(tile().call.mood_state)
            return condition()
        return check

    try:
        assert run_until(lambda: board.connected, 10), board.status.text()
        listen.ready()
        players = [sound_server.play(call[A], TEST_MIC_FEED), sound_server.play(call[C], TEST_HEADSET)]
        assert run_until(watched(lambda: tile() is not None), 15), "the call never showed on the board"
        assert run_until(watched(lambda: tile().need is Need.ESCALATION), 60), (moods, [l.event for l in listen.lines], tile().call)
        assert "angry" in moods, moods
        assert tile().note.isVisible() and "manager" in tile().note.text().lower(), tile().note.text()
        qtbot.mouseClick(tile().coming_button, Qt.MouseButton.LeftButton)
        assert run_until(lambda: tile().on_the_way.isVisible(), 10)
        heard = listen.wait_for(lambda lines: False, 5)  # the desktop hears it with its next status (2 s)
        for player in players:
            player.wait(60)
    finally:
        status = listen.stop()
        board.close()
        wait_threads_finished()
        board.deleteLater()
    assert not heard and status == 0, listen.stderr
    assert "supervisor on the way: lea acknowledged the escalation" in listen.stderr
    assert moods.index("angry") < len(moods), moods


@pytest.mark.usefixtures("no_leftover_threads")
def test_a_desktop_killed_mid_call_turns_lost_within_10_s(sound_server, team, fresh_settings):
    """`listen` SIGKILLed in the middle of a call, as a crashed PC: no last status, no
    goodbye; the lead's tile for it greys out as lost 10 s after its last heartbeat."""
    configure_desktop(team.dsn(PC, "callcoach_desktop"), "Ana", live_board=True)
    board = BoardWindow(team.dsn("lea", "lea"), "lea")
    board.show()
    board.start()
    listen = Listen("--mic", "Test Microphone", "--call-output", "Test Headset")
    try:
        assert run_until(lambda: board.connected, 10), board.status.text()
        listen.ready()
        assert run_until(lambda: PC in board.tiles and board.tiles[PC].call.call_s > 2, 15), "no live tile"
        tile = board.tiles[PC]
        listen.proc.kill()
        killed_at = time.monotonic()
        assert run_until(lambda: tile.need is Need.LOST, LOST_AFTER_S + 4), tile.state.text()
        lost_after = time.monotonic() - killed_at
    finally:
        listen.stop()
        board.close()
        wait_threads_finished()
        board.deleteLater()
    assert lost_after <= LOST_AFTER_S + 1.5, f"lost after {lost_after:.1f} s"
    assert tile.state.text().startswith("lost (no news for")

"""Screenshot of the supervisor's live board with a dozen calls, for docs/ and the README,
taken from the screen of an X server (Xvfb, started here when there is no DISPLAY) with the
xcb platform plugin.

    .venv/bin/python tools/board_screenshot.py [--out docs]

Everything is real but the calls: a throwaway central PostgreSQL (tools/central_server.py:
TLS, client certificates), `central init`, a billing team of twelve agents and its lead,
lea. Twelve desktops (real connections with desktop certificates) share made-up statuses
through callcoach.live_v1, as the widget does: an escalation waiting, one lea answered,
upset customers, dead air, an ended call and a desktop that went quiet (lost after 10 s;
the others keep sending meanwhile). The board opens as lea. Takes about 20 seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.screenshots import Shooter, private_desktop, save_window  # noqa: E402 (after the path is set)

WAITING = "Charged twice for March; wants the second charge refunded today. Asked for a manager twice."
ANSWERED = "Card blocked while abroad; needs it unblocked before her flight at 6."
CALM = {"mood": 0.3, "mood_state": "calm", "mood_trend": "steady", "pace_state": "ok", "talk_share": 0.42,
        "dead_air_s": 0.0}
# agent: what their desktop shares (over CALM); "lost" stops sending, "answered" gets lea's "I'm coming"
CALLS: dict[str, dict] = {
    "Jordan": {"call_s": 612, "mood": -0.8, "mood_state": "angry", "mood_trend": "worsening", "escalation": True,
               "handoff_note": WAITING, "prompt_severity": "critical", "prompt_title": "Offer a supervisor"},
    "Sam": {"call_s": 347, "mood": -0.7, "mood_state": "angry", "mood_trend": "worsening", "pace_state": "fast",
            "talk_share": 0.68, "prompt_severity": "warning", "prompt_title": "Let the customer finish"},
    "Maria": {"call_s": 281, "mood": -0.3, "mood_state": "frustrated", "dead_air_s": 16,
              "prompt_severity": "info", "prompt_title": "Tell them what you are checking"},
    "Alex": {"call_s": 455, "mood": -0.5, "mood_state": "frustrated", "escalation": True, "handoff_note": ANSWERED,
             "answered": True, "prompt_severity": "critical", "prompt_title": "Offer a supervisor"},
    "Priya": {"call_s": 198, "lost": True, "mood_state": "frustrated", "mood_trend": "steady"},
    "Lee": {"call_s": 522, "mood": -0.6, "mood_state": "angry", "mood_trend": "improving",
            "prompt_severity": "warning", "prompt_title": "Apologize and own it"},
    "Noor": {"call_s": 133, "mood_state": "frustrated", "mood_trend": "steady", "pace_state": "slow",
             "talk_share": 0.35},
    "Tomas": {"call_s": 402, "talk_share": 0.55, "prompt_severity": "info", "prompt_title": "Confirm the next step"},
    "Ines": {"call_s": 96, "mood_trend": "improving", "dead_air_s": 4},
    "Kofi": {"call_s": 251, "talk_share": 0.38},
    "Hana": {"call_s": 57, "pace_state": "fast", "talk_share": 0.61, "prompt_severity": "info",
             "prompt_title": "Slow down a little"},
    "Ravi": {"call_s": 734, "ended": True, "mood": 0.4, "mood_trend": "improving"},
}


class Desktop:
    def __init__(self, dsn: str, number: int, agent: str):
        import psycopg

        self.conn = psycopg.connect(dsn, autocommit=True)
        self.name = f"desktop-PC{number:04d}"
        wanted = dict(CALLS[agent])
        self.lost, self.answered = wanted.pop("lost", False), wanted.pop("answered", False)
        self.status = {**CALM, "call_id": f"2026-12-02T0{number % 10}-{agent.lower()}", "agent": agent, **wanted}
        self.sent_at = time.monotonic()

    def send(self) -> None:
        self.conn.execute("SELECT callcoach.live_v1(%s)", (json.dumps(self.status),))
        self.sent_at = time.monotonic()


def fill(server, admin: str) -> list[Desktop]:
    from callcoach.central.admin import add_person, init

    init(admin)
    for agent in CALLS:
        add_person(admin, agent.lower(), agent_name=agent, team="billing", lead=False)
    add_person(admin, "lea", agent_name=None, team="billing", lead=True)
    desktops = []
    for number, agent in enumerate(CALLS, start=1):
        desktop = Desktop(server.dsn(f"desktop-PC{number:04d}", "callcoach_desktop"), number, agent)
        desktop.send()
        desktops.append(desktop)
    return desktops


def shoot(out: Path, lea_dsn: str, desktops: list[Desktop]) -> None:
    from callcoach.central.board_feed import LOST_AFTER_S, acknowledge
    from callcoach.gui.board.window import BoardWindow

    shooter = Shooter(out)
    board = BoardWindow(lea_dsn, "lea")
    board.move(0, 0)
    board.show()
    board.start()
    shooter.expect(lambda: len(board.tiles) == len(desktops), 30, "every call on the board")
    for desktop in desktops:
        if desktop.answered:
            acknowledge(lea_dsn, desktop.name, desktop.status["call_id"])
    quiet = next(d for d in desktops if d.lost)
    while time.monotonic() - quiet.sent_at < LOST_AFTER_S + 2:  # the others keep their heartbeat
        for desktop in desktops:
            if not desktop.lost:
                desktop.send()
        shooter.pause(1.0)
    shooter.expect(lambda: board.tiles[quiet.name].state.text().startswith("lost"), 10, "the quiet desktop lost")
    shooter.pause(0.5)
    save_window(board, out / "board.png")
    board.close()
    shooter.expect(lambda: not board.feed.running(), 15, "the board's feed ended")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNG")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from tests.postgres import running_server
    from tools.central_server import ADMIN, DATABASE, libpq_dsn

    with private_desktop("callcoach-board-shot-"), running_server() as server:
        desktops = fill(server, libpq_dsn(host=server.socket_dir, port=server.port, user=ADMIN, dbname=DATABASE))
        shoot(out, server.dsn("lea", "lea"), desktops)
        for desktop in desktops:
            desktop.conn.close()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: PySide6 can crash garbage-collecting at exit


if __name__ == "__main__":
    sys.exit(main())

"""Screenshot of the agent's widget while its call is shared with the supervisors' board and
the supervisor has answered the escalation (docs/widget-shared.png), taken from the screen
of an X server (Xvfb, started here when there is no DISPLAY).

    .venv/bin/python tools/shared_screenshot.py [--out docs]

Everything is real: a throwaway central PostgreSQL (tools/central_server.py), `central
init`, agent Ana and her lead lea; the machine policy sets central_store and live_board; the
widget plays a generated call in which the customer asks for a manager, and lea answers
"I'm coming" as the board does (callcoach.acknowledge_v1). Takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.screenshots import Shooter, private_desktop  # noqa: E402 (after the path is set)

PC = "desktop-PC0001"


def _shoot(shooter: Shooter, server, folder: Path) -> None:
    import psycopg

    from callcoach.central.admin import add_person, init
    from tests import callgen
    from tests.postgres import configure_desktop

    init(server.admin_dsn)
    add_person(server.admin_dsn, "ana", agent_name="Ana", team="billing", lead=False)
    add_person(server.admin_dsn, "lea", agent_name=None, team="billing", lead=True)
    configure_desktop(server.dsn(PC, "callcoach_desktop"), "Ana", live_board=True)
    call = folder / "call.wav"
    callgen.render_call([
        callgen.Turn(callgen.AGENT, "Thank you for calling, this is Ana. How can I help you today?"),
        callgen.Turn(callgen.CUSTOMER, "I have been charged twice and nobody has fixed it. I want to speak to "
                                       "your manager right now."),
        callgen.Turn(callgen.AGENT, "I understand. Let me get my supervisor for you.", gap_before=8.0)], call)
    coach = shooter.app_for("demo", str(call))
    coach.start()
    w = coach.window
    shooter.expect(lambda: w.card.prompt is not None and w.card.prompt.kind == "escalate", 90, "the escalation")
    with psycopg.connect(server.dsn("lea", "lea"), autocommit=True) as lead:
        call_id = lead.execute("SELECT call_id FROM callcoach.live_calls WHERE desktop = %s", (PC,)).fetchone()[0]
        lead.execute("SELECT callcoach.acknowledge_v1(%s, %s)", (PC, call_id))
    shooter.expect(lambda: "Supervisor on the way" in w.message.text.text(), 15, "the supervisor's answer")
    shooter.pause(1.0)
    shooter.shoot(w, "shared")
    shooter.close(coach)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNG")
    args = parser.parse_args()
    from tests.postgres import running_server

    with private_desktop("callcoach-shots-") as config, running_server() as server:
        _shoot(Shooter(Path(args.out)), server, config)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: PySide6 can crash garbage-collecting at exit


if __name__ == "__main__":
    sys.exit(main())

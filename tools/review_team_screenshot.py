"""Screenshot of the QA review window on Team (the team store), with a search, for docs/ and
the README, taken from the screen of an X server (Xvfb, started here when there is no
DISPLAY) with the xcb platform plugin.

    .venv/bin/python tools/review_team_screenshot.py [--out docs]

Everything is real: a throwaway central PostgreSQL (tools/central_server.py: TLS, client
certificates), `central init` and the people (a billing team and its lead, lea; a sales
agent lea does not see), a desktop's store with the bundled demo call run through the real
pipeline and model among two weeks of synthetic calls (tools/review_screenshot.py), sent
by the real uploader. The window opens as lea (`--central`), searches for what the demo
call's customer asked for, and shows the demo call with lea's QA note (review-team.png);
then the Team figures tab over every call of her team, with the example call of the rule
most often marked not helpful opened (review-team-figures.png). Takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.screenshots import Shooter, private_desktop, save_window  # noqa: E402 (after the path is set)

SEARCH = "manager"
QA_NOTE = "Offer the supervisor at the first ask, not after quoting policy."
DESKTOP_CN = "desktop-PC0042"
BILLING = ("jordan", "sam", "maria", "alex")
# The synthetic calls' prompts as the built-in playbook's rules, with how often agents pressed
# Not helpful and Done on each: a playbook with one rule QA should look at.
RULES = {"apologize": ("apologize-let-down", 0.08, 0.6), "acknowledge_feelings": ("acknowledge-upset", 0.1, 0.5),
         "slow_down": ("slow-down-fast", 0.2, 0.5), "escalate": ("escalate-manager-request", 0.03, 0.8),
         "positive_language": ("positive-language", 0.55, 0.2), "follow_up": ("follow-up", 0.12, 0.4)}


def agents_answer(store) -> None:
    """Give the synthetic calls' prompts their rules and the agents' Done / Not helpful."""
    rng = random.Random(11)
    rows = store._db.execute("SELECT session_id, summary_json FROM summaries").fetchall()
    for sid, body in rows:
        try:
            summary = json.loads(body)
        except ValueError:
            continue  # the damaged one
        for prompt in summary.get("prompts", []):
            if prompt.get("rule"):
                continue  # the demo call's own
            rule, not_helpful, done = RULES.get(prompt["kind"], (prompt["kind"], 0.1, 0.5))
            roll = rng.random()
            prompt["rule"] = rule
            prompt["feedback"] = ({"action": "not_helpful", "t": prompt["t"] + 2} if roll < not_helpful else
                                  {"action": "done", "t": prompt["t"] + 3} if roll < not_helpful + done else None)
        store._db.execute("UPDATE summaries SET summary_json = ? WHERE session_id = ?", (json.dumps(summary), sid))


def fill_team_store(db_dsn) -> str:
    """The schema, the people, a desktop's calls uploaded; the demo call's id."""
    from callcoach.central.admin import add_person, init
    from callcoach.central.uploader import upload_pending
    from callcoach.settings import Settings
    from callcoach.store import SessionStore, default_store_path
    from tools.review_screenshot import demo_session, other_calls

    admin = db_dsn("admin")
    init(admin)
    for agent in BILLING:
        add_person(admin, agent, agent_name=agent, team="billing", lead=False)
    for agent in ("priya", "lee"):
        add_person(admin, agent, agent_name=agent, team="sales", lead=False)
    add_person(admin, "lea", agent_name=None, team="billing", lead=True)
    with SessionStore(default_store_path(Settings()).parent / "desktop.db") as store:
        other_calls(store)
        agents_answer(store)
        demo_id = demo_session(store)
        result = upload_pending(store, db_dsn(DESKTOP_CN))
    if result.error:
        sys.exit(f"review_team_screenshot: the upload failed: {result.error}")
    return demo_id


def shoot(out: Path, session_id: str) -> None:
    from callcoach.gui.review.window import ReviewWindow
    from callcoach.settings import Settings

    shooter = Shooter(out)
    window = ReviewWindow(None, Settings(), central=True)
    window.move(0, 0)
    window.resize(1280, 800)
    window.show()
    shooter.wait(lambda: window.model.rowCount() > 0 and not window.model.reading(), 30)
    window.filters.search.setText(SEARCH)
    window.filters.search.returnPressed.emit()
    shooter.wait(lambda: window.model.filters.get("search") == SEARCH and not window.model.reading(), 30)
    window.table.selectRow(window.model.row_of(session_id))
    shooter.wait(lambda: (window.detail.session or {}).get("id") == session_id, 30)
    shooter.pause(0.5)
    save_window(window, out / "review-team.png")
    shoot_figures(shooter, window, out)
    window.close()
    shooter.wait(lambda: not window.busy() and not window.model.reading(), 30)


def shoot_figures(shooter, window, out: Path) -> None:
    """The Team figures tab over every call listed, the top rule's first example opened."""
    window.filters.clear()
    shooter.wait(lambda: not window.model.filters and not window.model.reading(), 30)
    window.views.setCurrentWidget(window.team_view)
    view = window.team_view
    shooter.wait(lambda: view.read is not None and not view.reading(), 60)
    example = view.rules.topLevelItem(0).child(0)
    view.rules.setCurrentItem(example)
    view.rules.itemClicked.emit(example, 0)
    shooter.wait(lambda: (window.detail.session or {}).get("id") == view.read.figures.total.by_rule()[0]
                 .examples[0].session_id, 30)
    shooter.pause(0.5)
    save_window(window, out / "review-team-figures.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNG")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from callcoach.central.login import merged_dsn
    from callcoach.central.reading import CentralSessions
    from tests.postgres import configure_pc, running_server
    from tools.central_server import ADMIN, DATABASE, libpq_dsn

    with private_desktop("callcoach-review-team-shot-"), running_server() as server:
        def db_dsn(cn: str) -> str:
            if cn == "admin":
                return libpq_dsn(host=server.socket_dir, port=server.port, user=ADMIN, dbname=DATABASE)
            return server.dsn(cn, "callcoach_desktop" if cn == DESKTOP_CN else cn)

        demo_id = fill_team_store(db_dsn)
        login = configure_pc(db_dsn(DESKTOP_CN), db_dsn("lea"))
        CentralSessions(merged_dsn(db_dsn(DESKTOP_CN), login)).set_qa(demo_id, QA_NOTE, 72)  # as lea
        shoot(out, demo_id)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: PySide6 can crash garbage-collecting at exit


if __name__ == "__main__":
    sys.exit(main())

"""The review window's Team figures (issue 14, point 6) as a supervisor reads them: on This PC
(a real SQLite store, calls kept by the real StoreWriter) and on Team for a lead (a real
PostgreSQL with TLS and client certificates, calls sent by the real uploader; only the
lead's team), an example call that opens in the detail when clicked, the GUI loop running
while the figures are counted, and `callcoach team-report --central`."""

from __future__ import annotations

import subprocess
import sys

import psycopg
from PySide6.QtCore import Qt

from callcoach.central.uploader import upload_pending
from callcoach.gui.review.source_switch import Source
from callcoach.gui.review.team_view import AGENT_COLUMNS, ALL_AGENTS, SESSION_ROLE, TeamFiguresView
from callcoach.gui.review.window import ReviewWindow
from callcoach.report.team_source import read_team_figures
from callcoach.settings import Settings
from callcoach.store import SessionStore, default_store_path
from tests.test_review_central import DESKTOP, PC1, SERVER_WAIT_MS, _configure, open_window  # noqa: F401 (fixture)
from tests.test_team_report import APOLOGIZE, SLOW_DOWN, _call, _TeamPage
from tests.widget_helpers import StallMeter

FIGURES_WAIT_MS = 20_000


def _three_calls(store: SessionStore, agents: tuple[str, str] = ("jordan", "sam")) -> dict[str, str]:
    """As tests/test_team_report.py's team_store: escalation 1 of 3, slow-down not helpful 2 of 3."""
    first, second = agents
    return {
        f"{first}-1": _call(store, first, "2025-03-10", moods=(-0.6, -0.3, -0.1), escalated=True,
                            agent_wpm=(150, 210, 150),
                            prompts=[(APOLOGIZE, "apologize", "done"), (SLOW_DOWN, "slow_down", "not_helpful")]),
        f"{first}-2": _call(store, first, "2025-03-11", moods=(-0.4, -0.5), escalated=False,
                            agent_wpm=(150, 160), prompts=[(SLOW_DOWN, "slow_down", "acted_on")]),
        f"{second}-1": _call(store, second, "2025-03-12", moods=(0.2, 0.3), escalated=False, agent_wpm=(200, 100),
                             prompts=[(SLOW_DOWN, "slow_down", "not_helpful"), (APOLOGIZE, "apologize", None)]),
    }


def _agent_rows(view: TeamFiguresView) -> dict[str, dict[str, str]]:
    rows = {}
    for i in range(view.agents.rowCount()):
        cells = [view.agents.item(i, j).text() for j in range(len(AGENT_COLUMNS))]
        rows[cells[0]] = dict(zip(AGENT_COLUMNS, cells))
    return rows


def _rules(view: TeamFiguresView) -> dict[str, list[str]]:
    """Rule -> [shown, acted on, not helpful, rate] as shown in the tree."""
    tree = view.rules
    return {tree.topLevelItem(i).text(0): [tree.topLevelItem(i).text(c) for c in range(1, 5)]
            for i in range(tree.topLevelItemCount())}


def _open_figures(qtbot, w: ReviewWindow) -> None:
    bar = w.views.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    assert w.views.currentWidget() is w.team_view


def _counted(qtbot, w: ReviewWindow, calls: int) -> None:
    view = w.team_view
    qtbot.waitUntil(lambda: not view.reading() and view.read is not None and view.read.figures.total.calls == calls,
                    timeout=FIGURES_WAIT_MS)


def _click_example(qtbot, w: ReviewWindow, rule: str, index: int = 0) -> str:
    tree = w.team_view.rules
    parent = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == rule)
    child = parent.child(index)
    tree.scrollToItem(child)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(child).center())
    return child.data(0, SESSION_ROLE)[0]


def test_team_figures_on_this_pc(open_window, qtbot):
    with SessionStore(default_store_path(Settings())) as store:
        ids = _three_calls(store)
    w = open_window()
    qtbot.waitUntil(lambda: w.model.rowCount() == 3)
    meter = StallMeter()
    meter.start()
    _open_figures(qtbot, w)
    _counted(qtbot, w, 3)
    meter.stop()
    meter.assert_no_recurring_stall(0.1, 0.5, "while the figures were counted")
    view = w.team_view
    assert view.heading.text() == "Over the 3 calls listed"
    rows = _agent_rows(view)
    assert list(rows) == ["jordan", "sam", ALL_AGENTS]
    assert rows[ALL_AGENTS]["Escalated"] == "1 of 3 (33%)" and rows["jordan"]["Escalated"] == "1 of 2 (50%)"
    assert rows[ALL_AGENTS]["Upset → calmer"] == "1 of 2 (50%)" and rows["sam"]["Upset → calmer"] == "—"
    assert rows["jordan"]["Talk off pace"].startswith("20% of") and rows["sam"]["Talk off pace"].startswith("100%")
    assert rows[ALL_AGENTS]["Not helpful"] == "2 of 5 (40%)"
    assert view.agent_shown() == ALL_AGENTS
    assert _rules(view) == {SLOW_DOWN: ["3", "1 of 3 (33%)", "2", "67%"], APOLOGIZE: ["2", "1 of 2 (50%)", "0", "0%"]}
    assert list(_rules(view)) == [SLOW_DOWN, APOLOGIZE], "highest not-helpful rate first"

    w.detail.tabs.setCurrentWidget(w.detail.summary)
    opened = _click_example(qtbot, w, SLOW_DOWN)  # a call where it was marked not helpful
    assert opened in (ids["jordan-1"], ids["sam-1"])
    qtbot.waitUntil(lambda: (w.detail.session or {}).get("id") == opened)
    assert w.detail.tabs.currentWidget() is w.detail.transcript, "at the prompt in the transcript"
    assert w.table.selectionModel().currentIndex().row() == w.model.row_of(opened), "selected in the list too"

    view.agents.setCurrentCell(list(rows).index("sam"), 0)  # sam's own rules
    assert _rules(view)[SLOW_DOWN] == ["1", "0 of 1 (0%)", "1", "100%"]

    w.filters.agent.setText("jordan")  # the figures follow the filters
    w.filters.agent.returnPressed.emit()
    _counted(qtbot, w, 2)
    assert list(_agent_rows(view)) == ["jordan", ALL_AGENTS] and _rules(view)[SLOW_DOWN][3] == "50%"
    assert not view.team.isVisible(), "this PC's store has no teams"


def test_an_example_not_listed_opens_and_the_figures_count_at_most_the_cap(open_window, qtbot):
    with SessionStore(default_store_path(Settings())) as store:
        ids = _three_calls(store)
        capped = read_team_figures(store, {}, cap=2)
    assert capped.capped and (capped.matching, capped.figures.total.calls) == (3, 2)
    assert set(capped.figures.agents) == {"jordan", "sam"}, "the newest two calls"
    w = open_window()
    qtbot.waitUntil(lambda: w.model.rowCount() == 3)
    _open_figures(qtbot, w)
    _counted(qtbot, w, 3)
    w.open_session(ids["jordan-2"])
    qtbot.waitUntil(lambda: (w.detail.session or {}).get("id") == ids["jordan-2"])
    w.filters.escalated.setChecked(True)  # the list no longer has jordan's second call
    qtbot.waitUntil(lambda: w.model.rowCount() == 1)
    _counted(qtbot, w, 1)
    opened = _click_example(qtbot, w, APOLOGIZE)
    assert opened == ids["jordan-1"]
    qtbot.waitUntil(lambda: (w.detail.session or {}).get("id") == opened)


def _upload_team_calls(team, tmp_path) -> dict[str, str]:
    """Billing (Ana, Ben) and sales (Oto) calls from one desktop, sent by the real uploader."""
    with SessionStore(tmp_path / "desktop" / "sessions.db") as store:
        ids = _three_calls(store, ("Ana", "Ben"))
        ids["oto"] = _call(store, "Oto", "2025-03-12", moods=(-0.5, -0.6), escalated=True, agent_wpm=(150, 150),
                           prompts=[(SLOW_DOWN, "slow_down", "not_helpful")])
        result = upload_pending(store, team.dsn(PC1, DESKTOP))
    assert (result.uploaded, result.error) == (4, None)
    return ids


def test_team_figures_on_team_show_only_the_leads_team(team, tmp_path, open_window, qtbot):
    ids = _upload_team_calls(team, tmp_path)
    _configure(team)  # lea, billing's lead
    w = open_window(central=True)
    qtbot.waitUntil(lambda: not w.model.reading() and w.model.rowCount() == 3, timeout=SERVER_WAIT_MS)
    admin = psycopg.connect(team.admin_dsn)
    admin.execute("LOCK TABLE callcoach.sessions IN ACCESS EXCLUSIVE MODE")  # the figures' read waits for it
    meter = StallMeter()
    meter.start()
    try:
        _open_figures(qtbot, w)
        qtbot.waitUntil(lambda: w.switch.busy.isVisible() and meter.ticks > 100, timeout=SERVER_WAIT_MS)
        assert w.status.text() == "Counting the team figures…" and w.team_view.reading()
    finally:
        admin.close()
    _counted(qtbot, w, 3)
    meter.stop()
    meter.assert_no_recurring_stall(0.1, 0.5, "while the team figures were read")
    assert not w.switch.busy.isVisible()
    view = w.team_view
    rows = _agent_rows(view)
    assert list(rows) == ["Ana", "Ben", ALL_AGENTS], "only lea's team"
    assert rows[ALL_AGENTS]["Escalated"] == "1 of 3 (33%)" and _rules(view)[SLOW_DOWN][3] == "67%"

    qtbot.waitUntil(lambda: view.team.count() == 2)  # the teams lea leads
    assert view.team.isVisible() and view.team.itemText(1) == "billing"
    view.team.setCurrentIndex(1)
    _counted(qtbot, w, 3)
    assert view.heading.text() == "Over the 3 calls listed of billing"

    opened = _click_example(qtbot, w, SLOW_DOWN, 1)
    assert opened in (ids["Ana-1"], ids["Ben-1"])
    qtbot.waitUntil(lambda: (w.detail.session or {}).get("id") == opened, timeout=SERVER_WAIT_MS)
    assert w.detail.session["agent"] in ("Ana", "Ben")

    qtbot.mouseClick(w.switch.buttons[Source.LOCAL], Qt.MouseButton.LeftButton)  # this PC: nothing stored here
    _counted(qtbot, w, 0)
    assert view.heading.text() == "Over the 0 calls listed" and not view.team.isVisible()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcoach", *args], capture_output=True, text=True, timeout=120)


def test_cli_team_report_central_has_the_teams_calls_only(team, tmp_path):
    ids = _upload_team_calls(team, tmp_path)
    _configure(team)
    out = tmp_path / "billing.html"
    done = _cli("team-report", "--central", "--team", "billing", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "3 calls, 2 agents" in done.stdout
    page = _TeamPage(out.read_text(encoding="utf-8"))
    assert list(page.agents) == ["Ana", "Ben", "All agents"]
    assert page.agents["All agents"]["escalated"] == "1 of 3 (33%)"
    slow = page.rules["rules"][SLOW_DOWN]
    assert slow["cells"]["not-helpful-rate"] == "67%"
    linked = {href.split("/")[1].split(".")[0] for href in slow["links"]}
    assert linked == {ids["Ana-1"], ids["Ana-2"], ids["Ben-1"]}
    assert all((tmp_path / "billing-calls" / f"{sid}.html").is_file() for sid in linked)
    assert ids["oto"] not in out.read_text(encoding="utf-8") and "Oto" not in page.agents
    for bad, words in ((("--team", "sales"), "you do not lead a team named 'sales'"),
                       (("--team", "billing", "--store", "x.db"), "leave it out with --central")):
        failed = _cli("team-report", "--central", "--out", str(tmp_path / "x.html"), *bad)
        assert failed.returncode == 2 and words in failed.stderr, failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    local = _cli("team-report", "--team", "billing", "--out", str(tmp_path / "x.html"))
    assert local.returncode == 2 and "--team needs --central" in local.stderr
    _configure(team, "ana")  # an agent: their own calls
    mine = _cli("team-report", "--central", "--out", str(tmp_path / "ana.html"))
    assert mine.returncode == 0 and "2 calls, 1 agents" in mine.stdout, mine.stderr
    assert list(_TeamPage((tmp_path / "ana.html").read_text(encoding="utf-8")).agents) == ["Ana", "All agents"]

"""The QA review window on a real store file: paging, sorting and filtering by the store,
the detail of a session (transcript, prompts, chart), QA notes that persist, CSV export
of a filtered list, the HTML report, and damaged or incomplete records that never crash."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QDate, QPoint, Qt, QTimer
from PySide6.QtGui import QColor

from callcoach import cli
from callcoach.gui import theme
from callcoach.gui.review import window as window_module
from callcoach.gui.review.session_model import COLUMNS, PAGE, SessionModel
from callcoach.gui.review.window import ReviewWindow
from callcoach.settings import Settings
from callcoach.store import SessionStore, default_store_path
from tests.widget_helpers import wait_threads_finished

AGENTS = ("sam", "alex", "maria")
BASE = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
N_COMPLETE = 24
ESCALATE_TITLE = "Customer asked for a manager"
APOLOGIZE_TITLE = "Apologize and own it"


# --------------------------------------------------------------------------- a real store


def _utterance(speaker: str, start: float, text: str, sentiment: float, wpm: float | None) -> dict:
    return {"speaker": speaker, "start": start, "end": start + 4.0, "text": text, "sentiment": sentiment,
            "wpm": wpm, "latency_s": None, "words": []}


def _prompt(pid: int, t: float, kind: str, severity: str, title: str, reaction: str | None = None) -> dict:
    return {"id": pid, "t": t, "kind": kind, "severity": severity, "title": title, "message": f"{title}, now.",
            "phrase": "I'm sorry this has taken so long.", "tactic": "Take ownership", "because": "heard: manager",
            "rule": kind, "priority": 50, "sticky": kind == "escalate", "latency_s": None, "checklist": [],
            "handoff": None, "cleared": None, "feedback": {"t": t + 2, "action": reaction} if reaction else None}


def _session(i: int) -> dict:
    """Session i: durations all different, every 4th escalated, customers angrier with i."""
    escalated = i % 4 == 0
    low = round(-0.1 - 0.035 * i, 3)
    utterances = [
        _utterance("agent", 0.5, f"thank you for calling this is call {i}", 0.3, 150.0 + i),
        _utterance("customer", 6.0, f"my refund for order {i} never arrived", low / 2, None),
        _utterance("agent", 12.0, "let me check that for you", 0.2, 205.0),
        _utterance("customer", 18.0, "this is the third time I am calling", low, None),
    ]
    prompts = [_prompt(1, 20.0, "apologize", "warning", APOLOGIZE_TITLE, "done")]
    if escalated:
        prompts.append(_prompt(2, 40.0, "escalate", "critical", ESCALATE_TITLE))
    return {
        "schema": "callcoach.session.v1", "id": f"s{i:02d}", "started_at": (BASE + timedelta(hours=5 * i)).isoformat(),
        "duration_s": 60.0 + 7 * i, "source": "test.wav", "utterances": utterances, "prompts": prompts,
        "metrics": {"agent_wpm": 160.0, "agent_talk_share": 0.45, "dead_air_s": 2.0, "overlaps": 1,
                    "customer_sentiment": {"start": low / 2, "end": low, "min": low}, "escalated": escalated},
        "handoff_note": f"Customer {i} wants a manager about a missing refund" if escalated else None,
        "follow_up": [f"Confirm refund {i} went through"],
        "notices": [{"t": 30.0, "level": "warning", "message": "customer audio gap of 1.2 s"}],
    }


def _journal(store: SessionStore, sid: str, session: dict) -> None:
    """The events a live call journals, as StoreWriter appends them."""
    for u in session["utterances"]:
        store.append(sid, "Utterance", u["end"], {"role": u["speaker"], "start": u["start"], "end": u["end"],
                                                   "text": u["text"], "words": [], "wpm": u["wpm"], "latency_s": None})
    for p in session["prompts"]:
        fields = {k: v for k, v in p.items() if k not in ("cleared", "feedback")}
        store.append(sid, "Prompt", p["t"], fields)


def build_store(path=None) -> dict:
    """24 complete sessions, 2 incomplete (the app closed mid-call), 1 damaged summary."""
    store = SessionStore(path or default_store_path(Settings()))
    for i in range(N_COMPLETE):
        s = _session(i)
        sid = store.begin({"id": s["id"], "started_at": s["started_at"], "agent": AGENTS[i % 3], "source": "test.wav"})
        _journal(store, sid, s)
        store.finish(sid, s)
    for i in (90, 91):
        s = _session(i)
        sid = store.begin({"id": f"cut{i}", "started_at": s["started_at"], "agent": "sam"})
        _journal(store, sid, s)
        store.abandon(sid)
    bad = store.begin({"id": "broken", "started_at": (BASE + timedelta(days=40)).isoformat(), "agent": "alex"})
    store.finish(bad, _session(5))
    store._db.execute("UPDATE summaries SET summary_json = '{\"utterances\": [{\"spea' WHERE session_id = 'broken'")
    store.get("broken")  # reading it finds the damage and marks the session so
    counts = {"all": store.count_sessions(), "escalated": store.count_sessions(escalated=True),
              "sam": store.count_sessions(agent="sam")}
    store.close()
    return counts


# --------------------------------------------------------------------------- driving the window


@pytest.fixture
def open_window(qtbot):
    """Opens real review windows; afterwards fails on a thread or timer left running."""
    windows = []

    def make(path=None) -> ReviewWindow:
        w = ReviewWindow(path, Settings())
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
    assert not wait_threads_finished(), "background threads left running"
    timers = [t.objectName() or repr(t) for w in windows for t in w.findChildren(QTimer) if t.isActive()]
    assert not timers, f"timers still running after the window closed: {timers}"
    assert all(w.store is None for w in windows), "store left open"


def _column(key: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c.key == key)


def _rows(w: ReviewWindow) -> list[dict]:
    return [w.model.row(i) for i in range(w.model.rowCount())]


def _click_header(qtbot, w: ReviewWindow, key: str) -> None:
    header = w.table.horizontalHeader()
    col = _column(key)
    x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def _select(qtbot, w: ReviewWindow, session_id: str) -> None:
    row = w.model.row_of(session_id)
    assert row >= 0, f"{session_id} is not listed"
    w.table.selectRow(row)
    qtbot.waitUntil(lambda: (w.detail.session or {}).get("id") == session_id)


# --------------------------------------------------------------------------- tests


def test_lists_the_store_with_counts_markers_and_recovery(open_window):
    counts = build_store()
    store = SessionStore(default_store_path(Settings()))
    live = store.begin({"id": "orphan", "started_at": BASE.isoformat(), "agent": "sam"})
    store._db.execute("UPDATE sessions SET writer_pid = ? WHERE id = ?", (_dead_pid(), live))
    store.close()

    w = open_window()
    assert w.model.rowCount() == counts["all"] + 1
    assert w.status.text() == f"{counts['all'] + 1} sessions"
    starts = [r["started_at"] for r in _rows(w)]
    assert starts == sorted(starts, reverse=True), "newest first"
    with SessionStore(default_store_path(Settings())) as again:
        assert again.list_sessions(status="live") == [], "the window recovered the orphaned call"

    status = _column("status")
    broken = w.model.index(w.model.row_of("broken"), status)
    assert broken.data() == "⚠ damaged" and "unreadable" in broken.data(Qt.ItemDataRole.ToolTipRole)
    cut = w.model.index(w.model.row_of("cut90"), status)
    assert cut.data() == "◐ incomplete" and "did not end normally" in cut.data(Qt.ItemDataRole.ToolTipRole)
    escalated = w.model.index(w.model.row_of("s04"), _column("escalated"))
    assert escalated.data() == "yes"


def test_pages_of_200_are_fetched_as_the_table_scrolls(open_window, qtbot):
    store = SessionStore(default_store_path(Settings()))
    with store.batch():
        for i in range(450):
            sid = store.begin({"started_at": (BASE + timedelta(minutes=i)).isoformat(), "agent": AGENTS[i % 3]})
            store.finish(sid, {"duration_s": float(i + 1), "utterances": [], "prompts": []})
    store.close()
    w = open_window()
    assert w.model.rowCount() == PAGE and w.status.text() == "450 sessions"
    for expected in (2 * PAGE, 450):
        w.table.scrollToBottom()
        qtbot.waitUntil(lambda n=expected: w.model.rowCount() == n)
    assert not w.model.canFetchMore()
    assert len({r["id"] for r in _rows(w)}) == 450, "no page twice"

    _click_header(qtbot, w, "duration_s")
    qtbot.waitUntil(lambda: w.model.sort_key == "duration_s")
    first = w.model.row(0)["duration_s"]
    assert first == (1.0 if not w.model.descending else 450.0) and w.model.rowCount() == PAGE


def test_sorting_by_a_column_is_done_by_the_store(open_window, qtbot):
    build_store()
    w = open_window()
    _click_header(qtbot, w, "duration_s")
    qtbot.waitUntil(lambda: w.model.sort_key == "duration_s")
    durations = [r["duration_s"] for r in _rows(w) if r["duration_s"] is not None]
    expected = sorted(durations, reverse=w.model.descending)
    assert durations == expected
    first = w.model.row(0)["id"]
    _click_header(qtbot, w, "duration_s")  # again: the other way round
    qtbot.waitUntil(lambda: w.model.row(0)["id"] != first)
    assert [r["duration_s"] for r in _rows(w) if r["duration_s"] is not None] == sorted(durations,
                                                                                        reverse=w.model.descending)

    _click_header(qtbot, w, "worst_mood")
    qtbot.waitUntil(lambda: w.model.sort_key == "worst_mood")
    moods = [r["worst_mood"] for r in _rows(w) if r["worst_mood"] is not None]
    assert moods == sorted(moods, reverse=w.model.descending)

    _click_header(qtbot, w, "escalated")
    qtbot.waitUntil(lambda: w.model.sort_key == "escalated")
    flags = [r["escalated"] for r in _rows(w)]
    assert flags == sorted(flags, reverse=w.model.descending) and len(set(flags)) == 2
    assert w.table.horizontalHeader().sortIndicatorSection() == _column("escalated")


def test_filters(open_window, qtbot):
    counts = build_store()
    w = open_window()
    f = w.filters

    with qtbot.waitSignal(w.model.counted):
        f.escalated.setChecked(True)
    assert w.model.rowCount() == counts["escalated"] > 0
    assert all(r["escalated"] for r in _rows(w))
    assert w.status.text() == f"{counts['escalated']} sessions (of {counts['all']})"

    with qtbot.waitSignal(w.model.counted):
        f.escalated.setChecked(False)
    with qtbot.waitSignal(w.model.counted, timeout=3000):
        qtbot.keyClicks(f.agent, "sam")  # applied after a pause in typing
    assert {r["agent"] for r in _rows(w)} == {"sam"} and w.model.rowCount() == counts["sam"]

    with qtbot.waitSignal(w.model.counted):
        f.status.setCurrentIndex(f.status.findData("incomplete"))
    assert sorted(r["id"] for r in _rows(w)) == ["cut90", "cut91"]

    with qtbot.waitSignal(w.model.counted):
        f.clear()
    assert w.model.rowCount() == counts["all"]

    with qtbot.waitSignal(w.model.counted):
        f.mood.setCurrentIndex(f.mood.findText("Angry"))
    assert w.model.rowCount() > 0 and all(r["worst_mood"] <= -0.55 for r in _rows(w))

    with qtbot.waitSignal(w.model.counted):
        f.clear()
    with qtbot.waitSignal(w.model.counted):
        f.since.setDate(QDate(2025, 3, 3))
    with qtbot.waitSignal(w.model.counted):
        f.until.setDate(QDate(2025, 3, 4))  # inclusive: to the end of the 4th
    lo, hi = datetime(2025, 3, 3).astimezone(), datetime(2025, 3, 5).astimezone()
    assert w.model.rowCount() > 0
    assert all(lo <= datetime.fromisoformat(r["started_at"]) < hi for r in _rows(w))


def test_detail_shows_transcript_prompts_and_chart(open_window, qtbot):
    build_store()
    w = open_window()
    _select(qtbot, w, "s08")
    d = w.detail
    transcript = d.transcript.toPlainText()
    assert "my refund for order 8 never arrived" in transcript and "Customer" in transcript
    assert APOLOGIZE_TITLE in transcript and ESCALATE_TITLE in transcript
    assert transcript.index("Apologize") < transcript.index(ESCALATE_TITLE), "prompts inline, in time order"
    summary = d.summary.toPlainText()
    assert "Customer 8 wants a manager" in summary and "Confirm refund 8 went through" in summary
    assert "escalated" in d.subtitle.text()

    chart = d.chart
    assert [m.t for m in chart.prompts] == [20.0, 40.0]
    assert ESCALATE_TITLE in chart.prompts[1].label and len(chart.notices) == 1
    assert len(chart.mood) == 2 and len(chart.pace) == 2
    image = chart.grab().toImage()
    top = chart.panels()[0].top()
    for mark, severity in zip(chart.prompts, ("warning", "critical")):  # each marker's flag, in its color
        pixel = image.pixelColor(round(chart.x_of(mark.t)), round(top - 5))
        want = QColor(theme.SEVERITY[severity])
        assert abs(pixel.red() - want.red()) + abs(pixel.green() - want.green()) + abs(pixel.blue() - want.blue()) < 40

    d.scroll_to(40.0)  # a click on the chart shows that moment of the transcript
    assert d.tabs.currentWidget() is d.transcript


def test_qa_note_and_score_are_saved_and_shown_again(open_window, qtbot):
    build_store()
    w = open_window()
    _select(qtbot, w, "s03")
    qa = w.detail.qa
    qtbot.keyClicks(qa.note, "Good recovery after the apology")
    qa.score.setValue(85)
    assert qa.save_button.isEnabled()
    qtbot.mouseClick(qa.save_button, Qt.MouseButton.LeftButton)
    assert qa.state.text() == "Saved" and not qa.save_button.isEnabled()
    row = w.model.row_of("s03")
    assert w.model.index(row, _column("qa_score")).data() == "✎ 85"

    _select(qtbot, w, "s04")  # a note typed and left unsaved is kept when moving on
    qtbot.keyClicks(qa.note, "Escalated too late")
    _select(qtbot, w, "s05")
    w.close()

    again = open_window()
    _select(qtbot, again, "s03")
    assert again.detail.qa.note.toPlainText() == "Good recovery after the apology"
    assert again.detail.qa.score.value() == 85
    _select(qtbot, again, "s04")
    assert again.detail.qa.note.toPlainText() == "Escalated too late"
    with qtbot.waitSignal(again.model.counted):
        again.filters.reviewed.setCurrentIndex(again.filters.reviewed.findData(True))
    assert sorted(r["id"] for r in _rows(again)) == ["s03", "s04"]


def test_export_csv_of_the_filtered_list(open_window, qtbot, tmp_path):
    counts = build_store()
    w = open_window()
    with qtbot.waitSignal(w.model.counted, timeout=3000):
        w.filters.agent.setText("sam")
        w.filters.agent.returnPressed.emit()
    assert w.model.rowCount() == counts["sam"]

    qtbot.mouseClick(w.export_button, Qt.MouseButton.LeftButton)
    dialog = w.export_dialog
    assert dialog is not None and dialog.testOption(dialog.Option.DontUseNativeDialog)
    out = tmp_path / "sam.csv"
    dialog.selectFile(str(out))
    dialog.accept()
    qtbot.waitUntil(lambda: "Wrote" in w.message.text.text(), timeout=5000)
    assert w.message.text.text() == f"Wrote {counts['sam']} sessions to {out}"
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == counts["sam"] and {r["agent"] for r in rows} == {"sam"}
    assert [r["id"] for r in rows] == [r["id"] for r in _rows(w)], "in the listing's order"
    assert {"cut90", "cut91"} <= {r["id"] for r in rows}


def test_open_report_writes_the_html_and_opens_it(open_window, qtbot, monkeypatch):
    build_store()
    opened = []

    class FakeDesktop:
        @staticmethod
        def openUrl(url):
            opened.append(url)
            return True

    monkeypatch.setattr(window_module, "QDesktopServices", FakeDesktop)
    w = open_window()
    _select(qtbot, w, "s08")
    qtbot.mouseClick(w.detail.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=10_000)
    path = opened[0].toLocalFile()
    assert path.startswith(str(default_store_path(Settings()).parent / "reports"))
    html = open(path, encoding="utf-8").read()
    assert "my refund for order 8 never arrived" in html and ESCALATE_TITLE in html

    _select(qtbot, w, "broken")  # a damaged session still gets its report
    qtbot.mouseClick(w.detail.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=10_000)
    assert not w.message.isVisible() or w.message.level != "error"


def test_damaged_and_incomplete_sessions_never_crash(open_window, qtbot):
    build_store()
    with SessionStore(default_store_path(Settings())) as store:  # damaged after it was last read
        store._db.execute("UPDATE summaries SET summary_json = '[1, 2' WHERE session_id = 's02'")
    w = open_window()
    status = w.model.index(w.model.row_of("s02"), _column("status"))
    assert status.data() == "complete", "the listing does not read summaries"
    _select(qtbot, w, "s02")
    d = w.detail
    assert d.problem.isVisible() and "Damaged record" in d.problem.text() and "JSON" in d.problem.text()
    assert "Damaged record" in d.summary.toPlainText()
    assert status.data() == "⚠ damaged" and "JSON" in status.data(Qt.ItemDataRole.ToolTipRole)
    _select(qtbot, w, "broken")
    assert "Damaged record" in d.problem.text()

    _select(qtbot, w, "cut90")  # rebuilt from the journal the call left behind
    assert d.problem.isVisible() and "Incomplete" in d.problem.text()
    assert "my refund for order 90 never arrived" in d.transcript.toPlainText()
    assert [m.t for m in d.chart.prompts] == [20.0]

    d.chart.set_session({"utterances": [{"speaker": "customer", "start": "x", "end": None}, 5, None],
                         "prompts": "not a list", "notices": [{"t": float("nan")}], "duration_s": -3}, (120, 190))
    d.chart.grab()  # draws with nothing drawable in it


def test_a_file_that_is_not_a_store_shows_a_message(open_window, qtbot, tmp_path):
    bad = tmp_path / "sessions.db"
    bad.write_bytes(b"this is not a database at all\n" * 50)
    w = open_window(bad)
    assert w.message.isVisible() and w.message.level == "error"
    assert "not a CallCoach session store" in w.message.text.text()
    assert w.model.rowCount() == 0 and not w.export_button.isEnabled()
    assert bad.read_bytes() == b"this is not a database at all\n" * 50, "left as it was"

    bad.unlink()  # moved away, as the message says: Refresh opens a new store
    qtbot.mouseClick(w.refresh_button, Qt.MouseButton.LeftButton)
    assert w.store is not None and not w.message.isVisible() and w.status.text() == "0 sessions"


def test_a_store_damaged_where_listing_reads_lists_every_readable_row(qtbot):
    """The store's fallback returns every row it can read, whatever the page asked for."""
    errors = []

    class DamagedStore:
        remote = False

        def count_sessions(self, **filters):
            return 1000

        def list_sessions(self, **kwargs):
            return [{"id": f"r{i}", "status": "complete"} for i in range(PAGE + 50)]

    model = SessionModel(DamagedStore())
    model.error.connect(errors.append)
    model.reload()
    assert model.rowCount() == PAGE + 50 and not model.canFetchMore() and model.total == PAGE + 50
    assert errors and "damaged in places" in errors[0]


def test_cli_review_opens_the_window_on_the_store(monkeypatch, tmp_path):
    seen = []
    from callcoach.gui.review import app

    monkeypatch.setattr(app, "run", lambda store=None, central=False: seen.append((store, central)) or 0)
    assert cli.main(["review", "--store", str(tmp_path / "x.db")]) == 0
    assert cli.main(["review", "--central"]) == 0
    assert seen == [(str(tmp_path / "x.db"), False), (None, True)]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid

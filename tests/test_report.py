"""The HTML session report, checked the way a QA reviewer reads it: on a real session (the
demo call through the real pipeline and model, kept in the store), on damaged and partial
sessions, on hostile text, and through `callcoach report`."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcoach.coach.events import CallSummary, Prompt
from callcoach.engine.events import CallEnded, Notice, Utterance
from callcoach.engine.transcriber import Word
from callcoach.redact import contains_planted
from callcoach.report import load_session, render_html, write_report
from callcoach.report.values import SEVERITY_COLOR
from callcoach.session_values import clock
from callcoach.settings import Settings
from callcoach.store import SessionStore, StoreWriter
from tests.report_demo import ANSWERS, demo_session
from tests.pii_call import CARD, planted_card

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- reading the page


class _Page(HTMLParser):
    """What a reader sees: the text of each section, the transcript's lines and prompt cards
    in page order, and the timeline's markers."""

    def __init__(self, page: str):
        super().__init__()
        self.sections: dict[str, str] = {}
        self.items: list[dict] = []  # transcript lines and prompt cards, in order
        self.markers: list[dict] = []  # prompt markers in the SVG
        self.notice_markers = 0
        self.text: list[str] = []  # everything shown (not the style sheet)
        self._section: str | None = None
        self._in_style = False
        self._in_title = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag in ("section", "header"):
            self._section = a.get("id") or tag
            self.sections.setdefault(self._section, "")
        elif tag == "style":
            self._in_style = True
        elif "line" in classes and self._section == "transcript":
            self.items.append({"type": "line", "start": _float(a.get("data-start")), "speaker": classes[1],
                               "text": ""})
        elif "withheld" in classes and self._section == "transcript":
            self.items.append({"type": "withheld", "t": _float(a.get("data-t")), "text": "", "title": ""})
        elif "prompt" in classes and self._section == "transcript":
            self.items.append({"type": "prompt", "t": _float(a.get("data-t")), "n": int(a["data-n"]), "text": "",
                               "title": ""})
        elif "prompt-marker" in classes:
            self.markers.append({"n": int(a["data-n"]), "kind": a["data-kind"]})
        elif "notice-marker" in classes:
            self.notice_markers += 1
        elif tag == "line" and self.markers and "stroke" in a and "stroke-dasharray" not in a:
            self.markers[-1].setdefault("stroke", a["stroke"])
        if "title" in classes:
            self._in_title = True

    def handle_endtag(self, tag):
        if tag in ("section", "header"):
            self._section = None
        elif tag == "style":
            self._in_style = False
        elif tag == "strong":
            self._in_title = False

    def handle_data(self, data):
        if self._in_style:
            return
        self.text.append(data)
        if self._section:
            self.sections[self._section] += data
        if self._section == "transcript" and self.items:
            self.items[-1]["text"] += data
            if self._in_title:
                self.items[-1]["title"] += data


def _float(value: str | None) -> float:
    return math.inf if value is None else float(value)


def _tags(page: str) -> list[tuple[str, list[str]]]:
    """(tag, attribute names) of every element, as a browser's parser sees them."""
    found = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.append((tag, [k for k, _ in attrs]))
    parser.feed(page)
    return found


def _visible(page: str) -> str:
    return " ".join(_Page(page).text)


# --------------------------------------------------------------------------- the real session


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo call through the real pipeline into a store, with an agent pressing buttons."""
    folder = tmp_path_factory.mktemp("report-store")
    raw, session_id = demo_session(folder / "sessions.db")
    with SessionStore(folder / "sessions.db") as store:
        session = store.get(session_id)
    page = render_html(session)
    return SimpleNamespace(raw=raw, id=session_id, session=session, html=page, page=_Page(page), folder=folder)


def test_the_real_session_is_what_qa_needs(demo):
    s = demo.session
    assert s["status"] == "complete" and s["agent"] == "jordan"
    kinds = [p["kind"] for p in s["prompts"]]
    assert {"apologize", "slow_down", "escalate", "follow_up"} <= set(kinds), kinds
    assert s["handoff_note"] and s["follow_up"]
    assert {p["feedback"]["action"] for p in s["prompts"] if p["feedback"]} == {"done", "not_helpful"}
    header = demo.page.sections["header"]
    assert "jordan" in header and "complete" in header and clock(s["duration_s"]) in header


def test_prompts_appear_in_the_transcript_where_they_were_raised(demo):
    items = demo.page.items
    cards = [i for i in items if i["type"] == "prompt"]
    prompts = sorted(demo.session["prompts"], key=lambda p: p["t"])
    assert [c["title"] for c in cards] == [p["title"] for p in prompts]
    lines = [i for i in items if i["type"] == "line"]
    assert len(lines) == len(demo.session["utterances"])
    for k, item in enumerate(items):
        if item["type"] != "prompt":
            continue
        before = [i for i in items[:k] if i["type"] == "line"]
        after = [i for i in items[k + 1:] if i["type"] == "line"]
        assert not before or before[-1]["start"] <= item["t"], item
        assert not after or after[0]["start"] > item["t"], item
    # A prompt raised by what someone said comes right after those words.
    by_end = {u["end"]: u for u in demo.session["utterances"]}
    for k, item in enumerate(items):
        if item["type"] == "prompt" and item["t"] in by_end:
            previous = next(i for i in reversed(items[:k]) if i["type"] == "line")
            assert previous["start"] == by_end[item["t"]]["start"]


def test_timeline_has_one_marker_per_prompt_colored_by_severity(demo):
    prompts = sorted(demo.session["prompts"], key=lambda p: p["t"])
    markers = demo.page.markers
    assert len(markers) == len(prompts)
    assert [m["kind"] for m in markers] == [p["kind"] for p in prompts]
    assert [m["stroke"] for m in markers] == [SEVERITY_COLOR[p["severity"]] for p in prompts]
    svg = re.search(r"<svg.*?</svg>", demo.html, re.S).group(0)
    ET.fromstring(svg)  # well-formed: every text in it was escaped
    # Mood (customer) and pace (agent) points are there, one per scored utterance.
    customer = [u for u in demo.session["utterances"] if u["speaker"] == "customer" and u["sentiment"] is not None]
    assert svg.count("<circle") == len(customer)
    agent = [u for u in demo.session["utterances"] if u["speaker"] == "agent" and u["wpm"]]
    assert len(re.findall(r"agent \d+ wpm</title>", svg)) == len(agent)


def test_handoff_note_and_checklist_are_shown(demo):
    handoff = " ".join(demo.page.sections["handoff"].split())
    assert " ".join(demo.session["handoff_note"].split()) in handoff
    checklist = demo.page.sections["follow-up"]
    for item in demo.session["follow_up"]:
        assert item in checklist


def test_agent_feedback_is_shown_on_each_prompt_and_in_the_summary(demo):
    cards = {c["n"]: c["text"] for c in demo.page.items if c["type"] == "prompt"}
    feedback = demo.page.sections["feedback"]
    prompts = sorted(demo.session["prompts"], key=lambda p: p["t"])
    for n, p in enumerate(prompts, start=1):
        if p["feedback"]:
            label = {"done": "done", "not_helpful": "not helpful"}[p["feedback"]["action"]]
            expected = f"{label} at {clock(p['feedback']['t'])}"
            assert ANSWERS[p["kind"]] == p["feedback"]["action"]
        else:
            expected = "none"
        assert f"Agent feedback: {expected}" in cards[n]
        assert f"{p['title']}{expected}" in feedback, f"the feedback table row of prompt {n}"
    done = sum(1 for p in prompts if p["feedback"] and p["feedback"]["action"] == "done")
    assert f"done: {done} · not helpful: 1 · none: {len(prompts) - done - 1}" in feedback


def test_metrics_are_the_sessions(demo):
    m = demo.session["metrics"]
    metrics = demo.page.sections["metrics"]
    assert f"{m['agent_wpm']:.0f} wpm" in metrics and f"{m['agent_talk_share']:.0%}" in metrics
    assert f"{m['dead_air_s']:.1f} s" in metrics
    for key in ("start", "end", "min"):
        assert f"{m['customer_sentiment'][key]:+.2f}" in metrics
    assert "Escalatedyes" in metrics and f"Prompts shown{len(demo.session['prompts'])}" in metrics


def test_report_is_self_contained(demo):
    page = demo.html.lower()
    assert page.startswith("<!doctype html>")
    for external in ("http://", "https://", "src=", "href=", "url(", "@import", "<link", "<script", "<iframe",
                     "<object", "<embed", "<img"):
        assert external not in page, external


def test_device_gaps_and_notices_are_marked_on_the_timeline():
    session = {"duration_s": 60.0, "notices": [
        {"t": 12.5, "level": "warning", "message": "customer audio gap of 1.2 s"},
        {"t": 40.0, "level": "error", "message": "headset disconnected"},
        {"t": None, "level": "warning", "message": "playbook line 3: unknown key"}]}
    page = render_html(session)
    parsed = _Page(page)
    assert parsed.notice_markers == 2, "one per notice that has a time"
    for n in session["notices"]:
        assert n["message"] in parsed.sections["notices"]
    assert "0:12 gap: customer audio gap of 1.2 s" in page


# --------------------------------------------------------------------------- hostile and broken input


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_text_is_escaped_everywhere():
    session = {
        "id": HOSTILE, "started_at": HOSTILE, "duration_s": 20, "source": HOSTILE, "agent": HOSTILE,
        "status": HOSTILE, "problem": HOSTILE, "damaged": True,
        "utterances": [{"speaker": HOSTILE, "start": 1, "end": 2, "text": HOSTILE},
                       {"speaker": "customer", "start": 3, "end": 5, "text": HOSTILE, "sentiment": -0.5}],
        "prompts": [{"t": 2, "kind": HOSTILE, "severity": HOSTILE, "title": HOSTILE, "message": HOSTILE,
                     "phrase": HOSTILE, "tactic": HOSTILE, "because": HOSTILE,
                     "feedback": {"t": 3, "action": HOSTILE}, "cleared": {"t": 4, "reason": HOSTILE}}],
        "metrics": {"escalated": HOSTILE}, "handoff_note": HOSTILE, "follow_up": [HOSTILE],
        "notices": [{"t": 5, "level": HOSTILE, "message": HOSTILE}], "qa": {"note": HOSTILE, "score": 3},
    }
    page = render_html(session)
    tags = _tags(page)
    assert not [t for t in tags if t[0] in ("script", "img") or any(k == "src" or k.startswith("on") for k in t[1])]
    assert page.count("&lt;script&gt;") >= 15
    assert HOSTILE in _visible(page), "shown as text, as it was"
    ET.fromstring(re.search(r"<svg.*?</svg>", page, re.S).group(0))


DAMAGED = [
    pytest.param({}, "", id="empty"),
    pytest.param({"status": "damaged", "damaged": True, "problem": "summary is not valid JSON"}, "Damaged record",
                 id="damaged-marker"),
    pytest.param({"id": "x", "status": "incomplete", "complete": False, "duration_s": None,
                  "utterances": [{"speaker": "customer", "start": 2.0, "text": "my order never came"},
                                 {"text": "no speaker, no time"}],
                  "prompts": [{"kind": "apologize"}, {"t": 3.0}]}, "Incomplete session", id="incomplete-partial"),
    pytest.param({"utterances": "abc", "prompts": [None, 5, {"t": "x", "severity": ["x"]}], "metrics": [],
                  "qa": "x", "started_at": 5, "duration_s": math.nan, "follow_up": "abc", "notices": [{"t": None}],
                  "complete": ["x"], "status": {"x": 1}, "damaged": True}, "Damaged record", id="wrong-types"),
    pytest.param({"prompts": [{"t": 1, "feedback": {"action": ["x"], "t": "y"}, "cleared": {"reason": {}},
                               "severity": {}, "kind": None, "title": None}],
                  "utterances": [{"speaker": "agent", "start": math.inf, "end": -1, "wpm": True,
                                  "sentiment": "bad"}],
                  "metrics": {"customer_sentiment": [1], "agent_wpm": "fast", "escalated": [],
                              "overlaps_by_agent": math.nan}}, "", id="nested-wrong-types"),
    pytest.param([1, 2], "Damaged record", id="not-a-dict"),
    pytest.param({"status": "live", "complete": False, "duration_s": 12.0}, "Call in progress", id="live"),
]


@pytest.mark.parametrize("session, banner", DAMAGED)
def test_damaged_and_partial_sessions_render_with_a_banner(session, banner):
    page = render_html(session)
    if banner:
        assert banner in _visible(page)
    else:
        assert "Damaged record" not in page and "Incomplete session" not in page
    assert "</html>" in page


def _json_values():
    scalars = st.none() | st.booleans() | st.integers(-10, 500) | st.floats(allow_nan=True) | st.text(max_size=8)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["t", "start", "end", "action", "reason", "text", "speaker", "severity", "kind"]),
        inner, max_size=4), max_leaves=10)


_KEYS = ["id", "started_at", "duration_s", "source", "agent", "utterances", "prompts", "metrics", "handoff_note",
         "follow_up", "notices", "status", "complete", "damaged", "problem", "qa"]
_ITEM_KEYS = ["speaker", "start", "end", "text", "sentiment", "wpm", "upset", "t", "kind", "severity", "title",
              "message", "feedback", "cleared", "level"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(top=st.dictionaries(st.sampled_from(_KEYS), _json_values()),
       items=st.lists(st.dictionaries(st.sampled_from(_ITEM_KEYS), _json_values()), max_size=4))
def test_any_session_shape_renders(top, items):
    session = dict(top, utterances=items, prompts=items, notices=items)
    assert render_html(session).endswith("</html>\n")


def test_a_real_incomplete_and_a_real_damaged_session_show_their_banners(tmp_path):
    store = SessionStore(tmp_path / "sessions.db")
    writer = StoreWriter(store, meta={"agent": "sam"})
    writer(Utterance("customer", 1.0, 3.0, "my internet is down", (), 150.0, None))
    writer.close()  # before the call ended: as if the app was closed mid-call
    page = render_html(store.get(writer.id))
    assert "Incomplete session" in _visible(page) and "my internet is down" in page

    finished = StoreWriter(store)
    finished(CallEnded(4.0))
    finished(CallSummary({"escalated": False}, None, ()))
    finished.close()
    store._db.execute("UPDATE summaries SET summary_json = '{broken' WHERE session_id = ?", (finished.id,))
    damaged = store.get(finished.id)
    assert damaged["damaged"] is True
    banner = _Page(render_html(damaged)).sections["header"]
    assert "Damaged record" in banner and "not valid JSON" in banner


# --------------------------------------------------------------------------- files, CLI, redaction


def test_write_report_is_atomic_and_private(demo, tmp_path):
    out = tmp_path / "report.html"
    assert write_report(demo.session, out) == out
    first = out.read_text(encoding="utf-8")
    write_report({"damaged": True}, out)  # replaced whole
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert "Damaged record" in out.read_text(encoding="utf-8") and first != out.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"], "no temporary file left"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcoach", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_cli_writes_a_report_from_a_json_file_and_from_a_store_id(demo, tmp_path):
    raw = tmp_path / "session.json"
    raw.write_text(json.dumps(demo.raw), encoding="utf-8")
    done = _cli("report", str(raw), "--out", str(tmp_path / "from-file.html"))
    assert done.returncode == 0, done.stderr
    assert demo.raw["prompts"][0]["title"] in (tmp_path / "from-file.html").read_text(encoding="utf-8")

    data = Path(os.environ["CALLCOACH_DATA_DIR"])  # this test's own (empty) store folder
    for f in demo.folder.iterdir():
        shutil.copy(f, data / f.name)
    done = _cli("report", demo.id, "--out", str(tmp_path / "from-store.html"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "from-store.html").read_text(encoding="utf-8")
    assert "jordan" in page and demo.session["handoff_note"].splitlines()[0] in page
    assert stat.S_IMODE(os.stat(tmp_path / "from-store.html").st_mode) == 0o600


@pytest.mark.parametrize("make, message", [
    (lambda d: str(d / "missing.json"), "no such session file"),
    (lambda d: "0123456789abcdef", "no session file or stored session '0123456789abcdef'"),
    (lambda d: _write(d / "bad.json", "{not json"), "is not valid JSON"),
    (lambda d: _write(d / "list.json", "[1, 2]"), "is not a CallCoach session"),
])
def test_cli_errors_are_one_line(tmp_path, make, message):
    done = _cli("report", make(tmp_path), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "r.html").exists()


def _write(path: Path, content: str) -> str:
    path.write_text(content, encoding="utf-8")
    return str(path)


def _card_call(writer) -> None:
    card = "my card number is 4539 1488 0343 6467 and it expires soon"
    writer(Utterance("customer", 1.0, 5.0, card, tuple(Word(" " + w, 1.0, 1.2, 0.9) for w in card.split()),
                     150.0, None))
    writer(Prompt(id=1, t=5.0, kind="apologize", severity="warning", title="Apologize", message="Say sorry",
                  phrase="I am sorry", tactic="Own it", because=f'customer said "{card}"', rule="rule", priority=5,
                  sticky=False))
    writer(Notice("warning", f"heard {card}", 6.0))
    writer(CallEnded(8.0))
    writer(CallSummary({"escalated": True}, f"Customer said: {card}", (f"Confirm {card}",)))


def test_a_card_number_that_went_through_the_store_is_not_in_the_report(tmp_path):
    store = SessionStore(tmp_path / "sessions.db")
    writer = StoreWriter(store, meta={"agent": "sam"})  # redaction on, as by default
    _card_call(writer)
    writer.close()
    store.set_qa(writer.id, "customer read out 4539 1488 0343 6467 twice", 2)
    page = render_html(store.get(writer.id))
    assert "expires soon" in page and "[CARD]" in page, "the rest of the words stay"
    assert not planted_card(_visible(page).encode()), "the card number reached the report"
    assert not contains_planted(page, [CARD])

    unredacted = SessionStore(tmp_path / "raw.db")
    writer = StoreWriter(unredacted, redact=False)
    _card_call(writer)
    writer.close()
    assert planted_card(_visible(render_html(unredacted.get(writer.id))).encode()), "the check finds it"


def test_a_session_file_is_redacted_before_it_is_reported(demo, tmp_path):
    raw = json.loads(json.dumps(demo.raw))
    raw["utterances"][1]["text"] = "my card number is 4539 1488 0343 6467"
    raw["handoff_note"] = "card 4539148803436467"
    path = Path(_write(tmp_path / "raw.json", json.dumps(raw)))
    assert not contains_planted(render_html(load_session(str(path), Settings())), [CARD])
    done = _cli("report", str(path), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert not planted_card(_visible(page).encode()) and "[CARD]" in page


def test_prompts_held_back_and_dropped_are_greyed_in_the_report_and_the_review(tmp_path):
    """The coach (scripted events) raises apologize and acknowledge_feelings on one line: the
    first shows, the second waits behind it until its cause has passed. QA sees it greyed,
    with why, in the report and the review window, redacted like everything else."""
    from callcoach.coach.coach import Coach
    from callcoach.engine.events import Activity
    from callcoach.gui.review.session_html import transcript_html
    from tests.test_coach_parts import _drive, _utterance

    store = SessionStore(tmp_path / "sessions.db")
    writer = StoreWriter(store, meta={"agent": "sam"})
    coach = Coach()
    coach.subscribe(writer)
    line = "I have been waiting three weeks for my refund and my card 4539 1488 0343 6467 was charged"
    said = _utterance("customer", 1.0, line)
    _drive(coach, [Activity("customer", 1.0, True), said, Activity("customer", said.end, False)], 40.0)
    writer.close()
    session = store.get(writer.id)
    [withheld] = session["withheld"]
    assert (withheld["kind"], withheld["reason"], withheld["fate"]) == ("acknowledge_feelings", "busy", "cause_passed")
    shown = [p["kind"] for p in session["prompts"]]
    assert shown[0] == "apologize" and "acknowledge_feelings" not in shown, shown

    page = render_html(session)
    card = re.search(r'<div class="prompt withheld".*?</p></div>', page, re.S).group(0)
    visible = " ".join(_Page(card).text)
    assert "not shown" in visible and "Acknowledge how they feel" in visible
    assert "a prompt of equal or higher value was on screen" in visible and "its cause had passed" in visible
    assert 'class="withheld-marker" data-kind="acknowledge_feelings"' in page
    assert "Prompts held back and never shown" in page
    assert "[CARD]" in card and not contains_planted(page, [CARD])

    review, _ = transcript_html(session)
    assert "not shown" in review and "held back: a prompt of equal or higher value was on screen" in review
    assert not contains_planted(review, [CARD])

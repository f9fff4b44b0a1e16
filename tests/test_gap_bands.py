"""Device gaps (the session's `gaps`: that speaker's audio does not exist there) are drawn
where a reviewer looks: a hatched band on the speaker's lane of the HTML report's timeline,
and a hatched grey band over the speaker's panel of the review window's chart, each saying
why on hover."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from callcoach.report import render_html
from callcoach.report.timeline import LEFT, RIGHT, WIDTH

CUSTOMER_GAP = {"speaker": "customer", "start": 12.0, "end": 18.0, "reason": "call audio device unplugged"}
AGENT_GAP = {"speaker": "agent", "start": 40.0, "end": 45.0, "reason": "microphone unplugged"}


def _session(gaps: list[dict]) -> dict:
    utterances = [
        {"speaker": "agent", "start": 1.0, "end": 4.0, "text": "thanks for calling", "wpm": 150},
        {"speaker": "customer", "start": 5.0, "end": 10.0, "text": "my refund never came", "sentiment": -0.4},
        {"speaker": "customer", "start": 20.0, "end": 26.0, "text": "still waiting", "sentiment": -0.3},
        {"speaker": "agent", "start": 30.0, "end": 38.0, "text": "let me check that for you", "wpm": 160},
        {"speaker": "agent", "start": 50.0, "end": 55.0, "text": "it is on its way", "wpm": 170},
    ]
    return {"duration_s": 60.0, "utterances": utterances, "gaps": gaps,
            "notices": [{"t": 18.0, "level": "warning", "message": "customer audio gap of 6.0 s"}]}


def _svg(page: str) -> ET.Element:
    return ET.fromstring(re.search(r"<svg.*?</svg>", page, re.S).group(0))


def _x(t: float, span: float = 60.0) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * t / span


def test_report_timeline_has_a_gap_band_on_the_speakers_lane():
    svg = _svg(render_html(_session([CUSTOMER_GAP, AGENT_GAP])))
    bands = {g.get("data-speaker"): g for g in svg.iter("g") if g.get("class") == "gap-band"}
    assert set(bands) == {"customer", "agent"}
    # The talk lanes: each speaker's utterance bars sit at that speaker's y.
    lane_y = {}
    for rect in svg.iter("rect"):
        x = float(rect.get("x"))
        if rect.get("height") == "10" and abs(x - _x(5.0)) < 0.2:
            lane_y["customer"] = rect.get("y")
        if rect.get("height") == "10" and abs(x - _x(1.0)) < 0.2:
            lane_y["agent"] = rect.get("y")
    for gap in (CUSTOMER_GAP, AGENT_GAP):
        band = bands[gap["speaker"]]
        lane = next(r for r in band.iter("rect") if r.get("class") == "gap-lane")
        assert float(lane.get("x")) == pytest.approx(_x(gap["start"]), abs=0.1)
        assert float(lane.get("width")) == pytest.approx(_x(gap["end"]) - _x(gap["start"]), abs=0.1)
        assert lane.get("y") == lane_y[gap["speaker"]], "on that speaker's lane, not the other's"
        assert band.find("path").get("d").count("M") >= 5, "hatched"
        title = band.find("title").text
        assert gap["reason"] in title and "device gap" in title


def test_report_timeline_without_gaps_draws_none_and_skips_damaged_entries():
    page = render_html(_session([{"speaker": "nobody", "start": 1, "end": 2}, {"speaker": "agent", "start": "x"},
                                 "not a gap"]))
    assert 'class="gap-band"' not in page
    assert 'class="gap-band"' not in render_html(_session([]))


def test_a_gap_after_the_last_word_stretches_the_timeline():
    session = _session([{"speaker": "customer", "start": 55.0, "end": 90.0, "reason": "headset lost"}])
    svg = _svg(render_html(session))
    lane = next(r for r in svg.iter("rect") if r.get("class") == "gap-lane")
    assert float(lane.get("x")) + float(lane.get("width")) == pytest.approx(WIDTH - RIGHT, abs=0.1)
    assert float(lane.get("x")) == pytest.approx(_x(55.0, span=90.0), abs=0.1)


def _difference(a, b, rect) -> float:
    """Mean absolute difference per channel of two images over a rectangle."""
    total, n = 0, 0
    for x in range(int(rect.left()) + 2, int(rect.right()) - 2, 2):
        for y in range(int(rect.top()) + 2, int(rect.bottom()) - 2, 2):
            pa, pb = a.pixelColor(x, y), b.pixelColor(x, y)
            total += abs(pa.red() - pb.red()) + abs(pa.green() - pb.green()) + abs(pa.blue() - pb.blue())
            n += 3
    return total / max(n, 1)


def test_review_chart_draws_the_gap_over_the_speakers_panel(qtbot):
    from callcoach.gui.review.timeline_chart import TimelineChart

    charts = []
    for gaps in ([CUSTOMER_GAP], []):
        chart = TimelineChart()
        qtbot.addWidget(chart)
        chart.resize(700, 240)
        chart.set_session(_session(gaps), (120.0, 190.0))
        charts.append(chart)
    with_gap, without = charts
    assert [g.reason for g in with_gap.gaps] == [CUSTOMER_GAP["reason"]]
    a, b = with_gap.grab().toImage(), without.grab().toImage()
    mood_r, pace_r = with_gap.panels()
    band = with_gap.gap_rect(with_gap.gaps[0])
    assert band.top() == mood_r.top() and band.height() == mood_r.height(), "the customer's panel: mood"
    assert band.left() == pytest.approx(with_gap.x_of(12.0)) and band.right() == pytest.approx(with_gap.x_of(18.0))
    assert _difference(a, b, band) > 8, "the gap's span is drawn over"
    before = band.translated(-band.width() - 10, 0)  # the same panel just before the gap
    assert _difference(a, b, before) < 1, "only the gap's span"
    assert _difference(a, b, pace_r.adjusted(0, 0, 0, 0)) < 1, "not on the agent's panel"
    mark = with_gap.mark_at(band.center().x(), band.center().y())
    assert mark is not None and CUSTOMER_GAP["reason"] in mark.label and "0:12–0:18" in mark.label


def test_review_chart_draws_an_agent_gap_on_the_pace_panel(qtbot):
    from callcoach.gui.review.timeline_chart import TimelineChart

    chart = TimelineChart()
    qtbot.addWidget(chart)
    chart.resize(700, 240)
    chart.set_session(_session([AGENT_GAP]), (120.0, 190.0))
    band = chart.gap_rect(chart.gaps[0])
    assert band.top() == chart.panels()[1].top(), "the agent's panel: pace"
    assert chart.mark_at(band.center().x(), chart.panels()[0].center().y()) is None, "nothing over the mood panel"

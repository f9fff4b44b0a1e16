"""What the coach ran a call with (the pace band, the playbook and its version) is stored with
the session, so the report and the review window draw the band that was really used; sessions
stored before it was recorded still open, on the default band."""

from __future__ import annotations

import pytest

from callcoach.analyze import analyze_call
from callcoach.coach.events import CoachSetup
from callcoach.coach.playbook import builtin_path
from callcoach.engine.events import Utterance
from callcoach.report import render_html
from callcoach.settings import Key, Settings
from callcoach.store import SessionStore, StoreWriter, default_store_path
from tests import callgen
from tests.test_report import _Page


def _band(low: float, high: float) -> None:
    settings = Settings()
    settings.set(Key.PACE_LOW, low)
    settings.set(Key.PACE_HIGH, high)
    settings.save()


@pytest.mark.slow
def test_the_report_draws_the_band_and_names_the_playbook_the_call_was_coached_with(tmp_path):
    _band(100, 150)
    playbook = tmp_path / "team.toml"
    playbook.write_text(builtin_path().read_text().replace("version = 2\n", 'version = "qa-7"\n', 1))
    callgen.render_call(callgen.BILLING_CALL, tmp_path / "call.wav")  # the agent speaks at about 170 wpm
    summary = analyze_call(call=str(tmp_path / "call.wav"), playbook=str(playbook), progress=False, settings=Settings())
    used = {"pace_band": [100.0, 150.0], "playbook": {"source": str(playbook), "version": "qa-7"}, "past_pace": None}
    assert summary["coach"] == used and summary["schema"] == "callcoach.session.v1"

    _band(120, 190)  # the reviewer's settings today are not what the call was coached with
    with SessionStore(default_store_path(Settings())) as store:
        stored = store.get(summary["id"])
    assert stored["coach"] == used
    page = _Page(render_html(stored))
    assert "target pace 100–150 wpm" in page.sections["timeline"]
    assert "(target 100–150)" in page.sections["metrics"]
    assert f"Coached withplaybook {playbook}, version qa-7" in page.sections["metrics"]
    agent_lines = [i for i in page.items if i["type"] == "line" and i["speaker"] == "agent"]
    assert agent_lines and all("off pace" in line["text"] for line in agent_lines), "170 wpm is above 150"


def _old_session() -> dict:
    """A session as CallCoach stored it before the coach's record existed."""
    return {
        "schema": "callcoach.session.v1", "id": "old-one", "started_at": "2025-03-01T09:00:00+00:00",
        "duration_s": 30.0, "source": "old.wav",
        "utterances": [{"speaker": "agent", "start": 1.0, "end": 5.0, "text": "thank you for calling",
                        "sentiment": 0.3, "wpm": 170.0, "latency_s": None, "words": []}],
        "prompts": [], "metrics": {"agent_wpm": 170.0, "escalated": False},
    }


def test_an_old_stored_session_opens_on_the_default_band():
    _band(100, 150)
    with SessionStore(default_store_path(Settings())) as store:
        sid = store.begin({"id": "old-one", "started_at": "2025-03-01T09:00:00+00:00", "agent": "sam"})
        store.finish(sid, _old_session())
        page = _Page(render_html(store.get(sid)))
    assert "target pace 120–190 wpm" in page.sections["timeline"]
    assert "(target 120–190)" in page.sections["metrics"] and "Coached withnot recorded" in page.sections["metrics"]
    line = next(i for i in page.items if i["type"] == "line")
    assert "170 wpm" in line["text"] and "off pace" not in line["text"]


def test_a_call_cut_short_keeps_what_it_was_coached_with():
    """The record is journaled when the call starts: a call the app never finished has it too."""
    with SessionStore(default_store_path(Settings())) as store:
        writer = StoreWriter(store, meta={"agent": "sam"})
        writer(CoachSetup((140.0, 170.0), "built-in", 2, 182.5, 4))
        writer(Utterance("agent", 1.0, 4.0, "thank you for calling how can I help", (), 200.0, None))
        writer.close()  # no CallEnded: the app closed mid-call
        session = store.get(writer.id)
    assert session["complete"] is False
    assert session["coach"] == {"pace_band": [140.0, 170.0], "playbook": {"source": "built-in", "version": 2},
                                "past_pace": {"wpm": 182.5, "calls": 4}}
    metrics = _Page(render_html(session)).sections["metrics"]
    assert "(target 140–170)" in metrics
    assert "built-in playbook, version 2; the agent's usual pace 182 wpm over 4 past calls" in metrics


def test_the_review_window_draws_each_sessions_own_band(qtbot):
    from callcoach.gui.review.detail import SessionDetail

    new = {**_old_session(), "id": "new-one", "coach": {"pace_band": [100.0, 150.0],
                                                        "playbook": {"source": "built-in", "version": 2}}}
    detail = SessionDetail((120.0, 190.0))  # the reviewer's own settings
    qtbot.addWidget(detail)
    detail.show_session(None, new)
    assert detail.chart.band == (100.0, 150.0)
    assert "built-in playbook, version 2" in detail.summary.toPlainText()
    detail.show_session(None, _old_session())
    assert detail.chart.band == (120.0, 190.0)

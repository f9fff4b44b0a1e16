"""The bundled demo call (assets/demo_call.flac, made by tools/make_demo_call.py): what
`callcoach demo` is meant to show must really come out of the live pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from callcoach.analyze import analyze_call
from callcoach.settings import Settings
from tests import callgen

pytestmark = pytest.mark.slow

ASSETS = Path(__file__).resolve().parents[1] / "assets"
CALL = ASSETS / "demo_call.flac"
SCRIPT = ASSETS / "demo_call.json"
CRITICAL = {"escalate", "set_boundary"}


@pytest.fixture(scope="module")
def script() -> dict:
    return json.loads(SCRIPT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def summary() -> dict:
    return analyze_call(call=str(CALL), settings=Settings())


def _kinds(summary: dict) -> list[str]:
    return [p["kind"] for p in summary["prompts"]]


def _timeline(summary: dict) -> list[tuple[float, str]]:
    return [(p["t"], p["kind"]) for p in summary["prompts"]]


def test_demo_file_is_a_small_stereo_16k_flac(script):
    info = sf.info(str(CALL))
    assert (info.format, info.channels, info.samplerate) == ("FLAC", 2, 16000)
    assert 90 <= info.duration <= 135 and info.duration == pytest.approx(script["duration_s"], abs=0.01)
    assert CALL.stat().st_size < 3_000_000


def test_demo_shows_a_variety_of_prompts(summary):
    kinds = set(_kinds(summary))
    assert {"escalate", "update_progress", "positive_language"} <= kinds, _timeline(summary)
    assert len(kinds - {"follow_up"}) >= 5, _timeline(summary)


def test_each_prompt_comes_where_the_script_puts_it(summary, script):
    turns = script["turns"]
    for i, turn in enumerate(turns):
        kind = turn["expect"]
        if not kind:
            continue
        if kind == "update_progress":  # in the hold silence that follows the line
            lo, hi = turn["end"] + 10.0, turns[i + 1]["start"]
        elif kind == "slow_down":  # the agent is fast in two lines: after the first, or this one
            first_fast = next(t for t in turns if t["speaker"] == "agent" and (t["wpm"] or 0) >= 220)
            lo, hi = first_fast["end"] - 0.5, turn["end"] + 2.0
        else:  # as the line ends
            lo, hi = turn["end"] - 0.5, turn["end"] + 2.0
        at = [p["t"] for p in summary["prompts"] if p["kind"] == kind]
        assert any(lo <= t <= hi for t in at), (kind, (lo, hi), _timeline(summary))


def test_prompts_are_spaced_out(summary):
    """The scheduler's budget: non-critical prompts at least 10 s apart, 20 s on average."""
    shown = [p for p in summary["prompts"] if p["kind"] != "follow_up"]
    routine = [p["t"] for p in shown if p["kind"] not in CRITICAL]
    gaps = [b - a for a, b in zip(routine, routine[1:])]
    assert min(gaps) >= 10 and sum(gaps) / len(gaps) >= 20, _timeline(summary)
    assert all(p["because"] for p in shown)


def test_call_is_escalated_with_a_handoff_note(summary):
    assert summary["metrics"]["escalated"] is True
    escalations = [p for p in summary["prompts"] if p["kind"] == "escalate"]
    assert len(escalations) == 1, _timeline(summary)
    first = escalations[0]
    assert first["severity"] == "critical" and "manager" in first["because"]
    assert first["cleared"] and first["cleared"]["reason"] == "acted_on", "the agent said supervisor"
    for note in (first["handoff"], summary["handoff_note"]):
        assert note and "Escalation handoff" in note and "Mood:" in note
        assert "down for three days" in note.lower(), note


def test_follow_up_checklist_comes_at_the_end(summary):
    last = summary["prompts"][-1]
    assert last["kind"] == "follow_up"
    assert last["t"] == pytest.approx(summary["duration_s"], abs=0.1)
    assert _kinds(summary).count("follow_up") == 1
    checklist = summary["follow_up"]
    assert last["checklist"] == checklist
    assert any("supervisor took the escalation" in item for item in checklist), checklist


def test_transcript_matches_the_script(summary, script):
    for speaker in callgen.SPEAKERS:
        reference = " ".join(t["text"] for t in script["turns"] if t["speaker"] == speaker)
        heard = " ".join(u["text"] for u in summary["utterances"] if u["speaker"] == speaker)
        assert callgen.word_error_rate(reference, heard) <= 0.1, (speaker, heard)

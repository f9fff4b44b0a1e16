"""The engine's event stream on a live-paced call: activity, levels, partials, finals."""

from __future__ import annotations

import subprocess
import sys

import pytest

from callcoach.audio.files import FileSource, read_call
from callcoach.engine.engine import Engine
from callcoach.engine.events import Activity, CallEnded, Level, ModelReady, Partial, Utterance, Watermark
from callcoach.pipeline import CallPipeline
from tests import callgen

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live_paced_events(tmp_path_factory):
    turns = [
        callgen.Turn("customer", "I have been waiting three weeks for my refund and nobody has called me "
                                 "back about it, so I would like to know what is going on.", gap_before=0),
        callgen.Turn("agent", "I am sorry about the wait, let me check that for you.", gap_before=0.8),
    ]
    path = tmp_path_factory.mktemp("stream") / "call.wav"
    truth = callgen.render_call(turns, path)
    events: list = []
    engine = Engine(measure_latency=True)
    engine.subscribe(events.append)
    engine.run(FileSource(read_call(str(path)), realtime=True))
    return truth, events, engine


def test_events_cover_the_call(live_paced_events):
    truth, events, _ = live_paced_events
    assert isinstance(events[0], ModelReady)
    assert isinstance(events[-1], CallEnded)
    assert events[-1].duration == pytest.approx(truth.duration, abs=0.2)
    finals = [e for e in events if isinstance(e, Utterance)]
    assert [u.role for u in finals] == ["customer", "agent"]


def test_voice_activity_follows_the_turns(live_paced_events):
    truth, events, _ = live_paced_events
    for turn in truth.turns:
        changes = [e for e in events if isinstance(e, Activity) and e.role == turn.speaker]
        assert [c.speaking for c in changes] == [True, False], changes
        assert changes[0].t == pytest.approx(turn.start, abs=0.3)
        assert changes[1].t == pytest.approx(turn.end, abs=0.4)


def test_levels_show_who_is_talking(live_paced_events):
    truth, events, _ = live_paced_events
    customer_turn = truth.turns[0]
    during = [e for e in events if isinstance(e, Level) and customer_turn.start + 1 < e.t < customer_turn.end - 1]
    loud = {e.role: max(x.rms_db for x in during if x.role == e.role) for e in during}
    assert loud["customer"] > -35 and loud["agent"] < -60, loud


def test_partials_grow_before_the_final(live_paced_events):
    _, events, _ = live_paced_events
    final_at = next(i for i, e in enumerate(events) if isinstance(e, Utterance))
    partials = [e for e in events[:final_at] if isinstance(e, Partial) and e.role == "customer"]
    assert len(partials) >= 3, "a ~9 s turn gets partial text while it is spoken"
    assert len(partials[-1].text) > len(partials[0].text)
    assert "waiting" in partials[-1].text.lower()
    assert all(p.lag_s is not None and p.lag_s < 2.0 for p in partials)


def test_final_text_and_latency(live_paced_events):
    truth, events, engine = live_paced_events
    finals = [e for e in events if isinstance(e, Utterance)]
    for u, turn in zip(finals, truth.turns):
        # tiny.en mishears a phrase of the robotic espeak voice now and then.
        assert callgen.word_error_rate(turn.text, u.text) <= 0.45, u.text
        assert u.words and u.words[0].start >= turn.start - 0.3 and u.words[-1].end <= turn.end + 0.3
        assert 0 < u.latency_s < 2.0
    assert engine.stats["speculative_hits"] >= 1


def test_engine_runs_without_qt(tmp_path):
    """The engine path must work where PySide6 is not installed at all."""
    path = tmp_path / "call.wav"
    callgen.render_call([callgen.Turn("agent", "Thank you for calling.", gap_before=0)], path)
    code = (
        "import sys; sys.modules['PySide6'] = None; sys.modules['shiboken6'] = None\n"
        "from callcoach.cli import main\n"
        f"sys.exit(main(['analyze', {str(path)!r}, '--json', {str(tmp_path / 'o.json')!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "calling" in (tmp_path / "o.json").read_text().lower()


def _assert_watermark_order(events: list) -> None:
    """Nothing the coach orders by time comes stamped before a watermark already sent:
    activity and levels by their time, an utterance by its end."""
    marks = [e.t for e in events if isinstance(e, Watermark)]
    assert marks == sorted(marks) and marks, "watermarks only move forward"
    last = 0.0
    for e in events:
        if isinstance(e, Watermark):
            last = e.t
        elif isinstance(e, Utterance):
            assert last <= e.end, f"watermark {last} passed {e.role} text ending {e.end}"
        elif isinstance(e, (Activity, Level)):
            assert last <= e.t, f"watermark {last} passed {e}"


def test_watermark_keeps_up_with_speech(live_paced_events):
    """While someone talks the watermark follows the audio, a fraction of a second behind,
    instead of waiting at the start of the turn: voice activity is coached as it happens."""
    truth, events, _ = live_paced_events
    turn = truth.turns[0]
    during = [e.t for e in events if isinstance(e, Watermark) and turn.start + 1 < e.t < turn.end - 1]
    assert during and max(during) >= turn.end - 1.5, (turn, during)


def test_watermark_never_passes_undelivered_text(live_paced_events, tmp_path):
    truth, events, _ = live_paced_events
    _assert_watermark_order(events)
    fast: list = []
    engine = Engine()
    engine.subscribe(fast.append)
    engine.run(FileSource(read_call(truth.path), realtime=False))
    _assert_watermark_order(fast)
    assert [e for e in fast if isinstance(e, Watermark)][-1].t == pytest.approx(truth.duration, abs=0.1)


def test_without_a_window_only_the_partials_the_coach_reads_are_transcribed(live_paced_events):
    """`listen` shows no text while it is spoken: the agent's partials would cost CPU for
    nobody; the customer's feed the coach's early critical cues."""
    truth, events, _ = live_paced_events
    assert {e.role for e in events if isinstance(e, Partial)} == {"customer", "agent"}  # as the widget has them
    seen: list = []
    pipeline = CallPipeline(live_text=False)
    pipeline.subscribe(seen.append)
    pipeline.run(FileSource(read_call(truth.path), realtime=True))
    assert {e.role for e in seen if isinstance(e, Partial)} == {"customer"}
    assert [e.role for e in seen if isinstance(e, Utterance)] == ["customer", "agent"]


def test_a_pause_the_speaker_goes_on_from_gives_its_final_text_as_a_partial(tmp_path):
    """At 0.2 s of a pause the utterance so far is sent for final text; when the speaker goes
    on, that text (beam-decoded) is the next partial instead of being thrown away."""
    path = tmp_path / "call.wav"
    callgen.render_call([callgen.Turn("customer", "I would like to know why my bill went up.", gap_before=0),
                         callgen.Turn("customer", "Nobody told me about it before.", gap_before=0.35)], path)
    engine = Engine()
    events: list = []
    engine.subscribe(events.append)
    engine.run(FileSource(read_call(str(path)), realtime=True))
    finals = [e for e in events if isinstance(e, Utterance)]
    assert len(finals) == 1 and engine.stats["speculative_misses"] == 1, (finals, engine.stats)
    from_pause = [e for e in events if isinstance(e, Partial) and e.beam]  # nothing asked for a beam partial
    assert len(from_pause) == 1 and "bill went up" in from_pause[0].text.lower(), from_pause
    assert from_pause[0].start == pytest.approx(finals[0].start, abs=0.15)  # word times move the final's


def test_a_partial_to_confirm_comes_from_the_next_audio(tmp_path):
    """A listener that wants what it heard in a partial confirmed gets the next partial from
    the audio that came meanwhile, not a second of audio later; then the cadence is back."""
    path = tmp_path / "call.wav"
    callgen.render_call([callgen.Turn("customer", "I would like to know why my bill went up this month, and why "
                                                  "nobody told me about it before it happened.", gap_before=0)], path)
    engine = Engine(measure_latency=True)
    partials: list[Partial] = []

    def listen(event) -> None:
        if isinstance(event, Partial):
            partials.append(event)
            if len(partials) == 1:
                engine.confirm_partial("customer")

    engine.subscribe(listen)
    engine.run(FileSource(read_call(str(path)), realtime=True))
    steps = [b.t - a.t for a, b in zip(partials, partials[1:])]
    assert len(steps) >= 2 and steps[0] < 0.5, steps
    # Then one a second again. A pause the customer talked on from may bring one between:
    # its speculative final's text (beam-decoded, transcribed anyway); not counted here.
    cadence = [partials[1]] + [p for p in partials[2:] if not p.beam]
    steps = [b.t - a.t for a, b in zip(cadence, cadence[1:])]
    assert steps and all(step >= 0.95 for step in steps), steps

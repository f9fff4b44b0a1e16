"""The agent's own pace across calls: their typical rate over their recent stored calls is the
pace baseline from the first minute of a new call, read from a real store file."""

from __future__ import annotations

import statistics
import subprocess
import sys

import pytest

from callcoach.analyze import analyze_call
from callcoach.audio.files import FileSource, read_call
from callcoach.coach.events import CoachState
from callcoach.coach.pace import PaceTracker, PastPace
from callcoach.engine.transcriber import Word
from callcoach.pipeline import CallPipeline
from callcoach.settings import Settings
from callcoach.store import SessionStore, StoreWriter, default_store_path
from callcoach.store.agent_pace import AgentHistory
from tests import callgen
from tests.callgen import Turn

A, C = "agent", "customer"

# About 60 agent words at 200 wpm.
PACED_CALL = [
    Turn(A, "Thank you for calling, my name is Sam, how can I help you today?", wpm=200),
    Turn(C, "Hi, I would like to check the balance on my account, please."),
    Turn(A, "Of course, I can see your account here, and your balance is forty two dollars.", wpm=200),
    Turn(C, "Okay, and when is the next payment due?"),
    Turn(A, "The next payment is due on the fifth of next month, and it is taken automatically.", wpm=200),
    Turn(C, "Great, thank you."),
    Turn(A, "You are welcome. Is there anything else I can help you with today?", wpm=200),
    Turn(C, "No, that is all, thanks."),
]


def _call_as_in_the_widget(path, agent: str) -> tuple[dict, list[CoachState]]:
    """The widget's path: a pipeline from the settings, journaled into the store under the
    agent's name; the gauges it would show."""
    pipeline = CallPipeline.from_settings(Settings(), measure_latency=False, source_name="call.wav")
    writer = StoreWriter.attach(pipeline, default_store_path(Settings()), agent=agent)
    states: list[CoachState] = []
    pipeline.subscribe(lambda e: states.append(e) if isinstance(e, CoachState) else None)
    pipeline.load()
    try:
        summary = pipeline.run(FileSource(read_call(str(path)), realtime=False))
    finally:
        writer.close()
    return summary, states


@pytest.mark.slow
def test_the_agents_usual_pace_is_the_baseline_from_the_start_of_their_next_call(tmp_path):
    path = tmp_path / "call.wav"
    callgen.render_call(PACED_CALL, path)
    first = analyze_call(call=str(path), agent_name="X", progress=False, settings=Settings())
    second = analyze_call(call=str(path), agent_name="X", progress=False, settings=Settings())
    assert first["coach"]["past_pace"] is None, "no calls of X stored yet"
    assert second["coach"]["past_pace"] == {"wpm": first["metrics"]["agent_wpm"], "calls": 1}
    rates = [first["metrics"]["agent_wpm"], second["metrics"]["agent_wpm"]]
    assert all(170 <= r <= 240 for r in rates), rates
    usual = round(statistics.median(rates), 1)

    summary, states = _call_as_in_the_widget(path, "X")
    assert summary["coach"]["past_pace"] == {"wpm": usual, "calls": 2}
    assert states[0].t <= 1.0 and states[0].agent_baseline == usual, "known from the first second"
    early = [s for s in states if s.t < 30]  # fewer than 40 words of this call leave the window by then
    assert early and all(s.agent_baseline == usual for s in early)

    other, states = _call_as_in_the_widget(path, "Y")
    assert other["coach"]["past_pace"] is None
    assert all(s.agent_baseline is None for s in states if s.t < 30), "another agent's calls are not theirs"


def test_a_call_stored_without_an_agent_name_is_coached_on_its_own():
    """A recording is anyone's: `analyze` uses a past only for an agent it is told about."""
    _store_call("X", 200.0, 120)
    with SessionStore(default_store_path(Settings())) as store:
        anyone, agent_x = CallPipeline(), CallPipeline()
        StoreWriter.attach(anyone, store).close()  # analyze without --agent-name
        StoreWriter.attach(agent_x, store, agent="X").close()  # analyze --agent-name X, listen, the widget
        assert anyone.history is None
        assert agent_x.history.past_pace() == PastPace(200.0, 1)


@pytest.mark.parametrize("flags, message", [
    (["--agent-name", " "], "--agent-name is empty"),
    (["--agent-name", "X", "--no-store"], "cannot go with --no-store"),
])
def test_agent_name_mistakes_get_one_line(tmp_path, flags, message):
    out = subprocess.run([sys.executable, "-m", "callcoach", "analyze", str(tmp_path / "call.wav"), *flags,
                          "--json", str(tmp_path / "out.json")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def _store_call(agent: str, wpm: float, words: int | None, started: str = "2025-03-01T09:00:00+00:00") -> None:
    metrics = {"agent_wpm": wpm, **({"agent_words": words} if words is not None else {})}
    with SessionStore(default_store_path(Settings())) as store:
        sid = store.begin({"started_at": started, "agent": agent})
        store.finish(sid, {"schema": "callcoach.session.v1", "utterances": [], "prompts": [], "metrics": metrics})


def test_the_median_of_the_last_ten_calls_with_enough_words():
    for day in range(1, 13):  # twelve calls: the two oldest are slow ones that no longer count
        _store_call("X", 120.0 if day <= 2 else 150.0 + day, 200, f"2025-03-{day:02d}T09:00:00+00:00")
    _store_call("X", 320.0, 12, "2025-03-20T09:00:00+00:00")  # "hello? hello?": too few words to count
    _store_call("X", float("nan"), 200, "2025-03-21T09:00:00+00:00")  # a damaged record
    _store_call("Z", 100.0, 300, "2025-03-22T09:00:00+00:00")  # someone else
    past = AgentHistory("X", default_store_path(Settings())).past_pace()
    assert past == PastPace(statistics.median(150.0 + d for d in range(3, 13)), 10)
    assert AgentHistory("nobody", default_store_path(Settings())).past_pace() is None


def test_no_store_file_yet_means_no_past_and_no_file(tmp_path):
    path = tmp_path / "sessions.db"
    assert AgentHistory("X", path).past_pace() is None
    assert not path.exists(), "reading the past does not create a store"


def _words(start: float, n: int, wpm: float) -> tuple[Word, ...]:
    per = 60 / wpm
    return tuple(Word("w", start + i * per, start + (i + 1) * per, 1.0) for i in range(n))


def test_the_calls_own_pace_takes_over_as_the_agent_talks():
    tracker = PaceTracker(past=PastPace(200.0, 5))
    assert tracker.at(0.0).baseline == 200.0, "from the first second"
    tracker.add(_words(0.0, 30, 140.0))
    assert tracker.at(60.0).baseline == 200.0, "30 words of this call are too few to count"
    tracker.add(_words(61.0, 90, 140.0))
    # 120 words at 140 wpm have left the window: they weigh as much as the past.
    assert tracker.at(150.0).baseline == pytest.approx(170.0, abs=0.2)
    assert PaceTracker().at(0.0).baseline is None, "no past: no baseline until the call has one"

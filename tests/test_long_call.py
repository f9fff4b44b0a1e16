"""A long call keeps only bounded state: 20 minutes of call through the real pipeline.

The demo call is replayed back to back (with silence between) on one call clock, in fast
mode, through the real engine, model, coach, session recorder and store writer. What a
call must keep whole (the utterances, for the summary) is checked to be whole; everything
else the coach keeps per utterance or per tick must stay bounded, and no per-utterance
object may be left for the garbage collector to find. The two-hour memory and speed
figures come from `benchmarks/long_call.py`; this is the guard that keeps them.
"""

from __future__ import annotations

import gc

import pytest

from benchmarks.long_call import TiledSource
from callcoach.audio.files import read_call
from callcoach.engine.engine import EngineSettings, _Speculation
from callcoach.engine.events import Watermark
from callcoach.engine.transcriber import Job
from callcoach.paths import asset_path
from callcoach.pipeline import CallPipeline
from callcoach.store import SessionStore, StoreWriter

pytestmark = pytest.mark.slow

MINUTES = 20
# What the coach may keep, however long the call (see CallHistory and Dynamics).
BOUNDS = {"recent": 60, "said": 2, "offers": 4, "promises": 3, "mood_changes": 8}


def _alive(cls) -> int:
    return sum(isinstance(o, cls) for o in gc.get_objects())


def test_twenty_minutes_keep_only_bounded_state(tmp_path):
    channels = read_call(asset_path("demo_call.flac"))
    source = TiledSource(channels, MINUTES * 60, gap_s=40)
    pipeline = CallPipeline(EngineSettings(partials=False), source_name="long call")
    store = SessionStore(tmp_path / "sessions.db")
    writer = StoreWriter.attach(pipeline, store)
    coach = pipeline.coach
    seen = {"heap": 0, "talkovers": 0, **{k: 0 for k in BOUNDS}}

    def sample(event) -> None:  # on the engine's threads, as the call goes
        if isinstance(event, Watermark):
            seen["heap"] = max(seen["heap"], len(coach._heap))
            seen["talkovers"] = max(seen["talkovers"], len(coach.dynamics.talkovers))
            for key, n in coach.history.sizes().items():
                seen[key] = max(seen[key], n)

    pipeline.subscribe(sample)
    pipeline.load()
    gc.collect()
    jobs_before = _alive(Job)
    gc.disable()  # so anything only the garbage collector would free stays visible
    try:
        summary = pipeline.run(source)
        writer.close()
        left_jobs, left_specs = _alive(Job) - jobs_before, _alive(_Speculation)
    finally:
        gc.enable()

    assert source.laps >= 7 and summary["duration_s"] == pytest.approx(MINUTES * 60, abs=1)
    # Kept whole: every utterance, in the summary and in the store.
    assert len(summary["utterances"]) == pipeline.engine.stats["finals"] >= 7 * 12
    assert len(store.get(writer.id)["utterances"]) == len(summary["utterances"])
    # Kept bounded, all call long.
    for key, limit in BOUNDS.items():
        assert seen[key] <= limit, (key, seen)
    assert seen["mood_changes"] == BOUNDS["mood_changes"], "the call has more mood changes than are kept"
    assert seen["talkovers"] <= 200 and 0 < seen["heap"] <= 5000, seen
    assert len(coach._heap) == 0, "every held event was analysed by the end"
    # No audio-holding job left behind in a reference cycle (a speculative final's job and
    # its _Speculation kept each other, and 15 s of audio, alive until a full collection).
    assert left_jobs <= 2 and left_specs <= 2, (left_jobs, left_specs)
    # The figures the summary needs are there, and the handoff note stays short.
    sentiment = summary["metrics"]["customer_sentiment"]
    assert None not in (sentiment["start"], sentiment["end"], sentiment["min"])
    assert sentiment["min"] <= sentiment["end"]
    note = summary["handoff_note"]
    assert note and len(note) < 1500, note
    mood_line = next(line for line in note.splitlines() if line.startswith("Mood: "))
    assert " -> ... -> " in mood_line and "lowest" in mood_line, mood_line
    store.close()

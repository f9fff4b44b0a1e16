"""A live call on a machine whose cores are kept busy by other processes.

The call is played into a private PulseAudio server's test devices and runs through the
real pipeline (the sound system's live source, engine, coach, session store). For about 20 s in the middle, busy-loop
processes (two per core) take the CPU. Latency may grow then; the test holds that it comes
back when the load ends, that the queues stay within their bounds, and that no audio is
lost unsaid: every jump of a channel's clock is reported, the dropped blocks are counted
in the session and the store, and each channel's clock ends at the wall-clock length of
the call (so nothing went missing without the clock saying so).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time

import pytest

from callcoach.audio.block import SAMPLE_RATE, AudioBlock, AudioDropped, DeviceBack, DeviceLost
from callcoach.engine.engine import EngineSettings
from callcoach.engine.events import Activity, Level, Notice, Utterance
from callcoach.pipeline import CallPipeline
from callcoach.store import SessionStore, StoreWriter
from tests import callgen as cg
from tests.callgen import AGENT as A
from tests.callgen import CUSTOMER as C
from tests.callgen import Turn
from tests.test_live_engine import PLAN, Recorder, open_source, play_channels, wait_players

pytestmark = [pytest.mark.pulse, pytest.mark.slow]

SCRIPT = [
    Turn(A, "Thank you for calling, this is Sam. How can I help you today?"),
    Turn(C, "Hi, I was charged twice for my phone bill this month.", gap_before=1.0),
    Turn(A, "I am sorry to hear that. Let me pull up your account.", gap_before=1.0),
    Turn(C, "Sure, the account is under my name, Maria Lopez.", gap_before=1.0),
    Turn(A, "Thank you Maria. I can see two payments on the third of the month.", gap_before=1.0),
    Turn(C, "Yes, that is what I saw on my bank statement too.", gap_before=1.0),
    Turn(A, "The second payment was a mistake on our side, I will refund it now.", gap_before=1.0),
    Turn(C, "How long will the refund take to show up?", gap_before=1.0),
    Turn(A, "It usually takes three to five working days to reach your bank.", gap_before=1.0),
    Turn(C, "Okay, and will this happen again next month?", gap_before=1.0),
    Turn(A, "No, I have fixed the payment schedule so it only runs once.", gap_before=1.0),
    Turn(C, "Great, thank you for sorting that out so quickly.", gap_before=1.0),
    Turn(A, "You are welcome. Is there anything else I can help you with?", gap_before=1.0),
    Turn(C, "No, that was everything. Have a nice day.", gap_before=1.0),
]
LOAD_FROM_S, LOAD_UNTIL_S = 8.0, 28.0  # seconds into the played call
RECOVERY_S = 3.0  # utterances ending this long after the load are back to normal
DEVICE_START_TIMEOUT = 30
SETTLE_TIMEOUT = 90


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    folder = tmp_path_factory.mktemp("starved_call")
    truth = cg.render_call(SCRIPT, folder / "call.wav", trailing_silence=1.5)
    return truth, cg.split_for_sinks(truth.path, folder)


class AuditedSource:
    """Passes a live source's stream on, checking that each channel's clock only ever jumps
    where the source says why (dropped audio, a device gap)."""

    def __init__(self, source):
        self.source = source
        self.next: dict[str, int] = {}  # each role's next sample if nothing is missing
        self.unexplained: list[str] = []
        self.reported_blocks = {A: 0, C: 0}

    def stop(self) -> None:
        self.source.stop()

    def blocks(self):
        return self.source.blocks()

    def stream(self):
        for item in self.source.stream():
            if isinstance(item, AudioBlock):
                expected = self.next.get(item.role, item.start)
                if item.start != expected:
                    self.unexplained.append(f"{item.role} clock {expected} -> {item.start}")
                self.next[item.role] = item.end
            elif isinstance(item, AudioDropped):
                self.next[item.role] = self.next.get(item.role, 0) + round(item.seconds * SAMPLE_RATE)
                self.reported_blocks[item.role] += item.blocks
            elif isinstance(item, DeviceBack):
                self.next[item.role] = round(item.t * SAMPLE_RATE)
            elif isinstance(item, DeviceLost):
                pass
            yield item


class Load:
    """Busy-loop processes, two per core: every core stays busy."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        for _ in range(2 * (os.cpu_count() or 2)):
            self.procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))

    def stop(self) -> None:
        for p in self.procs:
            p.kill()
            p.wait()
        self.procs = []


def test_a_call_on_a_starved_cpu_recovers_and_loses_no_audio_unsaid(pulse_server, call, tmp_path):
    truth, paths = call
    pipeline = CallPipeline(EngineSettings(), measure_latency=True, source_name="live")
    pipeline.load()
    recorder = Recorder()
    pipeline.subscribe(recorder)
    store = SessionStore(tmp_path / "sessions.db")
    writer = StoreWriter.attach(pipeline, store, agent="sam")
    source = AuditedSource(open_source(PLAN))
    result: dict = {}

    def run():
        try:
            result["summary"] = pipeline.run(source)
        except BaseException as exc:  # reported on the test thread
            result["error"] = exc
        finally:
            recorder.close()

    thread = threading.Thread(target=run, name="starved-call", daemon=True)
    load = Load()
    backlog_seen = []
    try:
        thread.start()
        assert recorder.wait_for(lambda r: all(r.of(Level, role) and source.source.delivering(role)
                                               for role in (A, C)), DEVICE_START_TIMEOUT), \
            "the devices did not deliver audio"
        played_at = time.monotonic()
        players = play_channels(paths)

        def heard(seconds):  # the engine has taken in both channels up to this point of the call
            return lambda r: all((r.heard_until(role) or 0) >= played_at + seconds for role in (A, C))

        assert recorder.wait_for(heard(LOAD_FROM_S), 60)
        load_started = time.monotonic()
        load.start()
        while not recorder.wait_for(heard(LOAD_UNTIL_S), 0.5):  # sample the backlog meanwhile
            backlog_seen.append(pipeline.engine.backlog[0])
            assert time.monotonic() - load_started < 90, "the engine stopped taking in audio"
        load.stop()
        load_ended = time.monotonic()
        wait_players(players, truth.duration + 60)

        def settled(r):
            closed = {role: sum(1 for e in r.of(Activity, role) if not e.speaking) for role in (A, C)}
            return heard(truth.duration)(r) and all(len(r.of(Utterance, role)) >= closed[role] for role in (A, C))

        assert recorder.wait_for(settled, SETTLE_TIMEOUT), "the engine did not catch up after the load"
        stopped_at = time.monotonic()
        source.stop()
        thread.join(60)
        assert not thread.is_alive(), "the call did not end after stop()"
        writer.close()
    finally:
        load.stop()
        source.stop()
        writer.close()
    assert "error" not in result, result.get("error")
    summary = result["summary"]
    stored = store.get(writer.id)
    store.close()

    utterances = recorder.of(Utterance)
    origin = source.source.started_at

    def wall(t):  # call time -> time.monotonic()
        return origin + t

    before = [u for u in utterances if wall(u.end) < load_started]
    during = [u for u in utterances if load_started <= wall(u.end) <= load_ended]
    after = [u for u in utterances if wall(u.end) > load_ended + RECOVERY_S]
    lat = {name: [u.latency_s for u in group] for name, group in
           (("before", before), ("during", during), ("after", after))}
    print(f"latency before/during/after the load: {lat}; backlog samples {backlog_seen}; "
          f"engine {summary['engine']}; capture {source.source.stats()}")  # shown with -s
    assert before and during and after, lat
    assert all(x is not None for xs in lat.values() for x in xs)

    # Latency may grow under load, but it comes back when the load ends.
    normal = statistics.median(lat["before"])
    assert statistics.median(lat["after"]) < max(2 * normal, normal + 0.5), lat
    assert max(lat["after"]) < 2.0, lat

    # Queues stay within their bounds.
    engine_settings = pipeline.engine.settings
    assert summary["engine"]["max_backlog"] <= engine_settings.max_backlog
    stats = source.source.stats()
    assert stats["max_queued"] <= stats["queue_capacity"]

    # No audio lost unsaid: every clock jump was reported, dropped blocks are in the session
    # and in the store, and each channel's clock reached the wall-clock end of the call.
    assert not source.unexplained, source.unexplained
    dropped = source.source.dropped_by_role()
    assert source.reported_blocks == dropped
    for session in (summary, stored):
        assert session["metrics"]["dropped_blocks"] == dropped, session["metrics"]
        if sum(dropped.values()):
            assert [n for n in session["notices"] if n.get("kind") == "audio_dropped"]
    for role in (A, C):
        behind = (stopped_at - origin) - source.next[role] / SAMPLE_RATE
        assert -0.2 < behind < 1.0, f"the {role} clock ends {behind:.2f} s before the wall clock"
    assert not [n for n in recorder.of(Notice) if n.kind in ("device_lost", "audio_gap")], \
        "a busy machine is not a lost device"

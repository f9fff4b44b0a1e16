"""End to end on live devices: speech played into a private sound server's Test Microphone
(through its feed sink) and Test Headset (what the agent hears), captured by the sound
system's source, transcribed by the real Engine (tests/sound_servers.py has the servers).

Each channel of a generated call is played into its own sink by its own `paplay`, both
at once, so the engine hears two live devices exactly as in a call.

Event times are on the call clock, which both roles share; an idle null sink's monitor
takes ~1.5 s to deliver its first audio, which must not shift that role's clock (see
test_simultaneous_sounds_get_the_same_time_on_both_roles). To compare the two channels
with the script, the tests place each role's clock on the wall clock, from when its Level
events arrive.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from callcoach.audio.block import SAMPLE_RATE, AudioDropped
from callcoach.audio.devices import CapturePlan
from callcoach.audio.pulse.source import PulseSource
from callcoach.audio.system import sound_system
from callcoach.engine.engine import Engine, EngineSettings
from callcoach.engine.events import Activity, CallEnded, Level, Notice, Partial, Utterance
from tests import callgen as cg
from tests.sound_servers import TEST_HEADSET, TEST_MIC_FEED

pytestmark = pytest.mark.pulse

A, C = cg.AGENT, cg.CUSTOMER
GAP_S = 1.0  # silence between turns
SCRIPT = [
    cg.Turn(A, "Thank you for calling customer support, this is Sam. How can I help you today?", wpm=170),
    cg.Turn(C, "Hi Sam. I just got my bill, and it looks like I was charged twice for the same month.",
            gap_before=GAP_S, wpm=175),
    cg.Turn(A, "I am so sorry about that. Let me check your account right now.", gap_before=GAP_S, wpm=170),
]
# Words each speaker must be heard saying.
KEY_PHRASES = {A: ["customer support", "sorry", "check"], C: ["charged twice", "bill"]}

MAX_WER = 0.35  # per speaker; the live path adds resampling and level changes
MAX_TURN_WER = 0.5  # per turn: a few words of a short turn may be misheard
MAX_LATENCY_S = 3.0
# Slack when comparing times with the script: the VAD's 32 ms chunks and hysteresis, word
# timestamps, PulseAudio buffering, the clock placement from Level arrival times.
TIME_SLACK_S = 0.4

DEVICE_START_TIMEOUT = 30  # an idle null sink's monitor takes ~1.5 s
SINKS = {A: TEST_MIC_FEED, C: TEST_HEADSET}  # what is played into each is what that role hears
PLAN = CapturePlan("Test Microphone", call_device="Test Headset")
SETTLE_TIMEOUT = 60  # from the end of playback to the last final text (2 slow cores)


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    """The script rendered once (~19 s); each channel in its own wav, for its own sink."""
    folder = tmp_path_factory.mktemp("live_call")
    truth = cg.render_call(SCRIPT, folder / "call.wav", trailing_silence=1.5)
    return truth, cg.split_for_sinks(truth.path, folder)


class Recorder:
    """Engine listener: keeps every event with its arrival time; lets the test wait on them.

    Called on the engine's intake and worker threads, so it only records, under a lock.
    """

    def __init__(self):
        self._cond = threading.Condition()  # re-entrant: predicates may call the accessors
        self._events: list[tuple[float, object]] = []  # (time.monotonic() on arrival, event)
        self._origin: dict[str, float] = {}
        self._heard_t: dict[str, float] = {}
        self.closed = False  # the engine thread ended

    def __call__(self, event: object) -> None:
        now = time.monotonic()
        with self._cond:
            self._events.append((now, event))
            if isinstance(event, Level):
                # A Level arrives a little after the audio it measures was captured: arrival
                # - t is the clock's start plus a delay, so the smallest value is the best
                # estimate of when the clock started.
                origin = now - event.t
                self._origin[event.role] = min(origin, self._origin.get(event.role, origin))
                self._heard_t[event.role] = event.t
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until predicate(self) holds (checked on every event); False on timeout or
        when the engine stopped first."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or predicate(self), timeout)
            return predicate(self)

    def of(self, kind, role: str | None = None) -> list:
        with self._cond:
            return [e for _, e in self._events if isinstance(e, kind) and (role is None or e.role == role)]

    def clock_origin(self, role: str) -> float | None:
        """Wall time (time.monotonic) at which `role`'s audio clock was 0."""
        with self._cond:
            return self._origin.get(role)

    def heard_until(self, role: str) -> float | None:
        """Wall time up to which the engine has taken in `role`'s audio."""
        with self._cond:
            return self._origin[role] + self._heard_t[role] if role in self._origin else None

    def idle(self, role: str) -> bool:
        changes = self.of(Activity, role)
        return not changes or not changes[-1].speaking

    def describe(self) -> str:
        """The speech events in arrival order, for failure messages."""
        lines = []
        for e in self.of((Utterance, Activity, Notice)):
            if isinstance(e, Utterance):
                lines.append(f"  Utterance {e.role:8} {e.start:6.2f}-{e.end:6.2f} "
                             f"latency={e.latency_s} {e.text!r}")
            elif isinstance(e, Activity):
                lines.append(f"  Activity  {e.role:8} {e.t:6.2f} speaking={e.speaking}")
            else:
                lines.append(f"  Notice    {e.level}: {e.message}")
        origins = {role: self.clock_origin(role) for role in (A, C)}
        if None not in origins.values():
            lines.append(f"  (customer clock started {origins[C] - origins[A]:+.2f} s after the agent's)")
        return "\n".join(lines) or "  (no speech events)"


class LiveCall:
    """The live source on the test devices + a real Engine running it on a background thread."""

    def __init__(self, plan: CapturePlan):
        self.engine = Engine(EngineSettings(), measure_latency=True)
        self.engine.load()  # slow; here so a load error fails the test directly
        self.recorder = Recorder()
        self.engine.subscribe(self.recorder)
        self.source = open_source(plan)
        self.roles = [A, C]
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-engine", daemon=True)

    def _run(self) -> None:
        try:
            self.engine.run(self.source)
        except BaseException as exc:  # reported by the test thread
            self.error = exc
        finally:
            self.recorder.close()

    def start(self) -> None:
        """Run the engine; returns once every device delivers audio to it: an idle null sink's
        monitor starts ~1.5 s late, and a sound played before would arrive late (a real
        output the agent listens to is running already)."""
        self._thread.start()
        flowing = self.recorder.wait_for(
            lambda r: all(r.of(Level, role) and self.source.delivering(role) for role in self.roles),
            DEVICE_START_TIMEOUT)
        assert self.error is None, f"engine failed while starting: {self.error!r}"
        heard = {role: len(self.recorder.of(Level, role)) for role in self.roles}
        assert flowing, f"not every device delivered audio within {DEVICE_START_TIMEOUT} s: {heard}"

    def wait_settled(self, played_until: float) -> bool:
        """Wait until the engine has taken in every role's audio up to wall time
        `played_until`, nobody is speaking, and each closed utterance has its final text."""

        def settled(r: Recorder) -> bool:
            for role in self.roles:
                heard = r.heard_until(role)
                if heard is None or heard < played_until or not r.idle(role):
                    return False
                closed = sum(1 for e in r.of(Activity, role) if not e.speaking)
                if len(r.of(Utterance, role)) < closed:
                    return False
            return True

        return self.recorder.wait_for(settled, SETTLE_TIMEOUT)

    def stop(self) -> None:
        """Stop the devices; the engine finishes the call and run() returns."""
        self.close()
        assert not self._thread.is_alive(), "engine.run() did not return within 30 s of source.stop()"
        assert self.error is None, f"engine.run() raised {self.error!r}"

    def close(self) -> None:
        self.source.stop()  # idempotent
        if self._thread.ident is not None:
            self._thread.join(30)


def open_source(plan: CapturePlan):
    system = sound_system()
    try:
        return system.open(plan)
    finally:
        system.close()


@pytest.fixture
def live_call(sound_server):
    session = LiveCall(PLAN)
    try:
        yield session
    finally:
        session.close()  # also when the test failed half way


def play(sink: str, path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(["paplay", f"--device={sink}", *options, str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def play_channels(paths: dict) -> dict[str, subprocess.Popen]:
    """Start one paplay per role, into that role's sink, at once (PULSE_SERVER names the
    test's server)."""
    return {role: play(SINKS[role], path) for role, path in paths.items()}


def wait_players(players: dict[str, subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for role, p in players.items():
        try:
            _, err = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for q in players.values():
                q.kill()
                q.communicate()
            pytest.fail(f"paplay of the {role} channel did not finish within {timeout:.0f} s")
        assert p.returncode == 0, f"paplay of the {role} channel failed: {err.strip()}"


def has_phrase(text: str, phrase: str) -> bool:
    words, wanted = cg.normalize_text(text), cg.normalize_text(phrase)
    n = len(wanted)
    return any(words[i : i + n] == wanted for i in range(len(words) - n + 1))


# --- tests ---------------------------------------------------------------------------------


@pytest.mark.slow  # a whole call played in real time: 20-30 s
def test_live_call_is_transcribed_per_speaker_in_order(live_call, call):
    truth, paths = call
    rec = live_call.recorder
    live_call.start()

    played_at = time.monotonic()
    players = play_channels(paths)
    wait_players(players, truth.duration + 30)
    settled = live_call.wait_settled(played_until=time.monotonic())
    live_call.stop()

    events = rec.describe()
    assert settled, f"no final text for the last utterance within {SETTLE_TIMEOUT} s:\n{events}"
    errors = [n for n in rec.of(Notice) if n.level == "error"]
    assert not errors, f"error notices: {errors}\n{events}"
    assert rec.of(CallEnded), "no CallEnded after stop()"
    assert not rec.of(AudioDropped), f"audio dropped: {rec.of(AudioDropped)}"

    utterances = {role: rec.of(Utterance, role) for role in (A, C)}
    for role in (A, C):
        assert utterances[role], f"no utterance from the {role}:\n{events}"

    # What each speaker said is that speaker's script (and nothing of the other side).
    for role in (A, C):
        heard = " ".join(u.text for u in utterances[role])
        wer = cg.word_error_rate(truth.transcript(role), heard)
        assert wer <= MAX_WER, (f"{role} WER {wer:.2f} > {MAX_WER}\n  script: {truth.transcript(role)!r}\n"
                                f"  heard:  {heard!r}\n{events}")
        for phrase in KEY_PHRASES[role]:
            assert has_phrase(heard, phrase), f"the {role} never said {phrase!r}; heard {heard!r}"

    # Latency: measured for every utterance, and fit for live use.
    for u in utterances[A] + utterances[C]:
        assert u.latency_s is not None, f"no latency measured for {u}"
        assert 0 <= u.latency_s < MAX_LATENCY_S, f"latency {u.latency_s:.2f} s for {u.text!r}\n{events}"

    # Times on each device's own clock: in order, no overlaps.
    for role in (A, C):
        spans = [(u.start, u.end) for u in utterances[role]]
        assert all(s < e for s, e in spans), f"{role} utterance ends before it starts: {spans}"
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), f"{role} utterances out of order: {spans}"

    # Both clocks on the wall clock: every utterance lies on a turn of its own speaker,
    # each turn was heard, and the turns come in the script's order, with its gaps.
    origins = {role: rec.clock_origin(role) for role in (A, C)}

    def script_time(role, t):  # device time -> seconds into the played script
        return origins[role] + t - played_at

    by_turn: dict[int, list[Utterance]] = {i: [] for i in range(len(truth.turns))}
    for role in (A, C):
        for u in utterances[role]:
            start, end = script_time(role, u.start), script_time(role, u.end)
            overlaps = [min(end, t.end) - max(start, t.start) for t in truth.turns]
            i = int(np.argmax(overlaps))
            assert overlaps[i] > 0 and truth.turns[i].speaker == role, (
                f"{role} utterance {u.text!r} at {start:.2f}-{end:.2f} s into the script is not "
                f"during any {role} turn: {[(t.speaker, t.start, t.end) for t in truth.turns]}\n{events}")
            by_turn[i].append(u)
    print(f"customer clock started {origins[C] - origins[A]:+.2f} s after the agent's; latencies "
          f"{[u.latency_s for u in utterances[A] + utterances[C]]}")  # shown with -s or on failure
    delays = []
    for i, turn in enumerate(truth.turns):
        heard = " ".join(u.text for u in by_turn[i])
        assert by_turn[i], f"nothing heard during turn {i} ({turn.speaker}: {turn.text!r})\n{events}"
        wer = cg.word_error_rate(turn.text, heard)
        assert wer <= MAX_TURN_WER, f"turn {i} WER {wer:.2f}: script {turn.text!r}, heard {heard!r}"
        delays.append(script_time(turn.speaker, by_turn[i][0].start) - turn.start)
        print(f"turn {i} {turn.speaker}: delay {delays[-1]:+.2f} s, WER {wer:.2f}, heard {heard!r}")
    # One playback delay for all turns of both channels (PulseAudio and capture latency).
    assert max(delays) - min(delays) < 2 * TIME_SLACK_S, f"turn start delays vary: {delays}\n{events}"
    assert -0.5 < statistics.median(delays) < 1.5, f"turns heard {delays} s after they were played"
    for i in range(1, len(truth.turns)):
        before, after = truth.turns[i - 1], truth.turns[i]
        gap = (script_time(after.speaker, by_turn[i][0].start)
               - script_time(before.speaker, by_turn[i - 1][-1].end))
        assert abs(gap - (after.start - before.end)) < 2 * TIME_SLACK_S, (
            f"the gap before turn {i} ({after.speaker}) is {gap:.2f} s, the script's "
            f"{after.start - before.end:.2f} s\n{events}")


@pytest.mark.slow  # a whole call played in real time: 20-30 s
def test_silent_agent_mic_produces_nothing_while_customer_talks(live_call, call):
    truth, paths = call
    rec = live_call.recorder
    live_call.start()

    wait_players(play_channels({C: paths[C]}), truth.duration + 30)
    settled = live_call.wait_settled(played_until=time.monotonic())
    live_call.stop()

    events = rec.describe()
    assert settled, f"the engine did not settle within {SETTLE_TIMEOUT} s:\n{events}"
    errors = [n for n in rec.of(Notice) if n.level == "error"]
    assert not errors, f"error notices: {errors}\n{events}"
    # The customer side is heard (else silence on the agent side would prove nothing)...
    heard = " ".join(u.text for u in rec.of(Utterance, C))
    assert has_phrase(heard, "charged twice"), f"customer not transcribed: {heard!r}\n{events}"
    # ...and none of it reaches the agent: no text, no voice activity, no signal.
    assert not rec.of(Utterance, A), f"utterances from the silent agent mic:\n{events}"
    assert not rec.of(Partial, A), f"partials from the silent agent mic: {rec.of(Partial, A)}"
    assert not [e for e in rec.of(Activity, A) if e.speaking], f"voice activity on the agent mic:\n{events}"
    agent_db = [e.rms_db for e in rec.of(Level, A)]
    assert agent_db and max(agent_db) < -60, f"the silent agent mic has signal: up to {max(agent_db)} dB"


# --- a device slow to start ------------------------------------------------------------------


def _tone(path, seconds=0.5, rate=44100):
    t = np.arange(int(rate * seconds)) / rate
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    tone = np.concatenate([tone, np.zeros(int(rate * 0.5), np.float32)])
    sf.write(path, np.stack([tone, tone], axis=1), rate)
    return path


def _onset(x: np.ndarray, threshold=0.05, frame=160) -> float | None:
    frames = x[: len(x) // frame * frame].reshape(-1, frame)
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > threshold)
    return loud[0] * frame / SAMPLE_RATE if len(loud) else None


# Longer than the ~1.5 s an idle null sink adds to its monitor's start, so the customer
# device always starts well after the agent's.
SLOW_START_S = 3.0


def test_simultaneous_sounds_get_the_same_time_on_both_roles(sound_server, tmp_path, monkeypatch):
    """A tone played into both devices at once must get (nearly) the same time on both roles'
    clocks, even when one device is slow to start (a Bluetooth headset; an idle null sink,
    whose monitor delivers its first audio ~1.5 s late)."""
    record = PulseSource._record

    def slow_for_the_customer(self, device, on_audio, on_ended):
        if device.name == "Test Headset":
            time.sleep(SLOW_START_S)  # the device itself is slow: nothing to wait for
        return record(self, device, on_audio, on_ended)

    monkeypatch.setattr(PulseSource, "_record", slow_for_the_customer)
    source = open_source(PLAN)
    blocks = []
    consumer = threading.Thread(target=lambda: blocks.extend(source.blocks()), daemon=True)
    consumer.start()
    try:
        deadline = time.monotonic() + DEVICE_START_TIMEOUT
        while not (source.delivering(A) and source.delivering(C)) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the devices' start, bounded
        assert source.delivering(A) and source.delivering(C), "no audio from a device"
        tone = _tone(tmp_path / "tone.wav")
        wait_players(play_channels({A: tone, C: tone}), 20)
    finally:
        source.stop()
        consumer.join(10)

    onsets = {role: _onset(np.concatenate([b.samples for b in blocks if b.role == role])) for role in (A, C)}
    assert None not in onsets.values(), f"tone not heard on every role: {onsets}"
    assert abs(onsets[A] - onsets[C]) < 0.15, (
        f"the same tone is at {onsets[A]:.2f} s on the agent's clock, {onsets[C]:.2f} s on the customer's")

"""End to end on live devices: speech played into the PulseAudio virtual sinks, captured
by LiveSource, transcribed by the real Engine (see .ci/pulse-setup.sh for the devices).

Each channel of a generated call is played into its own sink by its own `paplay`, both
at once, so the engine hears two live devices exactly as in a call. Times in the events
are on each device's own audio clock; the two clocks start a little apart (each device
starts on its own), so the tests estimate where each clock started on the wall clock
(from the Level events) to compare the two channels with the script.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from callcoach.audio.live import LiveSource
from callcoach.engine.engine import Engine, EngineSettings
from callcoach.engine.events import Activity, CallEnded, Level, Notice, Partial, Utterance
from tests import callgen as cg
from tests.conftest import VIRTUAL_SINKS

pytestmark = pytest.mark.pulse

A, C = cg.AGENT, cg.CUSTOMER
SCRIPT = [
    cg.Turn(A, "Thank you for calling customer support, this is Sam. How can I help you today?", wpm=170),
    cg.Turn(C, "Hi Sam. I just got my bill, and it looks like I was charged twice for the same month.",
            gap_before=1.0, wpm=175),
    cg.Turn(A, "I am so sorry about that. Let me check your account right now.", gap_before=1.0, wpm=170),
]
# Words each speaker must be heard saying (normalized, as callgen.normalize_text makes them).
KEY_PHRASES = {A: ["customer support", "sorry", "check"], C: ["charged twice", "bill"]}

MAX_SPEAKER_WER = 0.35
MAX_LATENCY_S = 3.0
# How far apart the two devices' audio clocks may start; also the slack for the VAD's
# 32 ms chunk grid and PulseAudio's buffering when comparing times across channels.
CLOCK_SKEW_S = 0.4

DEVICE_START_TIMEOUT = 30  # the ALSA pulse plugin can take a second or two per device
SETTLE_TIMEOUT = 60  # from the end of playback to the last final text (2 slow cores)


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    """The script rendered once; each channel written to its own wav for its own sink.

    Stereo with the channel duplicated: a mono file played into a (stereo) null sink
    arrives at half amplitude on its monitor, which is not what a real device delivers.
    """
    folder = tmp_path_factory.mktemp("live_call")
    truth = cg.render_call(SCRIPT, folder / "call.wav", trailing_silence=1.5)
    stereo, sr = sf.read(truth.path, dtype="float32")
    paths = {}
    for role, column in ((A, 0), (C, 1)):
        paths[role] = folder / f"{role}.wav"
        cg.write_channels(paths[role], stereo[:, column], stereo[:, column], sr)
    return truth, paths


class Recorder:
    """Engine listener: keeps every event with its arrival time; lets the test wait on them.

    Called on the engine's intake and worker threads, so it only appends under a lock.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._events: list[tuple[float, object]] = []  # (time.monotonic() on arrival, event)
        self.closed = False  # the engine thread ended

    def __call__(self, event: object) -> None:
        with self._cond:
            self._events.append((time.monotonic(), event))
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until predicate(self) holds (checked on every event); False on timeout or
        when the engine stopped first."""
        with self._cond:
            self._cond.wait_for(lambda: predicate(self) or self.closed, timeout)
            return predicate(self)

    def timed(self, kind=object) -> list[tuple[float, object]]:
        with self._cond:
            return [(t, e) for t, e in self._events if isinstance(e, kind)]

    def of(self, kind, role: str | None = None) -> list:
        return [e for _, e in self.timed(kind) if role is None or e.role == role]

    def clock_origin(self, role: str) -> float | None:
        """Wall time (monotonic) at which `role`'s audio clock was 0.

        Each Level event arrives a little after the audio it measures was captured, so
        arrival - t is the clock origin plus a delay; the smallest value is the best estimate.
        """
        offsets = [t - e.t for t, e in self.timed(Level) if e.role == role]
        return min(offsets) if offsets else None

    def heard_until(self, role: str) -> float | None:
        """Wall time up to which the engine has processed `role`'s audio."""
        origin, levels = self.clock_origin(role), self.of(Level, role)
        return origin + levels[-1].t if levels else None

    def idle(self, role: str) -> bool:
        changes = self.of(Activity, role)
        return not changes or not changes[-1].speaking

    def describe(self) -> str:
        """Speech events in arrival order, for failure messages."""
        lines = []
        for t, e in self.timed():
            if isinstance(e, Utterance):
                lines.append(f"  Utterance {e.role:8} {e.start:6.2f}-{e.end:6.2f} "
                             f"latency={e.latency_s} {e.text!r}")
            elif isinstance(e, Activity):
                lines.append(f"  Activity  {e.role:8} {e.t:6.2f} speaking={e.speaking}")
            elif isinstance(e, Notice):
                lines.append(f"  Notice    {e.level}: {e.message}")
        return "\n".join(lines) or "  (no speech events)"


class LiveCall:
    """LiveSource on the virtual devices + a real Engine running it on a background thread."""

    def __init__(self, devices: dict[str, str]):
        self.engine = Engine(EngineSettings(), measure_latency=True)
        self.engine.load()  # slow; done here so a load error fails loudly, not on the thread
        self.recorder = Recorder()
        self.engine.subscribe(self.recorder)
        self.source = LiveSource(devices)
        self.roles = list(devices)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-engine", daemon=True)

    def _run(self) -> None:
        try:
            self.engine.run(self.source)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            self.error = exc
        finally:
            self.recorder.close()

    def start(self) -> None:
        """Run the engine; returns once every device delivers audio to it (a sound played
        before that would be partly lost)."""
        self._thread.start()
        flowing = self.recorder.wait_for(
            lambda r: all(r.of(Level, role) for role in self.roles), DEVICE_START_TIMEOUT)
        assert self.error is None, f"engine failed while starting: {self.error!r}"
        heard = {role: len(self.recorder.of(Level, role)) for role in self.roles}
        assert flowing, f"not every device delivered audio within {DEVICE_START_TIMEOUT} s: {heard}"

    def wait_settled(self, played_until: float) -> bool:
        """Wait until the engine has processed every role's audio up to wall time
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
        self.source.stop()
        self._thread.join(30)
        assert not self._thread.is_alive(), "engine.run() did not return after source.stop()"
        assert self.error is None, f"engine.run() raised {self.error!r}"


@pytest.fixture
def live_call(pulse_devices):
    session = LiveCall(pulse_devices)
    try:
        yield session
    finally:
        if session._thread.is_alive() or not session._thread.ident:
            session.source.stop()
            session._thread.join(30) if session._thread.ident else None


def play(role: str, path, pulse_devices) -> subprocess.Popen:
    sink = VIRTUAL_SINKS[pulse_devices[role]]
    return subprocess.Popen(["paplay", f"--device={sink}", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_players(players: dict[str, subprocess.Popen], timeout: float) -> None:
    for role, p in players.items():
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            pytest.fail(f"paplay of the {role} channel did not finish within {timeout:.0f} s")
        assert p.returncode == 0, f"paplay of the {role} channel failed: {err.strip()}"


def has_phrase(text: str, phrase: str) -> bool:
    words, wanted = cg.normalize_text(text), cg.normalize_text(phrase)
    n = len(wanted)
    return any(words[i : i + n] == wanted for i in range(len(words) - n + 1))


def nearest_turn(utt: Utterance, turns: list[cg.TurnTruth], origin: float, base: float):
    """The turn of `turns` whose span (placed at wall time `base`) overlaps `utt` the most;
    `origin` puts the utterance's device clock on the wall clock."""
    start, end = origin + utt.start - base, origin + utt.end - base

    def overlap(turn):
        return min(end, turn.end) - max(start, turn.start)

    return max(turns, key=overlap)


# --- tests ---------------------------------------------------------------------------------


def test_live_call_is_transcribed_per_speaker_in_order(live_call, call, pulse_devices):
    truth, paths = call
    rec = live_call.recorder
    live_call.start()

    played_at = time.monotonic()
    players = {role: play(role, paths[role], pulse_devices) for role in (A, C)}
    wait_players(players, truth.duration + 30)
    played_until = time.monotonic()
    settled = live_call.wait_settled(played_until)
    live_call.stop()

    events = rec.describe()
    assert settled, f"the engine did not deliver the last utterance within {SETTLE_TIMEOUT} s:\n{events}"
    errors = [n for n in rec.of(Notice) if n.level == "error"]
    assert not errors, f"error notices: {errors}\n{events}"
    assert rec.of(CallEnded), "no CallEnded after stop()"
    assert live_call.source.dropped_blocks == 0, f"{live_call.source.dropped_blocks} device blocks dropped"

    utterances = {role: rec.of(Utterance, role) for role in (A, C)}
    for role in (A, C):
        assert utterances[role], f"no utterance from the {role}:\n{events}"

    # Each speaker's text is that speaker's script (so also: nothing of the other side in it).
    for role in (A, C):
        heard = " ".join(u.text for u in utterances[role])
        wer = cg.word_error_rate(truth.transcript(role), heard)
        assert wer <= MAX_SPEAKER_WER, (
            f"{role} WER {wer:.2f} > {MAX_SPEAKER_WER}\n  script: {truth.transcript(role)!r}\n"
            f"  heard:  {heard!r}\n{events}")
        for phrase in KEY_PHRASES[role]:
            assert has_phrase(heard, phrase), f"{role} never said {phrase!r}; heard {heard!r}"

    # Latency: set on every utterance, and live-worthy.
    for u in utterances[A] + utterances[C]:
        assert u.latency_s is not None, f"no latency measured for {u}"
        assert 0 <= u.latency_s < MAX_LATENCY_S, f"latency {u.latency_s:.2f} s for {u.text!r}\n{events}"

    # Times: ordered per channel, and interleaved as in the script.
    for role in (A, C):
        spans = [(u.start, u.end) for u in utterances[role]]
        assert all(s < e for s, e in spans), f"{role} utterance ends before it starts: {spans}"
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), f"{role} utterances overlap/out of order: {spans}"
    greeting, first_customer = utterances[A][0], utterances[C][0]
    # Raw device clocks: they may start up to CLOCK_SKEW_S apart, and the script leaves a
    # 1 s gap between turns, so the order must still show.
    assert first_customer.start > greeting.end - CLOCK_SKEW_S, (
        f"customer starts at {first_customer.start:.2f} s before the agent's greeting ends "
        f"({greeting.end:.2f} s)\n{events}")
    last_agent = utterances[A][-1]
    assert last_agent.start > utterances[C][-1].end - CLOCK_SKEW_S, f"agent's reply out of order\n{events}"

    # Both clocks on the wall clock: each turn is found where the script put it, with one
    # common playback delay for every utterance of both channels.
    origins = {role: rec.clock_origin(role) for role in (A, C)}
    skew = origins[C] - origins[A]
    assert abs(skew) < 2.0, f"device clocks start {skew:.2f} s apart"
    delays, matched = [], {}
    for role in (A, C):
        for u in utterances[role]:
            turn = nearest_turn(u, truth.turns, origins[role], played_at)
            assert turn.speaker == role, (
                f"{role} utterance {u.text!r} lines up with the {turn.speaker}'s turn {turn.text!r}\n{events}")
            matched.setdefault(id(turn), []).append(u)
            if matched[id(turn)][0] is u:
                delays.append((origins[role] + u.start - played_at) - turn.start)
    assert len(matched) == len(truth.turns), f"turns without an utterance\n{events}"
    spread = max(delays) - min(delays)
    typical = statistics.median(delays)
    assert spread < 2 * CLOCK_SKEW_S, f"turn start delays vary by {spread:.2f} s: {delays}\n{events}"
    assert -0.5 < typical < 1.5, f"utterances start {typical:.2f} s after the script says\n{events}"
    print(f"\nclock skew {skew:+.3f} s, turn delays {[round(d, 3) for d in delays]}, latencies "
          f"{[u.latency_s for u in utterances[A] + utterances[C]]}")
    print(events)


def test_silent_agent_mic_produces_nothing_while_customer_talks(live_call, call, pulse_devices):
    truth, paths = call
    rec = live_call.recorder
    live_call.start()

    players = {C: play(C, paths[C], pulse_devices)}
    wait_players(players, truth.duration + 30)
    settled = live_call.wait_settled(time.monotonic())
    live_call.stop()

    events = rec.describe()
    assert settled, f"the engine did not settle within {SETTLE_TIMEOUT} s:\n{events}"
    errors = [n for n in rec.of(Notice) if n.level == "error"]
    assert not errors, f"error notices: {errors}\n{events}"

    # The customer side works (else the silence on the agent side would prove nothing)...
    heard = " ".join(u.text for u in rec.of(Utterance, C))
    assert has_phrase(heard, "charged twice"), f"customer not transcribed: {heard!r}\n{events}"
    # ...and nothing of it leaks to the agent: no text, no voice activity, no level.
    assert not rec.of(Utterance, A), f"agent utterances from a silent mic:\n{events}"
    assert not rec.of(Partial, A), f"agent partials from a silent mic: {rec.of(Partial, A)}"
    assert not [e for e in rec.of(Activity, A) if e.speaking], f"agent voice activity:\n{events}"
    agent_levels = [e.rms_db for e in rec.of(Level, A)]
    assert agent_levels and max(agent_levels) < -60, (
        f"the silent agent device has signal: up to {max(agent_levels, default=None)} dB")

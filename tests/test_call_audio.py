"""The customer is what the agent hears: call audio captured from an output, on real private
PulseAudio and PipeWire servers with a clean HOME (no ~/.asoundrc, no cookie).

Each server has a "Test Headset" (a null sink: what is played into it is what the agent
hears) and a "Test Microphone" (a real source, remapped from the "mic feed" sink, so it is an
input and not a monitor), both the defaults. Every test runs on both servers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from callcoach.audio.block import AudioBlock, DeviceBack, DeviceLost
from callcoach.audio.devices import CapturePlan
from callcoach.audio.system import sound_system
from callcoach.engine.events import Utterance
from callcoach.pipeline import CallPipeline
from callcoach.settings import Settings
from tests import callgen as cg
from tests.listen_harness import Listen
from tests.sound_servers import TEST_HEADSET, TEST_MIC_FEED

pytestmark = pytest.mark.pulse
A, C = cg.AGENT, cg.CUSTOMER

SCRIPT = [
    cg.Turn(A, "Thank you for calling, this is Sam. How can I help you today?", wpm=170),
    cg.Turn(C, "Hi Sam. My internet has been down since Monday and nobody has called me back.", gap_before=1.0,
            wpm=175),
    cg.Turn(A, "I am sorry about that. Let me check the line to your house right now.", gap_before=1.0, wpm=170),
    cg.Turn(C, "Thank you. I work from home, so I really need it fixed today.", gap_before=1.0, wpm=175),
]
MAX_WER = 0.35  # per speaker, as in the other live tests

# The agent goes on talking after the headset is unplugged; none of it may become the customer.
UNPLUG_SCRIPT = [
    cg.Turn(C, "Hello, my package never arrived and I would like to know where it is.", wpm=175),
    cg.Turn(A, "I understand, let me look into that for you. I can see your order was shipped on Monday. "
               "The tracking shows it is waiting at the local depot. It should be delivered on Thursday "
               "afternoon. I will also send you an email with the tracking link.", gap_before=1.0, wpm=170),
]


def _render(script, folder):
    truth = cg.render_call(script, folder / "call.wav", trailing_silence=1.0)
    return truth, cg.split_for_sinks(truth.path, folder)


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    return _render(SCRIPT, tmp_path_factory.mktemp("call_audio"))


@pytest.fixture(scope="module")
def unplug_call(tmp_path_factory):
    return _render(UNPLUG_SCRIPT, tmp_path_factory.mktemp("unplug"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcoach", *args], capture_output=True, text=True, timeout=60)


def _words(text: str) -> set[str]:
    return set(cg.normalize_text(text))


# --- what the desktop can hear ---------------------------------------------------------------


def test_devices_lists_the_headset_microphone_as_input_and_the_headset_as_output(sound_server):
    result = _cli("devices", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    inputs = {d["name"]: d for d in listed["inputs"]}
    outputs = {d["name"]: d for d in listed["outputs"]}
    assert inputs["Test Microphone"]["default"] and outputs["Test Headset"]["default"]
    assert not any(name.startswith("Monitor of") for name in inputs), "an output's monitor listed as an input"
    assert set(inputs) == {"Test Microphone"}
    assert all(set(d) == {"id", "name", "default"} for d in listed["inputs"] + listed["outputs"])


def test_devices_text_names_the_sound_system(sound_server):
    result = _cli("devices")
    assert result.returncode == 0, result.stderr
    expected = "PipeWire" if sound_server.kind == "pipewire" else "PulseAudio"
    assert result.stdout.splitlines()[0].startswith(f"Sound system: {expected} ")
    assert "  * Test Microphone" in result.stdout and "  * Test Headset" in result.stdout


def test_listen_names_the_devices_there_are_when_one_is_missing(sound_server):
    result = _cli("listen", "--call-output", "Jabra Evolve2 65", "--seconds", "1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "callcoach: error: no output named 'Jabra Evolve2 65'; the outputs here: Test Headset, Test Microphone feed"]


def test_no_sound_server_is_one_line_not_a_hang(monkeypatch, tmp_path):
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/nothing-here")
    started = time.monotonic()
    result = _cli("listen", "--seconds", "1")
    assert time.monotonic() - started < 30
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "what plays on an output cannot be captured" in result.stderr


# --- a call through listen -----------------------------------------------------------------------


@pytest.mark.slow  # a whole call played in real time: 20-30 s
def test_listen_transcribes_each_side_of_a_call_on_its_own_channel(sound_server, call, tmp_path):
    truth, wavs = call
    out = tmp_path / "session.json"
    listen = Listen("--mic", "Test Microphone", "--call-output", "Test Headset", "--json", str(out))
    try:
        listen.ready()
        players = [sound_server.play(wavs[A], TEST_MIC_FEED), sound_server.play(wavs[C], TEST_HEADSET)]
        for player in players:
            player.wait(60)
        heard_all = listen.wait_for(lambda lines: sum(line.event.get("type") == "utterance" for line in lines) >= 4,
                                    60)
    finally:
        status = listen.stop()
    assert status == 0, listen.stderr
    said = {role: " ".join(line.event["text"] for line in listen.of("utterance", role)) for role in (A, C)}
    assert heard_all, f"not every turn was heard: {said}"
    for role in (A, C):
        wer = cg.word_error_rate(truth.transcript(role), said[role])
        assert wer <= MAX_WER, f"{role}: WER {wer:.2f}\nheard: {said[role]}\nsaid:  {truth.transcript(role)}"
    assert "internet" not in _words(said[A]) and "sorry" not in _words(said[C]), said
    session = json.loads(out.read_text())
    assert session["schema"] == "callcoach.session.v1"
    turns = [u["speaker"] for u in session["utterances"]]
    assert [s for i, s in enumerate(turns) if i == 0 or turns[i - 1] != s] == [A, C, A, C]  # a turn may split


def test_listen_for_some_seconds_saves_and_stores_the_session(sound_server, tmp_path, fresh_settings):
    from callcoach.store import SessionStore, default_store_path

    (fresh_settings / "settings.json").write_text(json.dumps({"agent_name": "Sam Agent"}))
    out = tmp_path / "session.json"
    result = _cli("listen", "--seconds", "3", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "listening: microphone Test Microphone; call audio: what plays on Test Headset" in result.stderr
    session = json.loads(out.read_text())
    assert 2.5 < session["duration_s"] < 4.5 and session["utterances"] == []
    with SessionStore(default_store_path(Settings())) as store:
        stored = store.list_sessions()
    assert [(s["id"], s["agent"], s["source"]) for s in stored] == [(session["id"], "Sam Agent", "live")]


# --- an unplugged headset, and a silent one ------------------------------------------------------


class InProcessCall:
    """The pipeline on the live devices, on a thread, every event kept with its arrival time."""

    def __init__(self, plan: CapturePlan):
        self.pipeline = CallPipeline.from_settings(Settings(), source_name="test")
        self.events: list[tuple[float, object]] = []
        self._cond = threading.Condition()
        self.pipeline.subscribe(self._keep)
        self.pipeline.load()
        system = sound_system()
        try:
            self.source = system.open(plan)
        finally:
            system.close()
        self.source = _Tap(self.source, self._keep)
        self.thread = threading.Thread(target=self.pipeline.run, args=(self.source,), daemon=True)

    def _keep(self, event) -> None:
        with self._cond:
            self.events.append((time.monotonic(), event))
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.of), timeout)

    def of(self, kind, role: str | None = None) -> list[tuple[float, object]]:
        return [(at, e) for at, e in list(self.events) if isinstance(e, kind) and (role is None or e.role == role)]

    def start(self) -> None:
        self.source.start()
        self.thread.start()

    def stop(self) -> None:
        self.source.stop()
        self.thread.join(60)


class _Tap:
    """Passes a source's stream on and tells `keep` about device events as they pass."""

    def __init__(self, source, keep):
        self._source, self._keep = source, keep

    def start(self) -> None:
        self._source.start()

    def stop(self) -> None:
        self._source.stop()

    def stream(self):
        for item in self._source.stream():
            if isinstance(item, (DeviceLost, DeviceBack)) or (isinstance(item, AudioBlock) and item.role == C):
                self._keep(item)
            yield item


@pytest.mark.slow  # a whole call played in real time: 20-30 s
def test_an_unplugged_headset_never_turns_the_customer_into_the_microphone(sound_server, unplug_call, tmp_path):
    """The microphone is the default source and goes on carrying speech after the headset is
    unloaded mid-call: a stream that the server moved would hear it. Ours must report the
    loss within 1 s, and no word of the agent may reach the customer channel."""
    truth, wavs = unplug_call
    agent_turn = truth.for_speaker(A)[0]
    live = InProcessCall(CapturePlan("Test Microphone", call_device="Test Headset"))
    # The hazard is real on this server: a plain recording of the headset's monitor (parec
    # does not ask for DONT_MOVE) is moved to the default source when the sink goes away.
    control = sound_server.record(f"{TEST_HEADSET}.monitor")
    control_audio: list[bytes] = []
    control_reader = threading.Thread(target=lambda: control_audio.extend(iter(lambda: control.stdout.read(3200), b"")),
                                      daemon=True)
    control_reader.start()
    live.start()
    try:
        assert live.wait_for(lambda of: of(AudioBlock, C), 30), "the call audio never started"
        started = time.monotonic()
        players = [sound_server.play(wavs[A], TEST_MIC_FEED), sound_server.play(wavs[C], TEST_HEADSET)]
        # Unplug once the customer is done and the agent has started talking.
        unplug_at = started + agent_turn.start + 1.0
        live.wait_for(lambda of: time.monotonic() >= unplug_at, agent_turn.start + 5)
        control_before = len(control_audio)
        sound_server.unload(sound_server.headset_module)
        unplugged = time.monotonic()
        assert live.wait_for(lambda of: of(DeviceLost, C), 5), "no DeviceLost after the headset was unloaded"
        players[0].wait(60)
        assert live.wait_for(lambda of: len(of(Utterance, A)) >= 1 and not _agent_open(of), 60)
    finally:
        live.stop()
        control.terminate()
        control_reader.join(5)
    lost_at, lost = live.of(DeviceLost, C)[0]
    assert lost_at - unplugged <= 1.0, f"DeviceLost came {lost_at - unplugged:.2f} s after the unplug"
    customer_after = [e for at, e in live.of(Utterance, C) if e.end > lost.t]
    customer_blocks_after = [e for at, e in live.of(AudioBlock, C) if at > lost_at + 0.2 and e.samples.any()]
    assert not customer_after, f"words on the customer channel after the unplug: {customer_after}"
    assert not customer_blocks_after, "sound on the customer channel after the unplug"
    agent_words = _words(" ".join(e.text for _, e in live.of(Utterance, A)))
    assert {"tracking", "thursday", "link"} <= agent_words, agent_words  # the agent was heard all along
    moved = np.frombuffer(b"".join(control_audio[control_before:]), np.int16).astype(np.float32) / 32768
    assert moved.size and np.sqrt(np.mean(moved ** 2)) > 0.01, \
        "control: a plain monitor recording was not moved to the microphone, so this test proves nothing here"


def _agent_open(of) -> bool:
    from callcoach.engine.events import Activity

    changes = of(Activity, A)
    return bool(changes) and changes[-1][1].speaking


@pytest.mark.slow  # a whole call played in real time: 20-30 s
def test_a_silent_output_is_not_a_lost_device_and_holds_nobody_back(sound_server, call):
    """Nothing plays on the headset for the whole call: no loss, and the agent's words still
    come through the whole pipeline (the watermark passes them)."""
    _, wavs = call
    live = InProcessCall(CapturePlan("Test Microphone", call_device="Test Headset"))
    live.start()
    try:
        sound_server.play(wavs[A], TEST_MIC_FEED).wait(60)
        assert live.wait_for(lambda of: len(of(Utterance, A)) >= 2, 60), "the agent's words did not come through"
    finally:
        live.stop()
    assert not live.of(DeviceLost), live.of(DeviceLost)
    blocks = [e for _, e in live.of(AudioBlock, C)]
    assert blocks and blocks[-1].end / 16000 > 8, "the silent call audio's clock did not move on"


def test_a_suspended_output_is_silence_not_loss_and_its_audio_lands_on_time(sound_server, tmp_path):
    """A suspended sink's monitor sends nothing at all (PulseAudio; PipeWire keeps sending
    silence): no loss, the call clock goes on, and what plays after the resume is placed
    when it was played."""
    live = InProcessCall(CapturePlan("Test Microphone", call_device="Test Headset"))
    live.start()
    try:
        assert live.wait_for(lambda of: live.source._source.delivering(C), 30)
        sound_server.pactl("suspend-sink", TEST_HEADSET, "1")
        suspended = time.monotonic()
        live.wait_for(lambda of: time.monotonic() > suspended + 3, 4)
        sound_server.pactl("suspend-sink", TEST_HEADSET, "0")
        tone = tmp_path / "tone.wav"
        cg.write_channels(tone, *(2 * [0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)]), 16000)
        played = time.monotonic() - live.source._source.started_at
        sound_server.play(tone, TEST_HEADSET).wait(30)
        assert live.wait_for(lambda of: any(np.abs(b.samples).max() > 0.1 for _, b in of(AudioBlock, C)), 10)
    finally:
        live.stop()
    assert not live.of(DeviceLost), live.of(DeviceLost)
    blocks = [b for _, b in live.of(AudioBlock, C)]
    assert all(b.start == a.end for a, b in zip(blocks, blocks[1:])), "the call clock jumped"
    onset = next(b.start + int(np.argmax(np.abs(b.samples) > 0.1)) for b in blocks if np.abs(b.samples).max() > 0.1)
    assert abs(onset / 16000 - played) < 0.3, f"played at {played:.2f} s of the call, placed at {onset / 16000:.2f} s"


def test_a_headset_that_comes_back_is_heard_again(sound_server, tmp_path):
    live = InProcessCall(CapturePlan("Test Microphone", call_device="Test Headset"))
    live.start()
    try:
        assert live.wait_for(lambda of: of(AudioBlock, C), 30)
        sound_server.unload(sound_server.headset_module)
        assert live.wait_for(lambda of: of(DeviceLost, C), 5)
        sound_server.headset_module = sound_server.add_headset()
        assert live.wait_for(lambda of: of(DeviceBack, C), 15), "the headset was not reopened"
        tone = tmp_path / "tone.wav"
        cg.write_channels(tone, *(2 * [0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)]), 16000)
        back_at = live.of(DeviceBack, C)[0][0]
        sound_server.play(tone, TEST_HEADSET).wait(30)
        assert live.wait_for(lambda of: any(at > back_at and np.abs(b.samples).max() > 0.1
                                            for at, b in of(AudioBlock, C)), 10), "nothing heard after the return"
    finally:
        live.stop()


def test_following_the_default_output_when_the_agent_switches_headsets(sound_server, tmp_path):
    """With no output chosen, the call audio is the default output's, and follows it."""
    second = sound_server.add_headset("usb_headset", "USB Headset")
    live = InProcessCall(CapturePlan())
    live.start()
    try:
        assert live.wait_for(lambda of: of(AudioBlock, C), 30)
        sound_server.set_default_sink("usb_headset")
        tone = tmp_path / "tone.wav"
        cg.write_channels(tone, *(2 * [0.3 * np.sin(2 * np.pi * 440 * np.arange(32000) / 16000)]), 16000)
        switched = time.monotonic()
        # The watchdog looks twice a second; play once it has had the time to move.
        live.wait_for(lambda of: time.monotonic() > switched + 1.5, 3)
        sound_server.play(tone, "usb_headset").wait(30)
        heard = live.wait_for(lambda of: any(np.abs(b.samples).max() > 0.1 for _, b in of(AudioBlock, C)), 10)
    finally:
        live.stop()
        sound_server.unload(second)
    assert heard, "a sound on the new default output was not heard"
    assert not live.of(DeviceLost), "switching the default output is not a lost device"


# --- doctor ---------------------------------------------------------------------------------------


def test_doctor_tone_is_heard_on_the_call_channel_and_not_by_the_microphone(sound_server):
    result = _cli("doctor", "--tone", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["devices"]["status"] == "ok", checks["devices"]
    assert checks["tone"]["status"] == "ok", checks["tone"]
    assert checks["tone"]["details"]["call_db"] > -30 and checks["tone"]["details"]["mic_db"] < -60


def test_doctor_tone_warns_when_the_microphone_hears_the_output(sound_server, fresh_settings):
    """Speakers: the call plays where the microphone hears it (here: into the mic's feed)."""
    (fresh_settings / "settings.json").write_text(json.dumps({"call_output": "Test Microphone feed"}))
    result = _cli("doctor", "--tone", "--json")
    tone = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "tone")
    assert tone["status"] == "warn" and "speakers or an open headset" in tone["message"], tone

"""Device loss, return and dropped audio.

First on scripted PortAudio devices (a fake `sounddevice`, so the watchdog, the clock and
the accounting are exact and fast), then for real: a private PulseAudio server's Test
Microphone unloaded mid-call and loaded again, through the widget's sound system, the
engine and the session store.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from callcoach.audio import live
from callcoach.audio.block import SAMPLE_RATE, AudioBlock, AudioDropped, DeviceBack, DeviceLost
from callcoach.audio.live import LiveSource
from tests import callgen as cg
from tests.callgen import AGENT, CUSTOMER, Turn
from tests.sound_servers import TEST_HEADSET, TEST_MIC_FEED, TEST_MICROPHONE
from tests.widget_helpers import no_leftover_threads, shut_down  # noqa: F401 (fixture)

A, C = "agent", "customer"


# --- scripted devices ------------------------------------------------------------------------


class Flags(SimpleNamespace):
    """sounddevice.CallbackFlags: true when any flag is set."""

    def __bool__(self):
        return self.input_overflow


class FakeStream:
    def __init__(self, sd, device, samplerate, channels, dtype, blocksize, callback, finished_callback=None):
        self.sd, self.device, self.rate, self.blocksize = sd, device, samplerate, blocksize
        self.callback, self.finished_callback = callback, finished_callback
        self.started = self.closed = False
        self.adc = 1000.0  # the device's ADC clock
        sd.streams.append(self)

    @property
    def name(self):
        return self.sd.names[self.device]

    def start(self):
        self.started = True

    def close(self):
        if not self.closed:
            self.closed = True
            if self.finished_callback:
                self.finished_callback()

    def deliver(self, n=1, overflow_s=0.0, value=0.1, skip_s=0.0):
        """n blocks, as PortAudio's callback thread would; the first after `overflow_s` of
        audio the device lost (flagged), or after its clock skipped `skip_s` (unflagged)."""
        for i in range(n):
            status = Flags(input_overflow=bool(overflow_s) and i == 0)
            if status.input_overflow:
                self.adc += overflow_s
            if i == 0:
                self.adc += skip_s
            data = np.full((self.blocksize, 1), value, np.float32)
            self.callback(data, self.blocksize, SimpleNamespace(inputBufferAdcTime=self.adc), status)
            self.adc += self.blocksize / self.rate


class FakeSoundDevice:
    """Enough of sounddevice for LiveSource: devices by name, streams that the test drives.

    `present` is what is plugged in now; PortAudio's list (`listed`) is only refreshed by
    _terminate/_initialize, like the real one."""

    def __init__(self, names=("headset", "line in")):
        self.names = list(names)
        self.present = set(names)
        self.listed = set(names)
        self.streams: list[FakeStream] = []
        self.restarts = 0

    def query_devices(self):
        return [{"name": n, "index": i, "max_input_channels": 1, "default_samplerate": 16000.0}
                for i, n in enumerate(self.names) if n in self.listed]

    def InputStream(self, device, **kw):
        if self.names[device] not in self.present or self.names[device] not in self.listed:
            raise RuntimeError("Error opening InputStream: Unanticipated host error")
        return FakeStream(self, device, **kw)

    def _terminate(self):
        assert all(s.closed for s in self.streams), "PortAudio restarted under an open stream"
        self.listed = set()

    def _initialize(self):
        self.restarts += 1
        self.listed = set(self.present)

    def open_streams(self, name):
        return [s for s in self.streams if s.name == name and not s.closed]


@pytest.fixture
def fake_sd(monkeypatch):
    sd = FakeSoundDevice()
    monkeypatch.setattr(live, "_sounddevice", lambda: sd)
    monkeypatch.setattr(live, "_fresh_portaudio_can_open", lambda name: False)
    return sd


def wait_for(condition, timeout=5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class Consumer:
    """Takes a LiveSource's stream() on a thread, like the engine."""

    def __init__(self, source):
        self.source = source
        self.items = []
        self._cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for item in self.source.stream():
            with self._cond:
                self.items.append(item)
                self._cond.notify_all()

    def wait(self, predicate, timeout=5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.items), timeout)

    def of(self, kind, role=None):
        with self._cond:
            return [i for i in self.items if isinstance(i, kind) and (role is None or i.role == role)]

    def stop(self):
        self.source.stop()
        self.thread.join(5)
        assert not self.thread.is_alive()


class Talker:
    """Keeps a device delivering a block every 50 ms, whichever stream is open on it."""

    def __init__(self, sd, name):
        self.sd, self.name = sd, name
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.wait(0.05):
            for stream in self.sd.open_streams(self.name):
                if stream.started:
                    stream.deliver(1)

    def stop(self):
        self._stop.set()
        self.thread.join(5)


def drain(source):
    source.stop()
    return list(source.stream())


def clock_of(items, role):
    blocks = [i for i in items if isinstance(i, AudioBlock) and i.role == role]
    return blocks


def test_input_overflow_moves_the_clock_by_the_adc_jump_and_is_reported(fake_sd):
    source = LiveSource({A: "headset"})
    source.start()
    stream = fake_sd.streams[0]
    stream.deliver(2)
    stream.deliver(3, overflow_s=0.2)  # the device lost 0.2 s before the third block
    items = drain(source)

    drops = [i for i in items if isinstance(i, AudioDropped)]
    assert len(drops) == 1, items
    assert drops[0].t == pytest.approx(0.1, abs=0.001)
    assert drops[0].seconds == pytest.approx(0.2, abs=0.001)
    assert drops[0].blocks == 0 and "overflow" in drops[0].reason
    blocks = [i for i in items if isinstance(i, AudioBlock)]
    after = [b for b in blocks if b.start >= round(0.3 * SAMPLE_RATE)]
    assert after and after[0].start == round(0.3 * SAMPLE_RATE), [(b.start, b.end) for b in blocks]
    assert blocks[-1].end >= round(0.45 * SAMPLE_RATE)
    assert source.stats()["roles"][A]["overflow_frames"] == round(0.2 * 16000)


def test_blocks_dropped_on_a_full_queue_are_counted_and_reported_where_they_were(fake_sd):
    source = LiveSource({A: "headset"}, queue_blocks=2)
    source.start()
    stream = fake_sd.streams[0]
    items = source.stream()
    stream.deliver(5)  # 2 queued, 3 dropped
    got = [next(items), next(items)]
    stream.deliver(1)
    got += [next(items), next(items)]
    source.stop()
    got += list(items)

    drops = [i for i in got if isinstance(i, AudioDropped)]
    assert [(d.t, d.seconds, d.blocks) for d in drops] == [(0.1, 0.15, 3)], got
    assert "queue" in drops[0].reason
    assert source.dropped_blocks == 3 == sum(d.blocks for d in drops)


def test_drops_at_the_end_of_the_call_are_reported_too(fake_sd):
    source = LiveSource({A: "headset"}, queue_blocks=1)
    source.start()
    fake_sd.streams[0].deliver(4)
    items = drain(source)
    assert sum(i.blocks for i in items if isinstance(i, AudioDropped)) == 3 == source.dropped_blocks


def test_dropped_blocks_and_device_gaps_reach_the_session_and_the_store(fake_sd, tmp_path):
    """Through the real pipeline: what the source reports is in the session summary, the
    stored session, and the notices."""
    from callcoach.engine.engine import EngineSettings
    from callcoach.pipeline import CallPipeline
    from callcoach.store import SessionStore, StoreWriter

    pipeline = CallPipeline(EngineSettings(), source_name="live")
    pipeline.load()
    store = SessionStore(tmp_path / "sessions.db")
    writer = StoreWriter.attach(pipeline, store, agent="sam")
    source = LiveSource({A: "headset", C: "line in"}, queue_blocks=3, lost_after_s=0.2, reconnect_every_s=0.05)
    source.start()
    agent = fake_sd.streams[0]
    agent.deliver(8)  # six queued (the queue holds three blocks per device), two dropped
    result = {}
    runner = threading.Thread(target=lambda: result.update(summary=pipeline.run(source)), daemon=True)
    runner.start()
    talker = Talker(fake_sd, "line in")
    try:
        assert wait_for(lambda: source._queue.empty())
        agent.deliver(1)  # the clock jumps over the two dropped blocks
        fake_sd.present.discard("headset")  # and then the headset goes
        assert wait_for(lambda: source._state[A] == "lost")
        fake_sd.present.add("headset")
        assert wait_for(lambda: len(fake_sd.open_streams("headset")) == 1)
        fake_sd.open_streams("headset")[0].deliver(1)
        assert wait_for(lambda: source._queue.empty())
    finally:
        talker.stop()
        source.stop()
        runner.join(30)
        writer.close()
    summary = result["summary"]
    stored = store.get(writer.id)
    store.close()
    for session in (summary, stored):
        assert session["metrics"]["dropped_blocks"] == {A: 2, C: 0}, session["metrics"]
        assert session["metrics"]["dropped_s"] == {A: 0.1, C: 0.0}
        assert [g["speaker"] for g in session["gaps"]] == [A], session["gaps"]
        assert session["gaps"][0]["start"] == pytest.approx(0.45, abs=0.02)
        kinds = [n.get("kind") for n in session["notices"]]
        assert kinds.count("audio_dropped") == 1 and "device_lost" in kinds and "device_back" in kinds, kinds
        assert "audio_gap" not in kinds  # every jump of the clock was explained
    assert summary["engine"]["dropped_blocks"] == 2 and summary["engine"]["device_gaps"] == 1


def test_a_silent_device_is_lost_reopened_by_name_and_stamped_at_call_time(fake_sd):
    source = LiveSource({A: "headset", C: "line in"}, lost_after_s=0.2, reconnect_every_s=0.05)
    consumer = Consumer(source)
    try:
        assert wait_for(lambda: len(fake_sd.streams) == 2 and all(s.started for s in fake_sd.streams))
        agent, customer = fake_sd.streams
        agent.deliver(2)
        customer.deliver(2)
        fake_sd.present.discard("headset")  # unplugged: no more callbacks, reopening fails
        t_unplug = time.monotonic() - source._t0
        talker = Talker(fake_sd, "line in")  # the customer keeps talking meanwhile
        assert consumer.wait(lambda items: any(isinstance(i, DeviceLost) for i in items))
        assert agent.closed
        lost = consumer.of(DeviceLost)[0]
        assert lost.role == A and lost.t == pytest.approx(0.1) and "no audio" in lost.reason
        assert wait_for(lambda: source._retry_at[A] > 0 and len(fake_sd.streams) == 2, 2)
        fake_sd.present.add("headset")  # plugged back in: the next retry opens it
        assert wait_for(lambda: len(fake_sd.open_streams("headset")) == 1, 2)
        again = fake_sd.open_streams("headset")[0]
        back_at = time.monotonic() - source._t0
        again.deliver(2)
        assert consumer.wait(lambda items: any(isinstance(i, DeviceBack) for i in items))
        talker.stop()
    finally:
        consumer.stop()

    back = consumer.of(DeviceBack)[0]
    assert back.role == A and back_at - 0.2 < back.t <= back_at + 0.01, (back.t, back_at)
    assert back.t > t_unplug + 0.2
    agent_blocks = consumer.of(AudioBlock, A)
    resumed = [b for b in agent_blocks if b.start >= round(back.t * SAMPLE_RATE)]
    assert resumed and resumed[0].start == round(back.t * SAMPLE_RATE)
    # The customer channel never stopped: no gap in its clock, and it ran past the loss.
    customer_blocks = consumer.of(AudioBlock, C)
    assert all(a.end == b.start for a, b in zip(customer_blocks, customer_blocks[1:]))
    assert customer_blocks[-1].end / SAMPLE_RATE > back.t - 0.3
    assert not consumer.of(DeviceLost, C)
    assert fake_sd.restarts == 0  # the other stream was never touched
    assert source.reconnects[A] == 1


def test_portaudio_ending_the_stream_loses_the_device_at_once(fake_sd):
    source = LiveSource({A: "headset"}, lost_after_s=5.0)
    consumer = Consumer(source)
    try:
        assert wait_for(lambda: fake_sd.streams and fake_sd.streams[0].started)
        fake_sd.streams[0].deliver(1)
        fake_sd.present.discard("headset")
        fake_sd.streams[0].close()  # PortAudio calls the finished callback
        assert consumer.wait(lambda items: any(isinstance(i, DeviceLost) for i in items), 1.0)
    finally:
        consumer.stop()
    assert "ended the stream" in consumer.of(DeviceLost)[0].reason


def test_a_stream_whose_clock_skips_without_an_overflow_is_lost_and_its_audio_not_used(fake_sd):
    """What PortAudio's ALSA layer does when a PulseAudio source vanishes under it: it goes
    on calling back, with stale audio, after its clock jumped."""
    source = LiveSource({A: "headset"}, reconnect_every_s=0.05)
    consumer = Consumer(source)
    try:
        assert wait_for(lambda: fake_sd.streams and fake_sd.streams[0].started)
        stream = fake_sd.streams[0]
        stream.deliver(30)
        fake_sd.present.discard("headset")
        stream.deliver(5, skip_s=1.0, value=0.7)
        assert consumer.wait(lambda items: any(isinstance(i, DeviceLost) for i in items), 2.0)
        assert stream.closed
    finally:
        consumer.stop()
    lost = consumer.of(DeviceLost)[0]
    assert "skipped 1.0 s" in lost.reason and lost.t == pytest.approx(1.5)
    assert all(np.all(b.samples < 0.5) for b in consumer.of(AudioBlock)), "stale audio was used"


def test_a_device_portaudio_no_longer_lists_is_found_by_restarting_portaudio(fake_sd, monkeypatch):
    """A USB headset plugged back in is a new device to PortAudio: only a restart lists it.
    The restart closes the other stream too, so it is done once a fresh process can open it."""
    probes = []
    monkeypatch.setattr(live, "_fresh_portaudio_can_open",
                        lambda name: probes.append(name) or name in fake_sd.present)
    source = LiveSource({A: "headset", C: "line in"}, lost_after_s=0.2, reconnect_every_s=0.05)
    consumer = Consumer(source)
    try:
        assert wait_for(lambda: len(fake_sd.streams) == 2 and all(s.started for s in fake_sd.streams))
        agent, customer = fake_sd.streams
        agent.deliver(1)
        talker = Talker(fake_sd, "line in")
        fake_sd.present.discard("headset")
        fake_sd.listed.discard("headset")
        assert consumer.wait(lambda items: any(isinstance(i, DeviceLost) for i in items))
        assert wait_for(lambda: probes, 2)
        assert fake_sd.restarts == 0  # the probe said no: the customer's stream stays
        fake_sd.present.add("headset")  # back, but not in this PortAudio's list
        assert wait_for(lambda: fake_sd.restarts == 1, 5)
        assert wait_for(lambda: len(fake_sd.open_streams("headset")) == 1
                        and len(fake_sd.open_streams("line in")) == 1, 2)
        fake_sd.open_streams("headset")[0].deliver(1)
        assert consumer.wait(lambda items: len([i for i in items if isinstance(i, DeviceBack)]) == 2)
        talker.stop()
    finally:
        consumer.stop()
    assert {e.role for e in consumer.of(DeviceLost)} == {A, C}
    assert "restarted" in consumer.of(DeviceLost, C)[0].reason


# --- for real: a PulseAudio device unloaded mid-call and loaded again ------------------------
#
# The agent's device is a null sink of its own (not the shared agentmic one, which other live
# tests may be using at the same moment), heard through PortAudio's ALSA "pulse" device with
# PULSE_SOURCE pointing at its monitor. Unloading its module is exactly what unplugging a USB
# headset looks like to PulseAudio: the source and its streams are gone.

LOSS_SCRIPT_1 = [
    Turn(AGENT, "Thank you for calling, this is Sam. How can I help you today?"),
    Turn(CUSTOMER, "Hi Sam, my internet has been down since yesterday morning.", gap_before=0.8),
    Turn(CUSTOMER, "I already restarted the router two times.", gap_before=2.0),
    Turn(CUSTOMER, "The lights on the front keep blinking orange.", gap_before=2.0),
    Turn(CUSTOMER, "I work from home, so I really need this fixed today.", gap_before=2.0),
    Turn(CUSTOMER, "Are you still there? I cannot hear you.", gap_before=2.0),
]
LOSS_SCRIPT_2 = [Turn(AGENT, "I am sorry about that, I can hear you again now. Let me check the line for you.")]
START_TIMEOUT_MS = 30_000
SETTLE_TIMEOUT_MS = 60_000


def _render(script, folder: Path, name: str) -> tuple[cg.CallTruth, dict[str, Path]]:
    sub = folder / name
    sub.mkdir()
    truth = cg.render_call(script, sub / "call.wav", trailing_silence=0.8)
    return truth, cg.split_for_sinks(truth.path, sub)


@pytest.fixture(scope="module")
def loss_call(tmp_path_factory):
    folder = tmp_path_factory.mktemp("device_loss")
    first = _render(LOSS_SCRIPT_1, folder, "first")
    truth, paths = first
    # The agent's part of the first file ends after its one turn: its player must be done
    # before the device goes away.
    agent_end = truth.for_speaker(AGENT)[0].end + 0.6
    stereo, sr = sf.read(str(paths[A]), dtype="float32")
    sf.write(str(paths[A]), stereo[: int(agent_end * sr)], sr)
    return first, _render(LOSS_SCRIPT_2, folder, "second")


def _finish(player: subprocess.Popen, timeout: float) -> None:
    try:
        _, err = player.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        player.kill()
        player.communicate()
        pytest.fail(f"paplay did not finish within {timeout:.0f} s")
    assert player.returncode == 0, err


@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_threads")
def test_microphone_unplugged_mid_call_comes_back_and_the_gap_is_recorded(pulse_server, loss_call, qtbot):
    from PySide6.QtCore import Qt

    from callcoach.coach.events import ScoredUtterance
    from callcoach.engine.events import DeviceGap, Level, ModelReady, Notice, Utterance
    from callcoach.gui.app import CoachApp
    from callcoach.settings import Key, Settings

    (truth1, paths1), (truth2, paths2) = loss_call
    settings = Settings()
    settings.set(Key.AGENT_DEVICE, "Test Microphone")  # the customer: what plays on the default output
    settings.save()

    events: list[tuple[float, object]] = []  # (arrival, event), on the GUI thread
    shown: list[str] = []  # every text the message bar showed, in order
    coach = CoachApp(Settings(), mode="live")
    players: list[subprocess.Popen] = []
    try:
        coach.start()
        w = coach.window

        def on_event(event):
            events.append((time.monotonic(), event))
            if w.message.isVisible() and (not shown or shown[-1] != w.message.text.text()):
                shown.append(w.message.text.text())

        def of(kind, role=None):
            return [e for _, e in events if isinstance(e, kind) and (role is None or e.role == role)]

        def notices(kind):
            return [n for n in of(Notice) if n.kind == kind]

        coach.call_started.connect(lambda: coach.calls.runner.bridge.connect_to(on_event))
        qtbot.mouseClick(w.title_bar.call_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(of(ModelReady) and of(Level, A) and of(Level, C)), timeout=START_TIMEOUT_MS)

        # The call: the agent greets, the customer goes on talking throughout.
        players.append(pulse_server.play(paths1[C], TEST_HEADSET))
        players.append(pulse_server.play(paths1[A], TEST_MIC_FEED))
        _finish(players[-1], 30)
        qtbot.waitUntil(lambda: bool(of(Utterance, A)), timeout=SETTLE_TIMEOUT_MS)

        # Unplugged.
        unloaded_at = time.monotonic()
        pulse_server.unload(pulse_server.microphone_module)
        qtbot.waitUntil(lambda: bool(notices("device_lost")), timeout=10_000)
        assert w.message.isVisible()
        assert w.message.text.text().lower() == "microphone lost – reconnecting"
        lost_notice_at = next(t for t, e in events if isinstance(e, Notice) and e.kind == "device_lost")
        assert lost_notice_at - unloaded_at < 2.0, "the loss took too long to notice"
        # The customer is heard meanwhile: two of their turns end after the loss was noticed.
        lost = notices("device_lost")[0]
        qtbot.waitUntil(lambda: len([u for u in of(Utterance, C) if u.start > lost.t]) >= 2,
                        timeout=SETTLE_TIMEOUT_MS)
        assert "reconnecting" in w.message.text.text() and w.message.isVisible()

        # Plugged back in.
        loaded_at = time.monotonic()
        pulse_server.add_microphone(TEST_MICROPHONE, "Test Microphone", TEST_MIC_FEED)
        qtbot.waitUntil(lambda: bool(notices("device_back")), timeout=15_000)
        qtbot.waitUntil(lambda: bool("back" in w.message.text.text().lower()), timeout=5_000)
        assert not w.lost_devices
        played_at = time.monotonic()
        players.append(pulse_server.play(paths2[A], TEST_MIC_FEED))
        _finish(players[-1], 30)
        qtbot.waitUntil(lambda: bool([u for u in of(Utterance, A) if u.start > lost.t]), timeout=SETTLE_TIMEOUT_MS)
        _finish(players[0], 60)

        with qtbot.waitSignal(coach.call_finished, timeout=60_000) as finished:
            qtbot.mouseClick(w.title_bar.call_button, Qt.MouseButton.LeftButton)
        summary = finished.args[0]
        assert summary is not None, w.message.text.text()
        qtbot.waitUntil(coach.writer.finished.is_set, timeout=10_000)
        stored = coach.store.get(coach.writer.id)
    finally:
        for p in players:
            if p.poll() is None:
                p.kill()
                p.communicate()
        shut_down(coach)

    # The call clock: every Level's arrival minus its call time; the smallest is the clock's
    # start (both roles share it).
    origin = min(t - e.t for t, e in events if isinstance(e, Level))
    unloaded, loaded, played = unloaded_at - origin, loaded_at - origin, played_at - origin
    describe = "\n".join(f"  {type(e).__name__} {e}"[:200] for _, e in events
                         if isinstance(e, (Utterance, ScoredUtterance, Notice, DeviceGap)))

    print(f"unloaded {unloaded:.2f} s, loaded {loaded:.2f} s, gaps {of(DeviceGap)}, "
          f"agent played again at {played:.2f} s; message bar: {shown}")  # shown with -s
    # One gap on the agent's channel, from about the unplugging to about the return.
    gaps = of(DeviceGap)
    assert len(gaps) == 1 and gaps[0].role == A, describe
    gap = gaps[0]
    assert unloaded - 0.7 < gap.start < unloaded + 0.7, (gap, unloaded)
    assert loaded < gap.end < loaded + 6.0, (gap, loaded)
    # ... in the session summary and in the store, with its notices.
    for session in (summary, stored):
        assert [(g["speaker"], g["start"], g["end"]) for g in session["gaps"]] == [
            (A, round(gap.start, 2), round(gap.end, 2))], session["gaps"]
        kinds = [n.get("kind") for n in session["notices"]]
        assert "device_lost" in kinds and "device_back" in kinds, session["notices"]
    assert stored["status"] == "complete"

    # The customer was heard all through the gap.
    during = [u for u in of(Utterance, C) if gap.start < u.start and u.end < gap.end]
    assert len(during) >= 2, describe
    # ... and coached: the missing agent audio did not hold the analysis back until the return.
    back_arrived = next(t for t, e in events if isinstance(e, Notice) and e.kind == "device_back")
    scored = {(e.start, e.end) for t, e in events if isinstance(e, ScoredUtterance) and t < back_arrived}
    assert all((u.start, u.end) in scored for u in during[:-1]), describe
    heard = " ".join(u.text for u in of(Utterance, C)).lower()
    assert "router" in heard and "blinking" in heard, heard
    # The agent is heard again after the return, at the call time it was played.
    again = [u for u in of(Utterance, A) if u.start >= gap.end]
    assert again, describe
    said_again = " ".join(u.text for u in again)
    # The words, within what tiny.en mishears on a short line ("check the blind" for "line").
    assert cg.word_error_rate(truth2.transcript(AGENT), said_again) <= 0.35, again
    delay = again[0].start - (played + truth2.for_speaker(AGENT)[0].start)
    assert -0.5 < delay < 1.5, f"the agent's speech after the return is {delay:+.2f} s off the call clock"
    assert not [u for u in of(Utterance, A) if gap.start < u.start < gap.end]
    # The widget said it, then cleared it.
    lost_i = next(i for i, text in enumerate(shown) if text.lower() == "microphone lost – reconnecting")
    assert any("microphone back" in text.lower() for text in shown[lost_i + 1:]), shown

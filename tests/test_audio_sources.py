"""Audio in: resampling, call files, replay pacing and live capture (real devices)."""

import threading
import time
from math import ceil

import numpy as np
import pytest
import soundfile as sf

from callcoach.audio import live
from callcoach.audio.block import SAMPLE_RATE, AudioBlock, AudioDropped
from callcoach.audio.devices import CapturePlan
from callcoach.audio.files import FileSource, read_call, read_pair
from callcoach.audio.live import LiveSource, find_device
from callcoach.audio.pulse.source import PulseSource
from callcoach.audio.resample import StreamingResampler, downmix
from callcoach.audio.system import sound_system
from callcoach.errors import CallCoachError
from tests.sound_servers import TEST_HEADSET, TEST_MIC_FEED

RATES = [8000, 11025, 22050, 32000, 44100, 48000, 96000]


def sine(freq, rate, seconds, amp=0.5):
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def resample_all(x, rate):
    rs = StreamingResampler(rate)
    return np.concatenate([rs.process(x), rs.flush()])


def peak_frequency(x, rate=SAMPLE_RATE):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)]


def amplitude(x):
    return np.sqrt(np.mean(x**2)) * np.sqrt(2)


# --- resampler -----------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_resampler_output_does_not_depend_on_block_sizes(rate):
    rng = np.random.default_rng(rate)
    x = (0.3 * rng.standard_normal(rate * 2 + 77)).astype(np.float32)
    whole = resample_all(x, rate)

    rs = StreamingResampler(rate)
    parts, i = [], 0
    while i < len(x):
        n = int(rng.integers(1, 2500))
        parts.append(rs.process(x[i : i + n]))
        i += n
    parts.append(rs.flush())

    assert len(whole) == ceil(len(x) * SAMPLE_RATE / rate)
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-5)


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_resampled_sine_keeps_frequency_amplitude_and_timing(rate):
    y = resample_all(sine(1000, rate, 2.0), rate)
    middle = slice(800, len(y) - 800)  # away from the zero-padded edges

    assert peak_frequency(y[middle]) == pytest.approx(1000, abs=2)
    assert amplitude(y[middle]) == pytest.approx(0.5, rel=0.01)
    # No group delay: output i is the signal at time i / 16000.
    expected = sine(1000, SAMPLE_RATE, len(y) / SAMPLE_RATE)[: len(y)]
    np.testing.assert_allclose(y[middle], expected[middle], atol=1e-3)


def test_downsampling_keeps_passband_and_removes_aliases():
    passband = resample_all(sine(5000, 48000, 1.0, amp=1.0), 48000)[800:-800]
    assert amplitude(passband) == pytest.approx(1.0, rel=0.01)

    # 10 kHz is above the new Nyquist (8 kHz); unfiltered it would fold to 6 kHz.
    aliased = resample_all(sine(10000, 48000, 1.0, amp=1.0), 48000)[800:-800]
    assert amplitude(aliased) < 1e-3  # better than -60 dB


def test_upsampling_adds_no_images():
    y = resample_all(sine(3000, 8000, 1.0), 8000)[800:-800]
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    freqs = np.fft.rfftfreq(len(y), 1 / SAMPLE_RATE)
    assert spectrum[freqs > 4500].max() < 1e-3 * spectrum.max()


def test_16k_passes_through_without_copy():
    x = sine(440, SAMPLE_RATE, 0.1)
    rs = StreamingResampler(SAMPLE_RATE)
    assert rs.process(x) is x
    assert len(rs.flush()) == 0


def test_downmix_averages_channels():
    stereo = np.array([[1.0, 0.0], [0.5, 0.5], [-1.0, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(downmix(stereo), [0.5, 0.5, 0.0])
    assert downmix(stereo[:, :1]).shape == (3,)


# --- reading call files ----------------------------------------------------------------


@pytest.fixture
def stereo_call(tmp_path):
    """1.5 s at 44.1 kHz: 1 kHz on the left channel, 2 kHz on the right."""
    path = tmp_path / "call.wav"
    left, right = sine(1000, 44100, 1.5), sine(2000, 44100, 1.5)
    sf.write(path, np.stack([left, right], axis=1), 44100)
    return path


@pytest.mark.parametrize("agent_channel, agent_freq", [("left", 1000), ("right", 2000)])
def test_read_call_splits_channels_by_role(stereo_call, agent_channel, agent_freq):
    call = read_call(stereo_call, agent_channel=agent_channel)
    customer_freq = 3000 - agent_freq

    assert set(call) == {"agent", "customer"}
    for role, freq in (("agent", agent_freq), ("customer", customer_freq)):
        assert call[role].dtype == np.float32
        assert len(call[role]) == ceil(1.5 * 44100 * SAMPLE_RATE / 44100)
        assert peak_frequency(call[role]) == pytest.approx(freq, abs=2)


def test_read_call_reads_flac_and_uses_first_two_of_more_channels(tmp_path):
    path = tmp_path / "call.flac"
    channels = [sine(f, 48000, 1.0) for f in (500, 1500, 3000)]
    sf.write(path, np.stack(channels, axis=1), 48000)

    call = read_call(path)

    assert peak_frequency(call["agent"]) == pytest.approx(500, abs=2)
    assert peak_frequency(call["customer"]) == pytest.approx(1500, abs=2)


def test_read_pair_downmixes_a_stereo_side(tmp_path):
    agent, customer = tmp_path / "agent.wav", tmp_path / "customer.wav"
    sf.write(agent, sine(700, 22050, 1.0), 22050)
    sf.write(customer, np.stack([sine(1200, 8000, 0.5)] * 2, axis=1), 8000)

    call = read_pair(agent, customer)

    assert len(call["agent"]) == SAMPLE_RATE and len(call["customer"]) == SAMPLE_RATE // 2
    assert peak_frequency(call["agent"]) == pytest.approx(700, abs=2)
    assert amplitude(call["customer"][800:-800]) == pytest.approx(0.5, rel=0.01)


def _bad_files(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 2), dtype=np.float32), 16000)
    mono = tmp_path / "mono.wav"
    sf.write(mono, sine(440, 16000, 0.5), 16000)
    return {
        "missing": (tmp_path / "nope.wav", "no such file"),
        "not audio": (text, "not a readable audio file"),
        "empty": (empty, "no audio"),
        "mono": (mono, "is mono; a call needs two channels"),
    }


@pytest.mark.parametrize("case", ["missing", "not audio", "empty", "mono"])
def test_read_call_errors_are_one_line_and_name_the_file(tmp_path, case):
    path, expected = _bad_files(tmp_path)[case]
    with pytest.raises(CallCoachError) as err:
        read_call(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and expected in message


def test_mono_call_error_suggests_two_files(tmp_path):
    path, _ = _bad_files(tmp_path)["mono"]
    with pytest.raises(CallCoachError, match="--agent A.wav --customer C.wav"):
        read_call(path)


def test_read_call_rejects_bad_agent_channel(stereo_call):
    with pytest.raises(CallCoachError, match="left' or 'right"):
        read_call(stereo_call, agent_channel="middle")


def test_read_pair_errors_name_the_bad_side(tmp_path, stereo_call):
    path, _ = _bad_files(tmp_path)["not audio"]
    with pytest.raises(CallCoachError, match="notes.wav"):
        read_pair(stereo_call, path)


# --- replaying files -------------------------------------------------------------------


def test_file_source_yields_time_ordered_blocks_covering_the_file():
    agent = np.arange(16_500, dtype=np.float32)
    customer = np.ones(7_000, dtype=np.float32)  # shorter: padded with silence
    source = FileSource({"agent": agent, "customer": customer}, realtime=False)

    blocks = list(source.blocks())

    assert [b.role for b in blocks[:4]] == ["agent", "customer", "agent", "customer"]
    starts = [b.start for b in blocks]
    assert starts == sorted(starts)
    for role in ("agent", "customer"):
        mine = [b for b in blocks if b.role == role]
        assert mine[0].start == 0 and mine[-1].end == len(agent)
        assert all(a.end == b.start for a, b in zip(mine, mine[1:]))
    got = {r: np.concatenate([b.samples for b in blocks if b.role == r]) for r in ("agent", "customer")}
    np.testing.assert_array_equal(got["agent"], agent)
    np.testing.assert_array_equal(got["customer"][:7000], customer)
    assert not got["customer"][7000:].any()
    assert source.duration == pytest.approx(16_500 / SAMPLE_RATE)
    assert source.progress == 1.0


def test_file_source_realtime_paces_by_the_clock():
    call = {"agent": np.zeros(SAMPLE_RATE, np.float32), "customer": np.zeros(SAMPLE_RATE, np.float32)}
    source = FileSource(call, realtime=True)

    t0 = time.monotonic()
    count = sum(1 for _ in source.blocks())

    assert time.monotonic() - t0 >= 0.8
    assert count == 20


def test_file_source_stop_ends_a_realtime_replay_early():
    call = {"agent": np.zeros(10 * SAMPLE_RATE, np.float32)}
    source = FileSource(call, realtime=True)
    threading.Timer(0.3, source.stop).start()

    t0 = time.monotonic()
    blocks = list(source.blocks())

    assert time.monotonic() - t0 < 2.0
    assert 0 < source.progress < 0.5
    assert blocks[-1].end < 10 * SAMPLE_RATE


# --- live devices (private PulseAudio and PipeWire servers, tests/sound_servers.py) --------


class Collector:
    """Consumes a live source on a thread, like the engine would."""

    def __init__(self, source, roles=("agent", "customer")):
        self.source = source
        self.items = []
        self.roles = set(roles)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        for item in self.source.stream():
            self.items.append(item)

    @property
    def blocks(self):
        return [b for b in list(self.items) if isinstance(b, AudioBlock)]

    def start(self):
        """Start consuming; returns once every device delivers audio (an idle null sink's
        monitor takes about 1.5 s to start, and would miss a tone played earlier)."""
        self.thread.start()
        delivering = getattr(self.source, "delivering", lambda role: any(b.role == role for b in self.blocks))
        assert _wait_for(lambda: all(delivering(role) for role in self.roles), 15), "no audio from a device"

    def stop(self):
        self.source.stop()
        self.thread.join(10)
        assert not self.thread.is_alive(), "stream() did not end after stop()"

    def audio(self, role):
        mine = [b for b in self.blocks if b.role == role]
        assert all(a.end == b.start for a, b in zip(mine, mine[1:])), "gap in the clock"
        return np.concatenate([b.samples for b in mine])


def write_tone(path, freq, seconds, rate=48000, silence_after=0.0):
    tone = sine(freq, rate, seconds, amp=0.5)
    tone = np.concatenate([tone, np.zeros(int(rate * silence_after), np.float32)])
    sf.write(path, np.stack([tone, tone], axis=1), rate)
    return path


def loud_part(x, threshold=0.05, frame=160):
    """The 10 ms frames whose RMS is above `threshold`, joined."""
    frames = x[: len(x) // frame * frame].reshape(-1, frame)
    return frames[np.sqrt((frames**2).mean(axis=1)) > threshold].ravel()


def _open(plan):
    system = sound_system()
    try:
        return system.open(plan)
    finally:
        system.close()


HEADSET_PLAN = CapturePlan("Test Microphone", call_device="Test Headset")


@pytest.mark.pulse
def test_live_source_captures_each_role_from_its_device(sound_server, tmp_path):
    source = _open(HEADSET_PLAN)
    collector = Collector(source)
    collector.start()
    agent_tone = write_tone(tmp_path / "agent.wav", 600, 1.0)
    call_tone = write_tone(tmp_path / "call.wav", 1500, 1.0)

    players = [sound_server.play(agent_tone, TEST_MIC_FEED), sound_server.play(call_tone, TEST_HEADSET)]
    for p in players:
        assert p.wait(20) == 0
    _wait_for(lambda: _tone_has_passed(collector), 5)  # the tail travels through the server
    collector.stop()

    assert not [i for i in collector.items if isinstance(i, AudioDropped)]
    for role, freq in (("agent", 600), ("customer", 1500)):
        tone = loud_part(collector.audio(role))
        assert len(tone) / SAMPLE_RATE == pytest.approx(1.0, abs=0.15), role
        assert peak_frequency(tone) == pytest.approx(freq, abs=5), role


def _tone_has_passed(collector, roles=("agent", "customer")):
    """True once every role heard some tone and its last 0.1 s is silent again."""
    blocks = collector.blocks
    for role in roles:
        mine = [b.samples for b in blocks if b.role == role]
        x = np.concatenate(mine) if mine else np.zeros(0, np.float32)
        if len(loud_part(x)) == 0 or np.abs(x[-1600:]).max() > 0.01:
            return False
    return True


@pytest.mark.pulse
def test_live_stop_delivers_audio_still_queued(sound_server, tmp_path):
    source = _open(HEADSET_PLAN)
    blocks, audio_flows, resume = [], threading.Event(), threading.Event()

    def busy_consumer():
        # Takes one block, then stalls (like a busy engine) so the rest queues up.
        for block in source.blocks():
            if block.role == "customer":
                blocks.append(block)
                audio_flows.set()
                resume.wait()

    consumer = threading.Thread(target=busy_consumer, daemon=True)
    consumer.start()
    assert audio_flows.wait(15) and _wait_for(lambda: source.delivering("customer"), 15), "no audio from the device"
    # The trailing silence makes sure the tone itself has reached us when paplay ends.
    tone = write_tone(tmp_path / "tone.wav", 1000, 1.0, silence_after=0.4)
    assert sound_server.play(tone, TEST_HEADSET).wait(20) == 0
    source.stop()
    resume.set()
    consumer.join(10)

    assert not consumer.is_alive(), "blocks() did not end after stop()"
    assert all(a.end == b.start for a, b in zip(blocks, blocks[1:]))
    heard = loud_part(np.concatenate([b.samples for b in blocks]))
    assert len(heard) / SAMPLE_RATE == pytest.approx(1.0, abs=0.15)
    assert peak_frequency(heard) == pytest.approx(1000, abs=5)


@pytest.mark.pulse
def test_live_overflow_drops_audio_but_keeps_the_clock(sound_server):
    system = sound_system()
    try:
        source = PulseSource(HEADSET_PLAN.targets(), queue_fragments=2)
    finally:
        system.close()
    items = []

    def slow_consumer():
        for item in source.stream():
            items.append(item)
            if len(items) == 1:  # stall until the tiny queue has overflowed a few times
                _wait_for(lambda: sum(source._dropped.values()) >= 5 * 320, timeout=10)

    consumer = threading.Thread(target=slow_consumer, daemon=True)
    consumer.start()
    assert _wait_for(lambda: any(isinstance(i, AudioDropped) for i in items) and len(items) > 10, timeout=20)
    source.stop()
    consumer.join(10)

    for role in ("agent", "customer"):
        mine = [i for i in items if i.role == role]
        blocks = [i for i in mine if isinstance(i, AudioBlock)]
        assert all(b.start >= a.end for a, b in zip(blocks, blocks[1:])), "blocks overlap"
        # The clock skips exactly the dropped audio, so the roles stay aligned.
        for drop, after in zip(mine, mine[1:]):
            if isinstance(drop, AudioDropped) and isinstance(after, AudioBlock):
                assert after.start >= round((drop.t + drop.seconds) * SAMPLE_RATE), (drop, after.start)
        skipped = sum(b.start - a.end for a, b in zip(blocks, blocks[1:]))
        dropped_between = sum(d.seconds for d in mine if isinstance(d, AudioDropped) and d.t * SAMPLE_RATE >=
                              blocks[0].end) * SAMPLE_RATE
        assert skipped == round(dropped_between), role
    said = sum(d.seconds for d in items if isinstance(d, AudioDropped)) * SAMPLE_RATE
    assert round(said) == sum(source._dropped.values())


def _wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)  # polling another thread's progress, bounded
    return True


@pytest.mark.pulse
def test_unknown_device_lists_the_available_ones(sound_server):
    with pytest.raises(CallCoachError) as err:
        _open(CapturePlan("no such headset"))
    message = str(err.value)
    assert "\n" not in message
    assert message == "no input named 'no such headset'; the inputs here: Test Microphone"


# --- PortAudio: the inputs-only path (macOS, Linux without a sound server) ------------------
# On a desktop's Linux with no ~/.asoundrc, PortAudio sees ALSA's "pulse" and "default"
# devices (libasound2-plugins), both the sound server's default source.


@pytest.mark.pulse
def test_portaudio_source_records_the_default_input(pulse_server, tmp_path):
    live.refresh_devices()  # PortAudio lists devices once; PULSE_SERVER changed since
    assert find_device("puls")["name"] == "pulse"
    with pytest.raises(CallCoachError, match="ambiguous.*pulse.*default|ambiguous.*default.*pulse"):
        find_device("u")
    source = LiveSource({"agent": "pulse"})
    collector = Collector(source, roles=("agent",))
    collector.start()
    assert pulse_server.play(write_tone(tmp_path / "tone.wav", 800, 1.0), TEST_MIC_FEED).wait(20) == 0
    _wait_for(lambda: _tone_has_passed(collector, ("agent",)), 5)
    collector.stop()
    tone = loud_part(collector.audio("agent"))
    assert len(tone) / SAMPLE_RATE == pytest.approx(1.0, abs=0.15)
    assert peak_frequency(tone) == pytest.approx(800, abs=5)

"""The private sound servers the device tests run on (tests/sound_servers.py) are real:
both kinds list the test devices, carry sound from a player to a recorder, unload, and
stop without leaving a process behind."""

import os
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests import sound_servers
from tests.sound_servers import (
    TEST_HEADSET,
    TEST_MIC_FEED,
    TEST_MICROPHONE,
    SoundServer,
)

RATE = 16000


def listing(server: SoundServer, what: str) -> dict[str, dict[str, str]]:
    """`pactl list sinks|sources` as {name: {field: value}} (top-level fields only)."""
    devices = {}
    for block in server.pactl("list", what).split("\n\n"):
        fields = dict(line.strip().split(": ", 1) for line in block.splitlines()
                      if line.startswith("\t") and not line.startswith("\t\t") and ": " in line)
        if "Name" in fields:
            devices[fields["Name"]] = fields
    return devices


class Recording:
    """parec from a source into memory, on a thread (read stdout while it fills)."""

    def __init__(self, server: SoundServer, source: str, channels: int = 1):
        self.channels = channels
        self.proc = server.record(source, RATE, channels)
        self.data = bytearray()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while chunk := os.read(self.proc.stdout.fileno(), 65536):
            self.data += chunk

    def seconds(self) -> float:
        return len(self.data) / (2 * self.channels * RATE)

    def wait_for(self, seconds: float, timeout: float) -> bool:
        """Poll until `seconds` of audio have arrived; False if not within `timeout`."""
        deadline = time.monotonic() + timeout
        while self.seconds() < seconds:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self) -> np.ndarray:
        self.proc.terminate()
        self.proc.wait(5)
        self.thread.join(5)
        whole = len(self.data) // (2 * self.channels) * 2 * self.channels
        return np.frombuffer(bytes(self.data[:whole]), "<i2").reshape(-1, self.channels) / 32768.0


def tone(path: Path, freq: float, seconds: float, silence_after: float = 0.5, rate: int = 48000) -> Path:
    """A stereo tone at half scale, then silence (so the tone has passed when paplay ends)."""
    t = np.arange(int(rate * seconds)) / rate
    x = np.concatenate([0.5 * np.sin(2 * np.pi * freq * t), np.zeros(int(rate * silence_after))])
    sf.write(path, np.stack([x, x], axis=1).astype(np.float32), rate)
    return path


def loud(x: np.ndarray, threshold: float = 0.05, frame: int = 160) -> np.ndarray:
    """The 10 ms frames whose RMS is above `threshold`, joined."""
    frames = x[: len(x) // frame * frame].reshape(-1, frame)
    return frames[np.sqrt((frames**2).mean(axis=1)) > threshold].ravel()


def peak_frequency(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[np.argmax(spectrum)])


def play_and_record(server: SoundServer, sink: str, source: str, path: Path) -> np.ndarray:
    """Stereo recording of `source` while `path` plays into `sink`."""
    recording = Recording(server, source, channels=2)
    # An idle PulseAudio null sink serves a new recorder only when its current block
    # (up to 2 s) ends: wait for audio to flow, or the tone's start is lost.
    assert recording.wait_for(0.1, timeout=5), f"{source} delivers nothing"
    player = server.play(path, sink)
    assert player.wait(20) == 0, player.stderr.read()
    recording.wait_for(recording.seconds() + 0.2, timeout=5)  # the tail, through the server
    return recording.stop()


def test_lists_the_test_headset_and_a_real_microphone(sound_server):
    sinks, sources = listing(sound_server, "sinks"), listing(sound_server, "sources")
    assert sinks[TEST_HEADSET]["Description"] == "Test Headset"
    assert sources[TEST_MICROPHONE]["Description"] == "Test Microphone"
    assert sources[TEST_MICROPHONE]["Monitor of Sink"] == "n/a"  # an input, not a monitor
    assert sources[f"{TEST_HEADSET}.monitor"]["Monitor of Sink"] == TEST_HEADSET
    info = sound_server.pactl("info")
    assert f"Default Sink: {TEST_HEADSET}" in info and f"Default Source: {TEST_MICROPHONE}" in info
    assert os.environ["PULSE_SERVER"] == sound_server.env["PULSE_SERVER"]


def test_the_headset_monitor_records_what_is_played(sound_server, tmp_path):
    audio = play_and_record(sound_server, TEST_HEADSET, f"{TEST_HEADSET}.monitor", tone(tmp_path / "t.wav", 1000, 0.8))
    for channel in audio.T:
        heard = loud(channel)
        assert len(heard) / RATE == pytest.approx(0.8, abs=0.1)
        assert peak_frequency(heard) == pytest.approx(1000, abs=5)
        assert np.sqrt(np.mean(heard**2)) * np.sqrt(2) == pytest.approx(0.5, abs=0.05)  # no gain on the way


def test_the_microphone_hears_its_feed(sound_server, tmp_path):
    audio = play_and_record(sound_server, TEST_MIC_FEED, TEST_MICROPHONE, tone(tmp_path / "t.wav", 600, 0.8))
    heard = loud(audio[:, 0])
    assert len(heard) / RATE == pytest.approx(0.8, abs=0.1)
    assert peak_frequency(heard) == pytest.approx(600, abs=5)


def test_an_idle_monitor_delivers_continuous_silence(sound_server):
    """Nothing plays: the monitor still delivers zeros in real time once it has started
    (PulseAudio may take up to 2 s to start it, PipeWire some 50 ms)."""
    recording = Recording(sound_server, f"{TEST_HEADSET}.monitor")
    assert recording.wait_for(0.02, timeout=5), "an idle monitor delivers nothing"
    start, began = recording.seconds(), time.monotonic()
    assert recording.wait_for(start + 1.0, timeout=2.0)
    rate = (recording.seconds() - start) / (time.monotonic() - began)
    audio = recording.stop()
    assert rate == pytest.approx(1.0, abs=0.25)
    assert not audio.any()


def test_unloading_the_headset_removes_it(sound_server):
    sound_server.unload(sound_server.headset_module)
    assert TEST_HEADSET not in sound_server.names("sinks")
    assert f"{TEST_HEADSET}.monitor" not in sound_server.names("sources")


def test_unloading_the_microphone_removes_it_and_its_feed(sound_server):
    sound_server.unload(sound_server.microphone_module)
    assert TEST_MICROPHONE not in sound_server.names("sources")
    assert TEST_MIC_FEED not in sound_server.names("sinks")


def test_reset_unloads_what_a_test_loaded(sound_server):
    """What the fixture does after each test, so tests can share a server."""
    before, devices = sound_server.module_ids(), sound_server.devices()
    sound_server.add_headset("extra_headset", "Extra Headset")
    sound_server.add_microphone("extra_mic", "Extra Microphone", feed="extra_feed")
    sound_server.set_default_sink("extra_headset")
    sound_server.reset_test_devices(before)
    assert sound_server.module_ids() == before and sound_server.devices() == devices  # the same devices
    assert sound_server.names("sinks") == [TEST_HEADSET, TEST_MIC_FEED]
    assert f"Default Sink: {TEST_HEADSET}" in sound_server.pactl("info")


def test_reset_after_a_test_device_was_unloaded_starts_afresh(sound_server):
    """Loaded again, the devices might be listed in another order (PipeWire): a fresh
    server on the same socket instead."""
    before, socket = sound_server.module_ids(), sound_server.env["PULSE_SERVER"]
    sound_server.unload(sound_server.headset_module)
    sound_server.headset_module = sound_server.add_headset()  # plugged back in: after the microphone's feed now
    assert sound_server.names("sinks") == [TEST_MIC_FEED, TEST_HEADSET]
    sound_server.reset_test_devices(before)
    assert sound_server.env["PULSE_SERVER"] == socket
    assert sound_server.names("sinks") == [TEST_HEADSET, TEST_MIC_FEED]
    before = sound_server.module_ids()
    sound_server.pactl("unload-module", str(sound_server.microphone_module))  # leaves its feed behind
    sound_server.reset_test_devices(before)
    assert sound_server.names("sinks") == [TEST_HEADSET, TEST_MIC_FEED]
    assert TEST_MICROPHONE in sound_server.names("sources")
    assert f"Default Source: {TEST_MICROPHONE}" in sound_server.pactl("info")


def test_a_description_with_quotes_is_refused(sound_server):
    with pytest.raises(ValueError, match="quotes"):
        sound_server.add_headset("quoted", 'The "Best" Headset')


def test_pulse_server_is_pulseaudio(pulse_server):
    assert pulse_server.kind == "pulseaudio"
    assert os.environ["PULSE_SERVER"] == pulse_server.env["PULSE_SERVER"]
    assert "Server Name: pulseaudio" in pulse_server.pactl("info")


@pytest.mark.parametrize("kind", sound_servers.KINDS)
def test_stop_leaves_no_process_behind(kind, tmp_path):
    if missing := sound_servers.missing_tools(kind):
        pytest.skip(f"{kind} not installed ({', '.join(missing)} missing)")
    server = sound_servers.STARTERS[kind](tmp_path / "server")
    server.add_test_devices()
    server.play(tone(tmp_path / "t.wav", 440, 5.0), TEST_HEADSET)  # still playing at stop()
    pids = server.pids() + [p.pid for p in server.players]
    assert server.start_seconds < 10
    server.stop()
    assert server.leftovers() == []
    ps = subprocess.run(["ps", "-e", "-o", "pid=,stat="], capture_output=True, text=True, check=True)
    alive = {int(pid) for pid, stat in (line.split() for line in ps.stdout.splitlines()) if not stat.startswith("Z")}
    assert not alive & set(pids)

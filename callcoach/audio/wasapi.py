"""Windows: microphones, and what plays on an output by WASAPI loopback, through the
`soundcard` package (PortAudio as shipped with sounddevice has no loopback devices).

Not run here (no Windows machine): the device listing and naming are tested on endpoint
descriptions as Windows gives them; the recording loop is kept this small on purpose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import numpy as np

from callcoach.audio.block import SAMPLE_RATE
from callcoach.audio.capture import FRAGMENT_S, CaptureSource
from callcoach.audio.devices import CapturePlan, Device, DeviceKind, DeviceList
from callcoach.errors import CallCoachError


def _soundcard():
    try:
        import soundcard
    except Exception as exc:  # ImportError, or COM failing to start
        raise CallCoachError(f"the soundcard package cannot be used for WASAPI ({exc})") from None
    return soundcard


def hardware_of(name: str) -> str | None:
    """"Headset Microphone (Jabra Evolve2 65)" and "Headset Earphone (Jabra Evolve2 65)" are
    endpoints of one device: the name in the last brackets, which may nest ("(Realtek(R) Audio)")."""
    name = name.rstrip()
    if not name.endswith(")"):
        return None
    depth = 0
    for i in range(len(name) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(name[i], 0)
        if depth == 0:
            return name[i + 1:-1].strip() or None
    return None


def device_list(speakers: Iterable, microphones: Iterable, default_speaker: str | None,
                default_microphone: str | None) -> DeviceList:
    """soundcard's speakers and microphones (objects with .id and .name) as our devices;
    loopback microphones are outputs, never inputs."""
    inputs = tuple(Device(m.id, m.name, DeviceKind.INPUT, m.id == default_microphone, hardware_of(m.name))
                   for m in microphones if not getattr(m, "isloopback", False))
    outputs = tuple(Device(s.id, s.name, DeviceKind.OUTPUT, s.id == default_speaker, hardware_of(s.name))
                    for s in speakers)
    return DeviceList(inputs, outputs, "WASAPI")


def _listing() -> DeviceList:
    sc = _soundcard()
    try:
        return device_list(sc.all_speakers(), sc.all_microphones(), sc.default_speaker().id,
                           sc.default_microphone().id)
    except Exception as exc:  # COM errors: the audio service is not running
        raise CallCoachError(f"Windows audio does not answer ({exc})") from None


class _Recorder:
    """One device recorded on a thread of its own, 20 ms at a time."""

    def __init__(self, device: Device, on_audio: Callable[[np.ndarray], None], on_ended: Callable[[str], None]):
        sc = _soundcard()
        self._mic = sc.get_microphone(device.id, include_loopback=device.kind is DeviceKind.OUTPUT)
        self._on_audio, self._on_ended = on_audio, on_ended
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="callcoach-wasapi", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        frames = int(FRAGMENT_S * SAMPLE_RATE)
        try:
            # WASAPI converts to 16 kHz mono; a silent loopback gives zeros (soundcard times them).
            with self._mic.recorder(samplerate=SAMPLE_RATE, channels=1, blocksize=frames) as recorder:
                while not self._stop.is_set():
                    self._on_audio(np.ascontiguousarray(recorder.record(frames)[:, 0], np.float32))
        except Exception as exc:  # the device was unplugged or disabled
            if not self._stop.is_set():
                self._on_ended(f"the device stopped ({exc})")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)


class WasapiSource(CaptureSource):
    def _listing(self) -> DeviceList:
        return _listing()

    def _record(self, device: Device, on_audio, on_ended) -> _Recorder:
        return _Recorder(device, on_audio, on_ended)


class WasapiSystem:
    def devices(self) -> DeviceList:
        return _listing()

    def open(self, plan: CapturePlan) -> WasapiSource:
        return WasapiSource(plan.targets())

    def play(self, output: Device, samples: np.ndarray) -> None:
        _soundcard().get_speaker(output.id).play(samples, samplerate=SAMPLE_RATE)

    def close(self) -> None:
        pass

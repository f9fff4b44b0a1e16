"""The desktop's sound system behind one interface: what it can hear, and a call's source.

- Linux: PulseAudio, or PipeWire through pipewire-pulse (what current Ubuntu and Fedora
  run): microphones, and what plays on an output through its monitor.
- Windows: WASAPI through the `soundcard` package: microphones, and an output by loopback.
- Otherwise (macOS; Linux with bare ALSA): PortAudio inputs only. A call is then heard
  through an input that carries it (BlackHole on macOS, a desk-phone tap, a virtual cable).
"""

from __future__ import annotations

import logging
import sys
from typing import Protocol

import numpy as np

from callcoach.audio.block import SAMPLE_RATE, Source
from callcoach.audio.devices import CapturePlan, Device, DeviceKind, DeviceList
from callcoach.errors import CallCoachError

log = logging.getLogger("callcoach.events")

TONE_AMPLITUDE = 0.25  # -12 dBFS: plainly audible, far from clipping


def tone(hz: float, seconds: float, amplitude: float = TONE_AMPLITUDE) -> np.ndarray:
    """A test tone to play on an output: 16 kHz mono float32."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


class SoundSystem(Protocol):
    def devices(self) -> DeviceList: ...

    def open(self, plan: CapturePlan) -> Source: ...

    def play(self, output: Device, samples: np.ndarray) -> None:
        """Play 16 kHz mono float32 on an output (a test tone); returns once played."""

    def close(self) -> None: ...


def sound_system() -> SoundSystem:
    """The best sound system this desktop has. Raises CallCoachError when there is none."""
    if sys.platform == "win32":
        from callcoach.audio.wasapi import WasapiSystem

        return WasapiSystem()
    if sys.platform.startswith("linux"):
        from callcoach.audio.pulse.client import ServerUnavailable
        from callcoach.audio.pulse.system import PulseSystem

        try:
            return PulseSystem.connect()
        except ServerUnavailable as exc:
            log.info("no PulseAudio/PipeWire server, using PortAudio inputs: %s", exc)
    return PortAudioSystem()


NO_LOOPBACK = {
    "darwin": "macOS: capturing what plays on an output is not built yet; route the call through "
              "BlackHole and choose it under 'An input carries the call' (see the README)",
}
NO_LOOPBACK_OTHER = ("no PulseAudio or PipeWire server answered, so what plays on an output cannot be captured; "
                     "start the desktop's sound server, or choose 'An input carries the call'")


class PortAudioSystem:
    """Inputs through PortAudio (ALSA on Linux, Core Audio on macOS); no outputs."""

    def devices(self) -> DeviceList:
        from callcoach.audio import live

        names = live.list_input_devices()  # CallCoachError when PortAudio is missing
        default = live.default_input_name()
        version = live.portaudio_version()
        inputs = tuple(Device(name, name, DeviceKind.INPUT, name == default) for name in names)
        return DeviceList(inputs, (), version, NO_LOOPBACK.get(sys.platform, NO_LOOPBACK_OTHER))

    def open(self, plan: CapturePlan) -> Source:
        from callcoach.audio.live import LiveSource

        mic, call = plan.resolve(self.devices())
        return LiveSource({"agent": mic.name, "customer": call.name})

    def play(self, output: Device, samples: np.ndarray) -> None:
        raise CallCoachError("no outputs here to play on")

    def close(self) -> None:
        pass

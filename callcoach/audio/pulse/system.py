"""PulseAudio or PipeWire (through pipewire-pulse) as the desktop's sound system."""

from __future__ import annotations

import numpy as np

from callcoach.audio.devices import CapturePlan, Device, DeviceList

from .client import PulseClient
from .devices import device_list
from .source import PulseSource


class PulseSystem:
    def __init__(self, client: PulseClient):
        self._client = client  # for listing and the test tone; closed by close()

    @classmethod
    def connect(cls) -> PulseSystem:
        """ServerUnavailable when no server answers (within a few seconds, no autospawn)."""
        return cls(PulseClient())

    def devices(self) -> DeviceList:
        return device_list(self._client).listing

    def play(self, output: Device, samples: np.ndarray) -> None:
        """Play 16 kHz mono float32 on `output` (a test tone); returns once played."""
        self._client.play(output.id, samples)

    def open(self, plan: CapturePlan) -> PulseSource:
        return PulseSource(plan.targets())

    def close(self) -> None:
        self._client.close()

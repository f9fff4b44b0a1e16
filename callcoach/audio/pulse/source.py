"""Capture through PulseAudio, or PipeWire through pipewire-pulse: a microphone is a source,
an output is heard through its sink's monitor, recorded with DONT_MOVE (see client.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from callcoach.audio.capture import FRAGMENT_S, RECONNECT_EVERY_S, CaptureSource, Recording
from callcoach.audio.devices import Device, DeviceList, Target

from .client import PulseClient, ServerUnavailable
from .devices import PulseDevices, device_list

log = logging.getLogger("callcoach.events")


class PulseSource(CaptureSource):
    def __init__(self, roles: dict[str, Target], queue_fragments: int = 1000):
        self._client = PulseClient()
        self._devices: PulseDevices | None = None
        self._client_retry_at = 0.0
        try:
            super().__init__(roles, queue_fragments)
        except BaseException:
            self._client.close()
            raise
        self._client.on_failure(self._wake.set)

    def _listing(self) -> DeviceList:
        self._devices = device_list(self._client)
        return self._devices.listing

    def _record(self, device: Device, on_audio: Callable[[np.ndarray], None],
                on_ended: Callable[[str], None]) -> Recording:
        return self._client.record(self._devices.record_from(device), on_audio, on_ended, FRAGMENT_S)

    def _connected(self, now: float) -> bool:
        """A server that went away (restarted, crashed) is connected to again once a second."""
        if not self._client.failed.is_set():
            return True
        if now < self._client_retry_at:
            return False
        self._client_retry_at = now + RECONNECT_EVERY_S
        try:
            client = PulseClient()
        except ServerUnavailable:
            return False
        self._client.close()
        self._client = client
        client.on_failure(self._wake.set)
        log.info("reconnected to the sound server")
        return True

    def _shutdown(self) -> None:
        self._client.close()

"""Capture through PulseAudio, or PipeWire through pipewire-pulse: a microphone is a source,
an output is heard through its sink's monitor, recorded with DONT_MOVE (see client.py).

One reader thread takes what every recording has received, every FRAGMENT_S, and hands it
on (it only copies and queues, like an audio callback)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from callcoach.audio.capture import FRAGMENT_S, RECONNECT_EVERY_S, CaptureSource, Recording
from callcoach.audio.devices import Device, DeviceList, Target

from .client import PulseClient, RecordStream, ServerUnavailable
from .devices import PulseDevices, device_list

log = logging.getLogger("callcoach.events")
# The fragment size asked of the server. PipeWire sends exactly this much at a time, so with
# 50 ms fragments a sound reached us 0.12-0.17 s after it was played, with 20 ms 0.06-0.10 s
# (the reader still takes it every FRAGMENT_S); PulseAudio sends 5 ms pieces either way.
SERVER_FRAGMENT_S = 0.02


class _Polled:
    """A recording the reader thread reads until it is closed."""

    def __init__(self, stream: RecordStream, on_audio: Callable[[np.ndarray], None]):
        self.stream = stream
        self.on_audio = on_audio
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.stream.close()


class PulseSource(CaptureSource):
    def __init__(self, roles: dict[str, Target], queue_fragments: int = 1000):
        self._client = PulseClient()
        self._devices: PulseDevices | None = None
        self._client_retry_at = 0.0
        self._recordings: list[_Polled] = []
        self._reader: threading.Thread | None = None
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
        stream = self._client.record(self._devices.record_from(device), on_ended, SERVER_FRAGMENT_S)
        recording = _Polled(stream, on_audio)
        self._recordings = [r for r in self._recordings if not r.closed] + [recording]
        if self._reader is None:
            self._reader = threading.Thread(target=self._read, name="callcoach-audio-reader", daemon=True)
            self._reader.start()
        return recording

    def _read(self) -> None:
        while not self._closed.wait(FRAGMENT_S):
            for recording in self._recordings:
                samples = None if recording.closed else recording.stream.read()
                if samples is not None:
                    recording.on_audio(samples)

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

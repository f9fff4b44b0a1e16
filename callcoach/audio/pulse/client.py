"""A connection to the desktop's PulseAudio or PipeWire server: what devices it has, and
record streams from them.

libpulse's threaded main loop runs the protocol on its own thread and calls us back there
(holding its lock). We never wait on that loop: each request's callback fills a Python
object and sets an Event that the caller waits for with a timeout, so a server that stops
answering gives a clear error instead of a hang.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from collections.abc import Callable, Iterator
from ctypes import byref, c_size_t, c_void_p
from dataclasses import dataclass

import numpy as np

from callcoach.errors import CallCoachError

from . import lib as pa

TIMEOUT_S = 3.0  # for the server to answer a request
RATE = 16_000  # the server resamples and downmixes for us: 16 kHz mono float32


class ServerUnavailable(CallCoachError):
    """No PulseAudio or PipeWire server answered."""


@dataclass(frozen=True)
class PulseDevice:
    """A sink (output) or a source (input) as the server describes it."""

    name: str  # the server's id, e.g. alsa_output.usb-GN_Netcom_A_S_Jabra_EVOLVE_65-00.analog-stereo
    description: str  # what a person sees, e.g. "Jabra EVOLVE 65 Analog Stereo"
    card: int | None  # the sound card it belongs to (the headset's mic and earpiece share one)
    monitor: str  # sinks: the source that hears what plays on it; sources: the sink it monitors, or ""


@dataclass(frozen=True)
class ServerState:
    """The server's device lists and defaults, read in one go."""

    server: str
    default_sink: str
    default_source: str
    sinks: tuple[PulseDevice, ...]
    sources: tuple[PulseDevice, ...]  # monitors included (their `monitor` names the sink)


class PulseClient:
    def __init__(self, app_name: str = "CallCoach", timeout_s: float = TIMEOUT_S):
        try:
            self._lib = pa.library()
        except pa.LibraryMissing as exc:
            raise ServerUnavailable(str(exc)) from None
        self.timeout_s = timeout_s
        self._loop = self._lib.pa_threaded_mainloop_new()
        self._ctx = self._lib.pa_context_new(self._lib.pa_threaded_mainloop_get_api(self._loop), app_name.encode())
        self._settled = threading.Event()
        self.failed = threading.Event()  # the connection broke (the server went away)
        self._on_failure: list[Callable[[], None]] = []
        self._keep: list[object] = []  # callbacks libpulse may still call
        self._context_cb = pa.ContextNotify(self._context_changed)
        self._lib.pa_context_set_state_callback(self._ctx, self._context_cb, None)
        # No autospawn: starting a sound server is the desktop's business, not ours.
        if self._lib.pa_context_connect(self._ctx, None, pa.CONTEXT_NOAUTOSPAWN, None) < 0:
            reason = self._error()
            self._free()
            raise ServerUnavailable(f"no PulseAudio or PipeWire server ({reason})")
        self._lib.pa_threaded_mainloop_start(self._loop)
        if not self._settled.wait(timeout_s) or self.failed.is_set():
            reason = self._error() if self.failed.is_set() else f"no answer within {timeout_s:.0f} s"
            self.close()
            raise ServerUnavailable(f"no PulseAudio or PipeWire server ({reason})")

    def _context_changed(self, ctx, _userdata) -> None:
        state = self._lib.pa_context_get_state(ctx)
        if state in (pa.CONTEXT_FAILED, pa.CONTEXT_TERMINATED):
            self.failed.set()
            for hook in list(self._on_failure):
                hook()
        if state in (pa.CONTEXT_READY, pa.CONTEXT_FAILED, pa.CONTEXT_TERMINATED):
            self._settled.set()

    def on_failure(self, hook: Callable[[], None]) -> None:
        """Call `hook` (on the server's thread; keep it trivial) if the connection breaks."""
        self._on_failure.append(hook)

    def _error(self) -> str:
        return pa.text(self._lib.pa_strerror(self._lib.pa_context_errno(self._ctx)))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._lib.pa_threaded_mainloop_lock(self._loop)
        try:
            yield
        finally:
            self._lib.pa_threaded_mainloop_unlock(self._loop)

    # -- what the server has -----------------------------------------------------------------

    def state(self) -> ServerState:
        server = self._request("pa_context_get_server_info", pa.ServerInfoCallback, _server_info)
        sinks = self._request("pa_context_get_sink_info_list", pa.SinkInfoCallback, _device, listing=True)
        sources = self._request("pa_context_get_source_info_list", pa.SourceInfoCallback, _device, listing=True)
        name, default_sink, default_source = server[0]
        return ServerState(name, default_sink, default_source, tuple(sinks), tuple(sources))

    def _request(self, function: str, callback_type, convert, listing: bool = False) -> list:
        if self.failed.is_set():
            raise ServerUnavailable("the sound server connection was lost")
        results: list = []
        done = threading.Event()

        def callback(_ctx, info, *rest) -> None:
            eol = rest[0] if listing else 0
            if eol or not info:
                done.set()
                return
            results.append(convert(info.contents))
            if not listing:
                done.set()

        cb = callback_type(callback)
        with self._locked():
            op = getattr(self._lib, function)(self._ctx, cb, None)
        if not op:
            raise ServerUnavailable(f"the sound server refused a request ({self._error()})")
        answered = done.wait(self.timeout_s)
        with self._locked():
            self._lib.pa_operation_unref(op)
        if not answered:
            self._keep.append(cb)  # it may still be called
            raise ServerUnavailable(f"the sound server did not answer within {self.timeout_s:.0f} s")
        return results

    # -- recording ---------------------------------------------------------------------------

    def record(self, source: str, on_ended: Callable[[str], None], fragment_s: float) -> RecordStream:
        return RecordStream(self, source, on_ended, fragment_s)

    def play(self, sink: str, samples: np.ndarray) -> None:
        """Play 16 kHz mono float32 `samples` on `sink`; returns once they were played."""
        stream = PlaybackStream(self, sink)
        try:
            stream.play(samples)
        finally:
            stream.close()

    def close(self) -> None:
        if self._loop is None:
            return
        with self._locked():
            self._lib.pa_context_disconnect(self._ctx)
        self._lib.pa_threaded_mainloop_stop(self._loop)
        self._free()

    def _free(self) -> None:
        self._lib.pa_context_unref(self._ctx)
        self._lib.pa_threaded_mainloop_free(self._loop)
        self._loop = None


class _Stream:
    """A stream of 16 kHz mono float32, connected and READY, or a CallCoachError saying why not."""

    def __init__(self, client: PulseClient, device: str, title: str):
        self._client = client
        self._lib = client._lib
        self.device = device
        self._settled = threading.Event()
        self._closing = False
        self._ended = False
        self._state_cb = pa.StreamNotify(self._state_changed)
        spec = pa.SampleSpec(pa.SAMPLE_FLOAT32LE, RATE, 1)
        with client._locked():
            self._stream = self._lib.pa_stream_new(client._ctx, title.encode(), byref(spec), None)
            if not self._stream:
                raise CallCoachError(f"cannot open '{device}': {client._error()}")
            self._lib.pa_stream_set_state_callback(self._stream, self._state_cb, None)
            self._prepare()
            connected = self._connect()
        if connected < 0 or not self._settled.wait(client.timeout_s) or self._ended:
            reason = client._error() if connected < 0 or self._ended else "no answer"
            self.close()
            raise CallCoachError(f"cannot open '{device}': {reason}")

    def _prepare(self) -> None:
        """Set callbacks before connecting (under the lock)."""

    def _connect(self) -> int:
        raise NotImplementedError

    def _state_changed(self, stream, _userdata) -> None:
        state = self._lib.pa_stream_get_state(stream)
        if state == pa.STREAM_READY:
            self._settled.set()
        elif state in (pa.STREAM_FAILED, pa.STREAM_TERMINATED):
            was_running = self._settled.is_set()
            self._ended = True
            self._settled.set()
            if was_running and not self._closing:
                self._lost("the device was removed" if state == pa.STREAM_FAILED else "the stream ended")

    def _lost(self, reason: str) -> None:
        """The server ended a running stream (its device went away)."""

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._stream and self._client._loop is not None:
            with self._client._locked():
                self._lib.pa_stream_disconnect(self._stream)
                self._lib.pa_stream_unref(self._stream)
        self._stream = None


class RecordStream(_Stream):
    """16 kHz mono float32 from one source (a microphone, or the monitor of a sink), taken
    with `read()`.

    Created with DONT_MOVE: if its source goes away the server ends the stream (and we say
    so through `on_ended`, on the server's thread) instead of quietly moving it to another
    source. No read callback: while something plays the server sends pieces as small as
    5 ms, and a Python callback for each costs ~10 % of a core; the owner reads what has
    come every few tens of ms instead.
    """

    def __init__(self, client: PulseClient, source: str, on_ended: Callable[[str], None], fragment_s: float):
        self._on_ended = on_ended
        self._fragment_bytes = int(RATE * fragment_s) * 4
        super().__init__(client, source, "Call audio capture")

    def _connect(self) -> int:
        unset = 0xFFFFFFFF  # the server's choice
        self._attr = pa.BufferAttr(unset, unset, unset, unset, self._fragment_bytes)
        flags = pa.STREAM_DONT_MOVE | pa.STREAM_ADJUST_LATENCY  # without it the server buffers ~2 s
        return self._lib.pa_stream_connect_record(self._stream, self.device.encode(), byref(self._attr), flags)

    def _lost(self, reason: str) -> None:
        self._on_ended(reason)

    def read(self) -> np.ndarray | None:
        """All the audio the server has sent since the last read, or None."""
        parts = []
        data, size = c_void_p(), c_size_t()
        with self._client._locked():
            if self._stream is None or self._ended:
                return None
            while self._lib.pa_stream_peek(self._stream, byref(data), byref(size)) == 0 and size.value:
                part = np.empty(size.value // 4, np.float32)
                if data.value:
                    ctypes.memmove(part.ctypes.data, data.value, part.nbytes)
                else:  # a hole in the stream: silence keeps the clock right
                    part.fill(0.0)
                self._lib.pa_stream_drop(self._stream)
                parts.append(part)
        return np.concatenate(parts) if parts else None


class PlaybackStream(_Stream):
    """Plays 16 kHz mono float32 on one sink (a test tone), then closes."""

    def __init__(self, client: PulseClient, sink: str):
        self._writable = threading.Event()
        self._write_cb = pa.StreamRequest(lambda *_: self._writable.set())
        super().__init__(client, sink, "CallCoach test tone")

    def _prepare(self) -> None:
        self._lib.pa_stream_set_write_callback(self._stream, self._write_cb, None)

    def _connect(self) -> int:
        return self._lib.pa_stream_connect_playback(self._stream, self.device.encode(), None, pa.STREAM_DONT_MOVE,
                                                    None, None)

    def play(self, samples: np.ndarray) -> None:
        """Write all of `samples`, then wait until the server has played them."""
        data = np.ascontiguousarray(samples, np.float32).tobytes()
        deadline = time.monotonic() + len(samples) / RATE + self._client.timeout_s
        sent = 0
        while sent < len(data):
            if self._ended or time.monotonic() > deadline:
                raise CallCoachError(f"could not play on '{self.device}'")
            self._writable.clear()
            with self._client._locked():
                room = self._lib.pa_stream_writable_size(self._stream)
                if room != ctypes.c_size_t(-1).value:  # -1: the stream broke; the loop notices _ended
                    chunk = data[sent:sent + room]
                    self._lib.pa_stream_write(self._stream, chunk, len(chunk), None, 0, 0)  # libpulse copies it
                    sent += len(chunk)
            if sent < len(data):
                self._writable.wait(0.1)
        drained = threading.Event()
        drain_cb = pa.StreamSuccess(lambda *_: drained.set())
        with self._client._locked():
            op = self._lib.pa_stream_drain(self._stream, drain_cb, None)
        drained.wait(max(0.0, deadline - time.monotonic()))
        if op:
            with self._client._locked():
                self._lib.pa_operation_unref(op)


def _server_info(info: pa.ServerInfo) -> tuple[str, str, str]:
    return (f"{pa.text(info.server_name)} {pa.text(info.server_version)}", pa.text(info.default_sink_name),
            pa.text(info.default_source_name))


def _device(info) -> PulseDevice:
    card = None if info.card == pa.INVALID_INDEX else int(info.card)
    monitor = info.monitor_source_name if isinstance(info, pa.SinkInfo) else info.monitor_of_sink_name
    return PulseDevice(pa.text(info.name), pa.text(info.description) or pa.text(info.name), card, pa.text(monitor))

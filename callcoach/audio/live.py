"""Live capture from two input devices (agent headset, call audio) via PortAudio.

sounddevice is imported lazily: importing this module never fails, and a missing
PortAudio library becomes a one-line CallCoachError when a device is actually needed.
"""

import logging
import queue
import threading
import time
from collections.abc import Iterator
from math import ceil

import numpy as np

from ..errors import CallCoachError
from .block import ROLES, SAMPLE_RATE, AudioBlock
from .resample import StreamingResampler, downmix

log = logging.getLogger("callcoach.events")

# How long blocks() waits on the queue before checking whether it was stopped.
POLL_SECONDS = 0.1


def _sounddevice():
    try:
        import sounddevice
    except OSError as e:  # sounddevice raises OSError when libportaudio is not found
        raise CallCoachError(
            f"PortAudio is not installed (libportaudio2); install it to use live devices ({e})"
        ) from None
    except ImportError:
        raise CallCoachError("the sounddevice Python package is not installed") from None
    return sounddevice


def _input_devices() -> list[dict]:
    sd = _sounddevice()
    return [dict(d) for d in sd.query_devices() if d["max_input_channels"] > 0]


def list_input_devices() -> list[str]:
    """Names of the devices that can record, in PortAudio's order."""
    return [d["name"] for d in _input_devices()]


def refresh_devices() -> None:
    """Make PortAudio rescan devices (it lists them once, when first initialised)."""
    sd = _sounddevice()
    # No public API for this in sounddevice; re-initialising PortAudio is the known way.
    sd._terminate()
    sd._initialize()


def find_device(name: str) -> dict:
    """The input device called `name`: an exact name first, then a unique
    case-insensitive substring. Returns sounddevice's device dict (with "index")."""
    devices = _input_devices()
    exact = [d for d in devices if d["name"] == name]
    if exact:
        return exact[0]  # the same name on two host APIs: the first is the default API
    needle = name.casefold()
    partial = [d for d in devices if needle in d["name"].casefold()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise CallCoachError(
            f"input device name '{name}' is ambiguous; it matches: "
            + ", ".join(d["name"] for d in partial)
        )
    available = ", ".join(d["name"] for d in devices) or "none found"
    raise CallCoachError(f"no input device named '{name}'; available input devices: {available}")


class LiveSource:
    """Captures each role from its own input device and yields 16 kHz AudioBlocks.

    The PortAudio callbacks only copy audio into a bounded queue; all conversion happens
    in `blocks()`, on the consumer's thread. When the consumer falls behind and the queue
    is full, blocks are dropped (counted in `dropped_blocks`) and the role's clock jumps
    over them, so the two roles stay aligned in time.
    """

    def __init__(self, devices: dict[str, str], block_seconds=0.05, queue_blocks=200):
        unknown = set(devices) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; expected some of {ROLES}")
        self._queue: queue.Queue = queue.Queue(maxsize=queue_blocks * max(1, len(devices)))
        self._dropped = {role: 0 for role in devices}  # each written by one callback only
        self._status = {role: 0 for role in devices}
        # Device frame of each role's next block; None until its first callback, which
        # places it on the shared clock (devices start up to ~2 s apart).
        self._next_frame: dict[str, int | None] = {role: None for role in devices}
        self._t0 = 0.0  # monotonic time the streams were started: frame 0 of every role
        self._rates: dict[str, int] = {}
        self._streams = {}
        self._closed = threading.Event()
        self._started = False
        try:
            for role, name in devices.items():
                self._streams[role] = self._open(role, name, block_seconds)
        except BaseException:
            self._close_streams()
            raise

    def _open(self, role: str, name: str, block_seconds: float):
        sd = _sounddevice()
        info = find_device(name)
        rate = int(round(info["default_samplerate"]))
        self._rates[role] = rate
        try:
            stream = sd.InputStream(
                device=info["index"],
                samplerate=rate,
                channels=min(2, info["max_input_channels"]),
                dtype="float32",
                blocksize=max(1, round(block_seconds * rate)),
                callback=self._callback_for(role),
            )
        except Exception as e:
            msg = " ".join(str(e).split())
            raise CallCoachError(f"cannot open input device '{info['name']}': {msg}") from None
        log.info("input device opened for the %s: %s (%d Hz)", role, info["name"], rate)
        return stream

    def _callback_for(self, role: str):
        q = self._queue
        rate = self._rates[role]

        def callback(indata, frames, _time, status):
            # Runs on PortAudio's real-time thread: copy and hand over, nothing else.
            if status:
                self._status[role] += 1
            start = self._next_frame[role]
            if start is None:  # first block: how long after the common start did it begin?
                start = max(0, round((time.monotonic() - frames / rate - self._t0) * rate))
            self._next_frame[role] = start + frames
            try:
                q.put_nowait((role, start, indata.copy()))
            except queue.Full:
                self._dropped[role] += 1

        return callback

    @property
    def dropped_blocks(self) -> int:
        """Raw device blocks lost because the consumer fell behind."""
        return sum(self._dropped.values())

    @property
    def status_events(self) -> int:
        """Callbacks that reported a PortAudio status flag (e.g. input overflow)."""
        return sum(self._status.values())

    @property
    def sample_rates(self) -> dict[str, int]:
        """Device sample rate per role (before resampling to 16 kHz)."""
        return dict(self._rates)

    def start(self) -> None:
        """Start capturing (blocks() does this itself if needed)."""
        if self._started:
            return
        self._started = True
        self._t0 = time.monotonic()
        for stream in self._streams.values():
            stream.start()

    def stop(self) -> None:
        """Stop and close the devices. blocks() still delivers what was queued, then ends."""
        self._close_streams()
        self._closed.set()

    def _close_streams(self) -> None:
        for stream in self._streams.values():
            try:
                stream.close()  # waits for a running callback to finish
            except Exception:
                pass  # a device that vanished cannot be closed any further

    def blocks(self) -> Iterator[AudioBlock]:
        """Yield AudioBlocks until stop(); the audio queued at stop() is not lost."""
        if not self._closed.is_set():
            self.start()
        converters = {role: _RoleConverter(role, rate) for role, rate in self._rates.items()}
        while True:
            try:
                role, start, data = self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                # Closing happens before _closed is set, so once it is set, nothing new
                # can arrive: whatever is left in the queue is all there is.
                if self._closed.is_set() and self._queue.empty():
                    break
                continue
            yield from converters[role].convert(start, data)
        for conv in converters.values():
            yield from conv.finish()


class _RoleConverter:
    """Turns one role's raw device blocks into 16 kHz AudioBlocks on that role's clock."""

    def __init__(self, role: str, rate: int):
        self.role = role
        self.rate = rate
        self.resampler = StreamingResampler(rate, SAMPLE_RATE)
        self.expected_frame = 0  # next device frame if nothing was dropped
        self.clock = 0  # next 16 kHz sample index

    def convert(self, start_frame: int, data: np.ndarray) -> Iterator[AudioBlock]:
        if self.expected_frame == 0 and start_frame > 0:
            # The device started after the call did: its lead-in is silence, not a gap.
            yield from self._emit(np.zeros(ceil(start_frame * SAMPLE_RATE / self.rate), np.float32))
            self.expected_frame = start_frame
        if start_frame > self.expected_frame:
            # Blocks were dropped: end this stretch, restart the clock after the gap.
            yield from self.finish()
            self.clock = max(self.clock, ceil(start_frame * SAMPLE_RATE / self.rate))
        self.expected_frame = start_frame + len(data)
        yield from self._emit(self.resampler.process(downmix(data)))

    def finish(self) -> Iterator[AudioBlock]:
        yield from self._emit(self.resampler.flush())

    def _emit(self, samples: np.ndarray) -> Iterator[AudioBlock]:
        if len(samples):
            yield AudioBlock(self.role, self.clock, samples)
            self.clock += len(samples)

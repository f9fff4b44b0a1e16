"""Live capture from two input devices (agent headset, call audio) via PortAudio.

sounddevice is imported lazily: importing this module never fails, and a missing
PortAudio library becomes a one-line CallCoachError when a device is actually needed.

Devices come and go during a call (a headset unplugged, a Bluetooth link dropping, a
virtual device removed). A watchdog thread per source notices a device that stopped: no
callback for `lost_after_s`, or PortAudio ending the stream. It closes that stream, says
so in the stream of blocks (`DeviceLost`), and tries to reopen the device *by name* about
once a second (`DeviceBack` when audio flows again). The other device's stream is never
touched, except when PortAudio itself has to be restarted to see a device that came back
under a new identity (see `_Watchdog`). Both roles stay on one call clock throughout: a
reopened device's blocks are stamped at real call time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from math import ceil

import numpy as np

from ..errors import CallCoachError
from ..roles import DEVICE_WORD, ROLES
from .block import SAMPLE_RATE, AudioBlock, AudioDropped, DeviceBack, DeviceLost
from .handoff import CaptureEvent, Handoff, Lost, QueuedCapture
from .resample import StreamingResampler, downmix

log = logging.getLogger("callcoach.events")

# How long blocks() waits on the queue before checking whether it was stopped.
POLL_SECONDS = 0.1
# A running device with no callback for this long is lost. PulseAudio delivers 50 ms blocks
# in bursts up to ~150 ms apart, and a busy machine delays them more: 10 blocks' time.
LOST_AFTER_S = 0.5
# A (re)opened device may take this long to deliver its first block (an idle PulseAudio
# null sink takes 2 s, a Bluetooth headset about as long).
START_GRACE_S = 5.0
# A stream whose ADC time jumps by more than lost_after_s with no overflow flagged has lost
# its device (PortAudio's ALSA layer keeps calling back with stale audio after a PulseAudio
# source vanished). Checked once the stream has settled (its first blocks jitter).
SETTLED_AFTER_BLOCKS = 20
RECONNECT_EVERY_S = 1.0  # how often a lost device is tried again
PROBE_EVERY_S = 2.0  # how often a fresh process is asked whether PortAudio would see it
REINIT_FALLBACK_S = 10.0  # without such a process (a frozen app): restart PortAudio this often

# Opening, closing and restarting PortAudio streams, across every LiveSource (a restart
# invalidates every stream in the process).
_PA_LOCK = threading.RLock()
_SOURCES: weakref.WeakSet = weakref.WeakSet()


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


def portaudio_version() -> str:
    """PortAudio's version, as `doctor` reports it ("PortAudio V19.7.0-devel")."""
    return _sounddevice().get_portaudio_version()[1].split(",")[0]


def _input_devices() -> list[dict]:
    sd = _sounddevice()
    return [dict(d) for d in sd.query_devices() if d["max_input_channels"] > 0]


def list_input_devices() -> list[str]:
    """Names of the devices that can record, in PortAudio's order."""
    return [d["name"] for d in _input_devices()]


def default_input_name() -> str | None:
    """PortAudio's default input device, if it has one."""
    sd = _sounddevice()
    index = sd.default.device[0]
    if index is None or index < 0:
        return None
    return sd.query_devices(index)["name"]


def refresh_devices() -> None:
    """Make PortAudio rescan devices (it lists them once, when first initialised).

    Restarting PortAudio ends every stream in the process, so running LiveSources close
    their streams first and reopen them after (each shows as a short device gap)."""
    _restart_portaudio("PortAudio was restarted to rescan devices")


def _restart_portaudio(reason: str) -> None:
    sd = _sounddevice()
    with _PA_LOCK:
        sources = list(_SOURCES)
        for source in sources:
            source._suspend(reason)
        # No public API for this in sounddevice; re-initialising PortAudio is the known way.
        sd._terminate()
        sd._initialize()
        for source in sources:
            source._resume()


def _choose(devices: list[dict], name: str) -> dict:
    """An exact name first, then a unique case-insensitive substring."""
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


def find_device(name: str) -> dict:
    """The input device called `name`: an exact name first, then a unique
    case-insensitive substring. Returns sounddevice's device dict (with "index")."""
    return _choose(_input_devices(), name)


# Run in a fresh process: can a freshly started PortAudio open the device `argv[1]`?
_PROBE = """
import sys
import sounddevice as sd
name = sys.argv[1]
devices = [dict(d) for d in sd.query_devices() if d["max_input_channels"] > 0]
exact = [d for d in devices if d["name"] == name]
partial = [d for d in devices if name.casefold() in d["name"].casefold()]
found = exact[0] if exact else partial[0] if len(partial) == 1 else None
if found is None:
    sys.exit(1)
sd.InputStream(device=found["index"], channels=min(2, found["max_input_channels"]),
               samplerate=found["default_samplerate"]).close()
"""


def _fresh_portaudio_can_open(name: str) -> bool | None:
    """Whether a new PortAudio (in a child process, ~0.1 s) can open `name`; None when
    this cannot be asked (a frozen app has no Python to run)."""
    if getattr(sys, "frozen", False):
        return None
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, name], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.returncode == 0


@contextlib.contextmanager
def _quiet_stderr():
    """ALSA prints every failed open to stderr; a device being retried each second would
    fill the log. Like sounddevice's own initialisation, point fd 2 at /dev/null meanwhile."""
    try:
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        yield
        return
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class LiveSource(QueuedCapture):
    """Captures each role from its own input device and yields 16 kHz AudioBlocks.

    The PortAudio callbacks only copy audio into a bounded queue (and count); all
    conversion happens in `stream()`/`blocks()`, on the consumer's thread. When the
    consumer falls behind and the queue is full, blocks are dropped (counted per role) and
    the role's clock jumps over them, so the two roles stay aligned in time; an input
    overflow of the device moves the clock by the jump in its ADC time the same way.
    `stream()` says so (`AudioDropped`), and when a device is lost and back.
    """

    def __init__(self, devices: dict[str, str], block_seconds=0.05, queue_blocks=200, *,
                 lost_after_s: float = LOST_AFTER_S, reconnect_every_s: float = RECONNECT_EVERY_S,
                 start_grace_s: float = START_GRACE_S):
        unknown = set(devices) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; expected some of {ROLES}")
        self._names = dict(devices)
        self._block_seconds = block_seconds
        self.lost_after_s = max(lost_after_s, 2 * block_seconds)
        self.reconnect_every_s = reconnect_every_s
        self.start_grace_s = start_grace_s
        # (role, epoch, start frame, raw block) from PortAudio's threads, and Lost
        self._queue: Handoff[tuple[str, int, int, np.ndarray] | Lost] = Handoff(
            queue_blocks * max(1, len(devices)), POLL_SECONDS)
        roles = list(devices)
        # Written by each role's callback only, read by the others.
        self._dropped = dict.fromkeys(roles, 0)  # blocks that found the queue full
        self._overflow_frames = dict.fromkeys(roles, 0)  # frames the device overflowed
        self._status = dict.fromkeys(roles, 0)
        self._frames = dict.fromkeys(roles, 0)  # frames captured, queued or not
        self._callbacks = dict.fromkeys(roles, 0)  # of the current stream
        # Device frame of each role's next block; None until the stream's first callback,
        # which places it on the shared clock (devices start up to ~2 s apart).
        self._next_frame: dict[str, int | None] = dict.fromkeys(roles)
        self._adc: dict[str, tuple[float, int]] = {role: (0.0, 0) for role in roles}
        self._heard_at: dict[str, float | None] = dict.fromkeys(roles)  # last callback
        self._failed: dict[str, str | None] = dict.fromkeys(roles)  # PortAudio ended it
        self._t0 = 0.0  # monotonic time the streams were started: frame 0 of every role
        # Streams and their state: changed under _PA_LOCK only.
        self._epoch = dict.fromkeys(roles, 0)  # bumped when a stream is given up on
        self._epoch_rates: dict[tuple[str, int], int] = {}
        self._epoch_blocks: dict[tuple[str, int], int] = {}  # frames per block
        self._rates: dict[str, int] = {}
        self._streams: dict = {}
        self._state = dict.fromkeys(roles, "running")  # or "lost"
        self._opened_at = dict.fromkeys(roles, 0.0)
        self._retry_at = dict.fromkeys(roles, 0.0)
        self._probe_at = dict.fromkeys(roles, 0.0)
        self._last_restart = 0.0
        self.reconnects = dict.fromkeys(roles, 0)
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._stopping = False
        self._started = False
        self._watchdog: threading.Thread | None = None
        try:
            with _PA_LOCK:
                for role in roles:
                    self._streams[role] = self._open(role)
                    log.info("input device opened for the %s: %s (%d Hz)", role, devices[role], self._rates[role])
        except BaseException:
            self._close_streams()
            raise
        _SOURCES.add(self)

    # -- opening -----------------------------------------------------------------------------

    def _open(self, role: str):
        """Open `role`'s device by name for the current epoch (not started). Under _PA_LOCK."""
        sd = _sounddevice()
        name = self._names[role]
        info = find_device(name)
        rate = int(round(info["default_samplerate"]))
        epoch = self._epoch[role]
        block = max(1, round(self._block_seconds * rate))
        self._next_frame[role] = None
        self._adc[role] = (0.0, 0)
        self._heard_at[role] = None
        self._failed[role] = None
        self._callbacks[role] = 0
        self._epoch_rates[(role, epoch)] = rate
        self._epoch_blocks[(role, epoch)] = block
        try:
            stream = sd.InputStream(
                device=info["index"],
                samplerate=rate,
                channels=min(2, info["max_input_channels"]),
                dtype="float32",
                blocksize=block,
                callback=self._callback_for(role, epoch, rate),
                finished_callback=self._finished_for(role, epoch),
            )
        except Exception as e:
            msg = " ".join(str(e).split())
            raise CallCoachError(f"cannot open input device '{info['name']}': {msg}") from None
        self._rates[role] = rate
        self._opened_at[role] = time.monotonic()
        return stream

    def _callback_for(self, role: str, epoch: int, rate: int):
        offer = self._queue.offer

        def callback(indata, frames, time_info, status):
            # Runs on PortAudio's real-time thread: copy and hand over, count, nothing else.
            if self._epoch[role] != epoch or self._failed[role]:
                return  # a stream already given up on, still closing
            now = time.monotonic()
            self._heard_at[role] = now
            self._callbacks[role] += 1
            start = self._next_frame[role]
            if start is None:  # first block: how long after the common start did it begin?
                start = max(0, round((now - frames / rate - self._t0) * rate))
            adc = time_info.inputBufferAdcTime
            if status and status.input_overflow:  # the device lost audio before we saw it
                start += self._overflowed(role, start, adc, now, frames, rate)
            elif adc > 0 and self._callbacks[role] > SETTLED_AFTER_BLOCKS:
                prev_adc, prev_frames = self._adc[role]
                skipped = adc - prev_adc - prev_frames / rate
                if prev_adc > 0 and skipped > self.lost_after_s:
                    self._failed[role] = f"its clock skipped {skipped:.1f} s"  # the watchdog takes it
                    return
            if status:
                self._status[role] += 1
            self._adc[role] = (adc, frames)
            self._next_frame[role] = start + frames
            self._frames[role] += frames
            if not offer((role, epoch, start, indata.copy())):
                self._dropped[role] += 1

        return callback

    def _overflowed(self, role: str, start: int, adc: float, now: float, frames: int, rate: int) -> int:
        """Frames the device lost in an input overflow: the jump in its ADC time (or, when
        the host API gives none, in the wall clock). The clock moves on by as much."""
        prev_adc, prev_frames = self._adc[role]
        if adc > 0 and prev_adc > 0:
            lost = round((adc - prev_adc) * rate) - prev_frames
        else:
            lost = round((now - frames / rate - self._t0) * rate) - start
            lost = lost if lost > frames else 0  # the wall clock jitters by about a block
        lost = max(0, lost)
        self._overflow_frames[role] += lost
        return lost

    def _finished_for(self, role: str, epoch: int):
        def finished():
            # PortAudio ended the stream: we closed it, or the device failed.
            if self._epoch[role] == epoch and not self._stopping:
                self._failed[role] = "the audio system ended the stream"
                self._wake.set()

        return finished

    # -- figures -----------------------------------------------------------------------------

    @property
    def dropped_blocks(self) -> int:
        """Raw device blocks lost because the consumer fell behind."""
        return sum(self._dropped.values())

    def dropped_by_role(self) -> dict[str, int]:
        return dict(self._dropped)

    @property
    def status_events(self) -> int:
        """Callbacks that reported a PortAudio status flag (e.g. input overflow)."""
        return sum(self._status.values())

    @property
    def started_at(self) -> float:
        """time.monotonic() at call time 0, the start of every role's clock."""
        return self._t0

    @property
    def sample_rates(self) -> dict[str, int]:
        """Device sample rate per role (before resampling to 16 kHz)."""
        return dict(self._rates)

    def stats(self) -> dict:
        """Counters per role, and how deep the capture queue has been."""
        roles = {role: {"device": self._names[role], "state": self._state[role],
                        "frames": self._frames[role], "dropped_blocks": self._dropped[role],
                        "overflow_frames": self._overflow_frames[role], "status_events": self._status[role],
                        "reconnects": self.reconnects[role]} for role in self._names}
        return {"roles": roles, "max_queued": self._queue.max_queued, "queue_capacity": self._queue.capacity}

    # -- running -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start capturing (blocks() does this itself if needed)."""
        with _PA_LOCK:
            if self._started or self._stopping:
                return
            self._started = True
            self._t0 = time.monotonic()
            for role, stream in self._streams.items():
                self._opened_at[role] = self._t0
                stream.start()
        self._watchdog = threading.Thread(target=self._watch, name="callcoach-audio-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        """Stop and close the devices. blocks() still delivers what was queued, then ends."""
        self._stopping = True
        self._wake.set()
        with _PA_LOCK:
            self._close_streams()
        self._closed.set()
        _SOURCES.discard(self)  # the watchdog ends by itself within POLL_SECONDS

    def _close_streams(self) -> None:
        for stream in self._streams.values():
            _close(stream)
        self._streams.clear()

    # -- the watchdog: losing and reopening devices ------------------------------------------

    def _watch(self) -> None:
        while not self._stopping:
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            for role in self._names:
                if self._stopping:
                    return
                try:
                    self._check(role)
                except Exception:  # the watchdog must outlive any surprise
                    log.exception("device watchdog failed for the %s", role)

    def _check(self, role: str) -> None:
        now = time.monotonic()
        state = self._state[role]
        if state == "running":
            reason = self._why_lost(role, now)
            if reason:
                with _PA_LOCK:
                    if not self._stopping and self._state[role] == "running":
                        self._lose(role, reason)
        elif state == "lost" and now >= self._retry_at[role]:
            self._reconnect(role, now)

    def _why_lost(self, role: str, now: float) -> str | None:
        if self._failed[role]:
            return self._failed[role]
        heard = self._heard_at[role]
        if heard is None:
            if now - self._opened_at[role] > self.start_grace_s:
                return f"no audio within {self.start_grace_s:.0f} s of opening it"
            return None
        if now - heard > self.lost_after_s:
            return f"no audio for {now - heard:.1f} s"
        return None

    def _lose(self, role: str, reason: str) -> None:
        """Give up on `role`'s stream (under _PA_LOCK): its late callbacks are ignored, it is
        closed, and the consumer hears of it in order with the audio before it."""
        epoch = self._epoch[role]
        self._epoch[role] = epoch + 1
        stream = self._streams.pop(role, None)
        if stream is not None:
            _close(stream)  # waits for a running callback: its block is queued before Lost
        self._state[role] = "lost"
        self._retry_at[role] = time.monotonic()  # a hiccup comes back at once
        log.warning("input device for the %s lost (%s): %s; reconnecting", role, reason, self._names[role])
        self._queue.put(Lost(role, epoch, reason), stopping=lambda: self._stopping)

    def _reconnect(self, role: str, now: float) -> None:
        with _PA_LOCK:
            if self._stopping or self._state[role] != "lost":
                return
            if self._try_open(role):
                return
            self._retry_at[role] = now + self.reconnect_every_s
            if now < self._probe_at[role]:
                return
            self._probe_at[role] = now + PROBE_EVERY_S
        # Not in this PortAudio's device list, or not openable through it. A restarted
        # PortAudio may see it again (a USB headset plugged back in gets a new identity),
        # but restarting closes the other device's stream too, so only when a fresh
        # process shows that it would help (outside the lock: it takes ~0.1 s).
        fresh = _fresh_portaudio_can_open(self._names[role])
        if fresh is None:
            fresh = time.monotonic() - self._last_restart >= REINIT_FALLBACK_S
        if fresh and not self._stopping:
            self._last_restart = time.monotonic()
            log.info("restarting PortAudio to reopen the %s device %s", role, self._names[role])
            _restart_portaudio(f"PortAudio was restarted to reopen the {DEVICE_WORD[role]}")

    def _try_open(self, role: str) -> bool:
        """Open and start `role`'s device again (under _PA_LOCK); False if it is not there."""
        stream = None
        try:
            with _quiet_stderr():
                stream = self._open(role)
                stream.start()
        except Exception as exc:  # CallCoachError (not listed) or PortAudioError (not openable)
            if stream is not None:
                _close(stream)
            self._epoch[role] += 1  # whatever that stream queued is not used
            log.debug("the %s device is not back yet: %s", role, exc)
            return False
        self._streams[role] = stream
        self._state[role] = "running"
        self.reconnects[role] += 1
        log.info("input device for the %s reopened: %s (%d Hz)", role, self._names[role], self._rates[role])
        return True

    def _suspend(self, reason: str) -> None:
        """PortAudio is about to restart: close every running stream (under _PA_LOCK)."""
        for role in self._names:
            if self._state[role] == "running" and role in self._streams:
                self._lose(role, reason)

    def _resume(self) -> None:
        """PortAudio restarted: reopen what is lost now rather than at the next retry."""
        for role in self._names:
            if self._state[role] == "lost" and not self._stopping:
                self._try_open(role)

    # -- the consumer ------------------------------------------------------------------------

    def _readers(self) -> dict[str, _RoleConverter]:
        return {role: _RoleConverter(self, role) for role in self._names}


def _close(stream) -> None:
    try:
        stream.close()  # waits for a running callback to finish
    except Exception:
        pass  # a device that vanished cannot be closed any further


class _RoleConverter:
    """Turns one role's raw device blocks into 16 kHz AudioBlocks on that role's clock, and
    says where that clock jumps: blocks dropped, a device lost and back."""

    def __init__(self, source: LiveSource, role: str):
        self.source = source
        self.role = role
        self.device = source._names[role]
        self.epoch = -1  # the stream whose audio is being converted
        self.rate = 0
        self.block = 0
        self.resampler: StreamingResampler | None = None
        self.expected_frame = 0  # next device frame if nothing was dropped
        self.clock = 0  # next 16 kHz sample index
        self.lost_epoch: int | None = None  # set while the device is gone
        self.lost_reason = ""
        self.reported_blocks = 0
        self.reported_overflow = 0

    def take(self, item: tuple[str, int, int, np.ndarray]) -> Iterator[CaptureEvent]:
        _, epoch, start_frame, data = item
        if epoch < self.epoch or (self.lost_epoch is not None and epoch <= self.lost_epoch):
            return  # late audio of a stream already given up on
        if epoch != self.epoch:
            yield from self._new_stream(epoch, start_frame)
        elif start_frame > self.expected_frame:
            yield from self._jump(start_frame)
        self.expected_frame = start_frame + len(data)
        yield from self._emit(self.resampler.process(downmix(data)))

    def _new_stream(self, epoch: int, start_frame: int) -> Iterator:
        yield from self.finish()
        yield from self.unreported_drops()
        first = self.epoch < 0 and self.lost_epoch is None
        if not first and self.lost_epoch is None:  # restarted without a loss queued first
            yield DeviceLost(self.role, self.clock / SAMPLE_RATE, "the stream was restarted", self.device)
        self.epoch = epoch
        self.rate = self.source._epoch_rates[(self.role, epoch)]
        self.block = self.source._epoch_blocks[(self.role, epoch)]
        self.resampler = StreamingResampler(self.rate, SAMPLE_RATE)
        self.expected_frame = start_frame
        at = ceil(start_frame * SAMPLE_RATE / self.rate)
        if first:
            # The device started after the call did: its lead-in is silence, not a gap.
            yield from self._emit(np.zeros(at, np.float32))
        else:
            self.clock = max(self.clock, at)
            self.lost_epoch = None
            yield DeviceBack(self.role, self.clock / SAMPLE_RATE, self.device)

    def lost(self, item: Lost) -> Iterator[CaptureEvent]:
        if item.epoch < self.epoch or self.lost_epoch is not None:
            return  # about a stream already replaced, or already said
        yield from self.finish()
        yield from self.unreported_drops()
        self.lost_epoch = item.epoch
        yield DeviceLost(self.role, self.clock / SAMPLE_RATE, item.reason, self.device)

    def _jump(self, start_frame: int) -> Iterator:
        """Blocks were dropped or the device overflowed: end this stretch, say how much is
        missing, restart the clock after the gap."""
        yield from self.finish()
        frames = start_frame - self.expected_frame
        src = self.source
        overflow = min(frames, src._overflow_frames[self.role] - self.reported_overflow)
        self.reported_overflow += overflow
        blocks = round((frames - overflow) / self.block)
        self.reported_blocks += blocks
        reasons = [r for r, n in (("the capture queue was full", blocks), ("the device overflowed", overflow)) if n]
        before = self.clock
        self.clock = max(self.clock, ceil(start_frame * SAMPLE_RATE / self.rate))
        yield AudioDropped(self.role, before / SAMPLE_RATE, (self.clock - before) / SAMPLE_RATE, blocks,
                           " and ".join(reasons) or "unknown")

    def unreported_drops(self) -> Iterator:
        """Blocks counted as dropped that no jump accounted for (the last ones of a stream)."""
        missing = self.source._dropped[self.role] - self.reported_blocks
        if missing > 0 and self.block:
            self.reported_blocks += missing
            yield AudioDropped(self.role, self.clock / SAMPLE_RATE, missing * self.block / self.rate, missing,
                               "the capture queue was full")

    def end(self) -> Iterator[CaptureEvent]:
        yield from self.finish()
        yield from self.unreported_drops()

    def finish(self) -> Iterator[AudioBlock]:
        if self.resampler is not None:
            yield from self._emit(self.resampler.flush())

    def _emit(self, samples: np.ndarray) -> Iterator[AudioBlock]:
        if len(samples):
            yield AudioBlock(self.role, self.clock, samples)
            self.clock += len(samples)

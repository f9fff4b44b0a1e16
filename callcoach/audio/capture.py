"""A live call from the desktop's sound system: the agent's microphone, and the customer as
what plays on an output (captured by loopback / monitor), or an input that carries the call.

`CaptureSource` holds what every sound system shares; a backend (PulseAudio/PipeWire,
WASAPI) only lists devices and opens a recording of one. The backend hands over 16 kHz mono
fragments on its own thread; that callback only queues them. `stream()` turns them into
AudioBlocks on one call clock per role, on the consumer's thread. A watchdog thread checks
the devices twice a second:

- A device that goes away is *lost* (DeviceLost), never replaced by another: streams are
  made with DONT_MOVE, and a role keeps the device it started with (by the server's id), so
  an unplugged headset cannot turn the customer's channel into someone's microphone.
- It is reopened when it is back (DeviceBack), its audio stamped at real call time.
- Silence is not loss: a device that is there but sends nothing (an output's monitor while
  it starts, a suspended PulseAudio sink, a WASAPI loopback with nothing playing) gets
  silence on the clock, so the other speaker is never held back.
- A role following the system default (no name chosen) moves to the new default device
  when the agent switches headsets.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Protocol

import numpy as np

from callcoach.audio.block import SAMPLE_RATE, AudioBlock, AudioDropped, DeviceBack, DeviceLost
from callcoach.audio.devices import Device, DeviceList, DeviceNotFound, Target
from callcoach.audio.handoff import CaptureEvent, Handoff, Lost, QueuedCapture
from callcoach.errors import CallCoachError

log = logging.getLogger("callcoach.events")

POLL_S = 0.05  # how often the consumer looks for silence to fill and whether it was stopped
CHECK_EVERY_S = 0.5  # the watchdog's look at the devices: still there? the default changed?
RECONNECT_EVERY_S = 1.0
# A device that is there but sent nothing this long gets silence up to then. Before its first
# audio (an output's monitor starting) soon; once it has sent audio, a pause is more likely
# this process being starved of CPU, with the audio arriving late in a burst: filling then
# would place that audio late by the time filled.
FILL_BEFORE_FIRST_AUDIO_S = 0.25
FILL_AFTER_S = 1.0
FRAGMENT_S = 0.05


class RoleState(enum.Enum):
    RUNNING = "running"
    LOST = "lost"


class Recording(Protocol):
    """A backend's open recording of one device."""

    def close(self) -> None: ...


class _Role:
    """One role's device and recording; changed by the watchdog under the source's lock."""

    def __init__(self, role: str, target: Target, device: Device):
        self.role = role
        self.target = target
        self.device = device
        self.pinned = device.id if target.name is not None else None
        self.stream: Recording | None = None
        self.epoch = 0
        self.state = RoleState.RUNNING
        self.failed: str | None = None  # set on the server's thread when it ended the stream
        self.retry_at = 0.0
        self.reconnects = 0


class CaptureSource(QueuedCapture):
    """Two roles captured from a sound system; yields what `Engine.run` consumes.

    A backend subclass provides `_listing`, `_record` and, if its connection can break,
    `_connected`."""

    def __init__(self, roles: dict[str, Target], queue_fragments: int = 1000):
        self._lock = threading.RLock()
        devices = self._listing()
        self._roles = {role: _Role(role, target, target.resolve(devices, None)) for role, target in roles.items()}
        # (role, epoch, samples, monotonic time) from the server's thread, and Lost
        self._queue: Handoff[tuple[str, int, np.ndarray, float] | Lost] = Handoff(queue_fragments, POLL_S)
        self._dropped = dict.fromkeys(roles, 0)  # samples that found the queue full
        self._dropped_fragments = dict.fromkeys(roles, 0)
        self._delivering: set[str] = set()  # roles whose current recording has sent audio
        self._t0 = 0.0
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._stopping = False
        self._started = False
        self._watchdog: threading.Thread | None = None

    # -- what a backend provides -------------------------------------------------------------

    def _listing(self) -> DeviceList:
        """The devices there are now; CallCoachError when the sound system does not answer."""
        raise NotImplementedError

    def _record(self, device: Device, on_audio: Callable[[np.ndarray], None],
                on_ended: Callable[[str], None]) -> Recording:
        """Start recording `device` (an output: what plays on it) as 16 kHz mono float32
        fragments; `on_ended(reason)` if the system ends it. Raises CallCoachError."""
        raise NotImplementedError

    def _connected(self, now: float) -> bool:
        """Whether the connection to the sound system works (reconnecting if it can)."""
        return True

    def _shutdown(self) -> None:
        """Release the connection to the sound system (stop(), under the lock)."""

    def delivering(self, role: str) -> bool:
        """Whether `role`'s device has sent audio since it was (re)opened: an idle output's
        monitor can take a second or two to start, and a sound played before would be missed."""
        return role in self._delivering

    @property
    def started_at(self) -> float:
        """time.monotonic() at call time 0."""
        return self._t0

    # -- running -----------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._started or self._stopping:
                return
            self._started = True
            self._t0 = time.monotonic()
            for r in self._roles.values():
                self._open(r)
        self._watchdog = threading.Thread(target=self._watch, name="callcoach-audio-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        """Stop recording. stream() still delivers what was queued, then ends."""
        self._stopping = True
        self._wake.set()
        with self._lock:
            for r in self._roles.values():
                self._close_stream(r)
            self._shutdown()
        self._closed.set()

    def _open(self, r: _Role) -> None:
        """Start recording `r`'s device for a new epoch (under the lock). Raises CallCoachError."""
        r.epoch += 1
        r.failed = None
        self._delivering.discard(r.role)
        r.stream = self._record(r.device, partial(self._audio, r.role, r.epoch), partial(self._ended, r.role, r.epoch))
        r.state = RoleState.RUNNING
        log.info("recording the %s from %s", r.role, r.device.name)

    def _audio(self, role: str, epoch: int, samples: np.ndarray) -> None:
        # The server's thread: queue it and count, nothing else.
        self._delivering.add(role)
        if not self._queue.offer((role, epoch, samples, time.monotonic())):
            self._dropped[role] += len(samples)
            self._dropped_fragments[role] += 1

    def _ended(self, role: str, epoch: int, reason: str) -> None:
        r = self._roles[role]
        if r.epoch == epoch:
            r.failed = reason
            self._wake.set()

    def _close_stream(self, r: _Role) -> None:
        stream, r.stream = r.stream, None
        if stream is not None:
            stream.close()

    # -- the watchdog ------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping:
            self._wake.wait(CHECK_EVERY_S)
            self._wake.clear()
            try:
                with self._lock:
                    if not self._stopping:
                        self._check()
            except Exception:  # the watchdog must outlive any surprise
                log.exception("device watchdog failed")

    def _check(self) -> None:
        now = time.monotonic()
        if not self._connected(now):
            for r in self._roles.values():
                if r.state is RoleState.RUNNING:
                    self._lose(r, "the sound system stopped")
            return
        try:
            devices = self._listing()
        except CallCoachError as exc:
            log.warning("the sound system does not answer: %s", exc)
            return
        for r in self._roles.values():
            if r.state is RoleState.RUNNING:
                self._check_running(r, devices)
            elif now >= r.retry_at:
                self._try_reopen(r, devices, now)

    def _check_running(self, r: _Role, devices: DeviceList) -> None:
        if r.failed:
            self._lose(r, r.failed)
            return
        try:
            device = r.target.resolve(devices, r.pinned)
        except DeviceNotFound:
            self._lose(r, "the device was removed")
            return
        if device.id != r.device.id:  # the default moved: follow it (no gap in the call)
            log.info("the default %s is now %s; the %s follows it", device.kind.value, device.name, r.role)
            self._close_stream(r)
            r.device = device
            try:
                self._open(r)
            except CallCoachError as exc:
                self._lose(r, str(exc))

    def _lose(self, r: _Role, reason: str) -> None:
        self._close_stream(r)
        r.state = RoleState.LOST
        r.retry_at = time.monotonic()
        log.warning("the %s's device is lost (%s): %s; reconnecting", r.role, reason, r.device.name)
        self._queue.put(Lost(r.role, r.epoch, reason), stopping=lambda: self._stopping)
        r.epoch += 1  # whatever the closed stream still queues is not used

    def _try_reopen(self, r: _Role, devices: DeviceList, now: float) -> None:
        r.retry_at = now + RECONNECT_EVERY_S
        try:
            r.device = r.target.resolve(devices, r.pinned)
            self._open(r)
        except CallCoachError as exc:
            log.debug("the %s's device is not back yet: %s", r.role, exc)
            return
        r.reconnects += 1

    # -- figures -----------------------------------------------------------------------------

    def dropped_by_role(self) -> dict[str, int]:
        """Fragments lost because the consumer fell behind, per role."""
        return dict(self._dropped_fragments)

    def stats(self) -> dict:
        roles = {role: {"device": r.device.name, "state": r.state.value, "reconnects": r.reconnects,
                        "dropped_samples": self._dropped[role]} for role, r in self._roles.items()}
        return {"roles": roles, "max_queued": self._queue.max_queued, "queue_capacity": self._queue.capacity}

    # -- the consumer ------------------------------------------------------------------------

    def _readers(self) -> dict[str, _RoleClock]:
        return {role: _RoleClock(role, self) for role in self._roles}

    def _between(self, clocks: dict[str, _RoleClock]) -> Iterator[CaptureEvent]:
        if not self._stopping and self._queue.empty():  # not while audio waits: it may fill the gap
            now = time.monotonic()
            for clock in clocks.values():
                yield from clock.fill(now)


class _RoleClock:
    """Places one role's fragments on its call clock (16 kHz samples since the call began)."""

    def __init__(self, role: str, source: CaptureSource):
        self.role = role
        self.source = source
        self.clock = 0
        self.epoch = 0  # the stream whose audio is flowing
        self.lost_epoch: int | None = None  # set while the device is gone
        self.heard_at: float | None = None  # wall time of the last fragment
        self.realign = True  # the next fragment is placed by its arrival time
        self.reported_drops = 0  # samples
        self.reported_fragments = 0

    def _position(self, at: float, samples: int) -> int:
        """Where a fragment that arrived at `at` began, on the call clock."""
        return round((at - self.source._t0 - FRAGMENT_S) * SAMPLE_RATE) - samples

    def take(self, item: tuple[str, int, np.ndarray, float]) -> Iterator[CaptureEvent]:
        _, epoch, samples, at = item
        if epoch < self.epoch or (self.lost_epoch is not None and epoch <= self.lost_epoch):
            return  # late audio of a stream already given up on
        self.heard_at = at
        yield from self._drops()
        if epoch != self.epoch:
            self.epoch = epoch
            self.realign = True
            if self.lost_epoch is not None:
                self.lost_epoch = None
                self.clock = max(self.clock, self._position(at, len(samples)))
                yield DeviceBack(self.role, self.clock / SAMPLE_RATE, self.source._roles[self.role].device.name)
        if self.realign:  # a new stream, or audio after a silent stretch: silence up to it
            self.realign = False
            yield from self._silence_to(self._position(at, len(samples)))
        yield AudioBlock(self.role, self.clock, samples)
        self.clock += len(samples)

    def lost(self, item: Lost) -> Iterator[CaptureEvent]:
        if self.lost_epoch is not None or item.epoch < self.epoch:
            return
        self.lost_epoch = item.epoch
        self.realign = True
        yield DeviceLost(self.role, self.clock / SAMPLE_RATE, item.reason, self.source._roles[self.role].device.name)

    def fill(self, now: float) -> Iterator[AudioBlock]:
        """The device is there but silent (nothing plays on an output): silence, so the
        call clock moves on; its next audio is placed by when it arrives."""
        if self.lost_epoch is not None:
            return
        wait = FILL_AFTER_S if self.heard_at is not None else FILL_BEFORE_FIRST_AUDIO_S
        since = self.heard_at if self.heard_at is not None else self.source._t0
        if now - since < wait:
            return
        self.realign = True
        yield from self._silence_to(round((now - self.source._t0 - wait) * SAMPLE_RATE))

    def end(self) -> Iterator[AudioDropped]:
        """What was dropped after the last audio."""
        return self._drops()

    def _silence_to(self, position: int) -> Iterator[AudioBlock]:
        if position > self.clock:
            yield AudioBlock(self.role, self.clock, np.zeros(position - self.clock, np.float32))
            self.clock = position

    def _drops(self) -> Iterator[AudioDropped]:
        """Audio the queue had no room for, since the last report: said, and skipped on the clock."""
        dropped = self.source._dropped[self.role] - self.reported_drops
        if dropped > 0:
            fragments = self.source._dropped_fragments[self.role] - self.reported_fragments
            self.reported_drops += dropped
            self.reported_fragments += fragments
            yield AudioDropped(self.role, self.clock / SAMPLE_RATE, dropped / SAMPLE_RATE, fragments,
                               "the capture queue was full")
            self.clock += dropped

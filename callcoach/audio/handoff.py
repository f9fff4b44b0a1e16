"""The bounded queue between a capture's device threads and the thread that turns their
audio into blocks, and that consumer, shared by every capture back-end
(`capture.CaptureSource`, `live.LiveSource`).

A device thread never waits on it (`offer`: a full queue drops, and the caller counts);
the watchdog's control items do wait for room (`put`), so they stay in order with the
audio; the consumer takes everything in order (`drain`) until the source is closed and the
queue is empty, so the audio queued at stop() is not lost. `QueuedCapture.stream()` hands
each item to its role's reader, which keeps that role's call clock: how a back-end places
its audio on the clock is its own.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from callcoach.audio.block import AudioBlock, AudioDropped, DeviceBack, DeviceLost

Item = TypeVar("Item")
CaptureEvent = AudioBlock | DeviceLost | DeviceBack | AudioDropped


@dataclass(frozen=True, slots=True)
class Lost:
    """Queue item: the recording of `epoch` was given up on."""

    role: str
    epoch: int
    reason: str


class Handoff(Generic[Item]):
    """A bounded queue that remembers how deep it has been."""

    def __init__(self, capacity: int, poll_s: float):
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=capacity)
        self.capacity = capacity
        self.poll_s = poll_s  # how long drain() waits before the consumer may look around
        self.max_queued = 0

    def offer(self, item: Item) -> bool:
        """Queue `item` unless the queue is full (a device's thread: it must never wait)."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            return False
        return True

    def put(self, item: Item, stopping: Callable[[], bool]) -> None:
        """Queue `item`, waiting for room until `stopping()` (never on a device's thread)."""
        while not stopping():
            try:
                self._queue.put(item, timeout=self.poll_s)
                return
            except queue.Full:
                continue

    def empty(self) -> bool:
        return self._queue.empty()

    def drain(self, closed: threading.Event) -> Iterator[Item | None]:
        """Every item in order; None when nothing came for `poll_s` (the consumer's chance
        to look at its clocks). Ends once `closed` is set and the queue is empty: a source
        is closed after its recordings, so nothing new can arrive then."""
        while True:
            try:
                item = self._queue.get(timeout=self.poll_s)
            except queue.Empty:
                if closed.is_set() and self._queue.empty():
                    return
                yield None
                continue
            self.max_queued = max(self.max_queued, self._queue.qsize() + 1)
            yield item


class RoleReader(Protocol):
    """One role's side of the consumer: places that role's queued audio on its call clock."""

    def take(self, item: tuple) -> Iterator[CaptureEvent]:
        """An audio item of this role: a back-end's tuple, the role first."""
        ...

    def lost(self, item: Lost) -> Iterator[CaptureEvent]: ...

    def end(self) -> Iterator[CaptureEvent]:
        """After the last item: what is still held or was dropped since the last audio."""
        ...


class QueuedCapture:
    """A capture whose device threads feed `_queue` (audio tuples, the role first, and
    Lost); `stream()` is its consumer. A back-end provides `start`, `_readers` and, to move
    its clocks on between items, `_between`."""

    _queue: Handoff
    _closed: threading.Event  # set by stop() once no recording can queue anything more

    def start(self) -> None:
        raise NotImplementedError

    def _readers(self) -> dict[str, RoleReader]:
        """A new reader per role, for one pass of stream()."""
        raise NotImplementedError

    def _between(self, readers: dict[str, RoleReader]) -> Iterator[CaptureEvent]:
        """After each item, and each poll without one."""
        return iter(())

    def stream(self) -> Iterator[CaptureEvent]:
        """AudioBlocks and what happened to the devices, in order, until stop(); the audio
        queued at stop() is not lost."""
        if not self._closed.is_set():
            self.start()
        readers = self._readers()
        for item in self._queue.drain(self._closed):
            if isinstance(item, Lost):
                yield from readers[item.role].lost(item)
            elif item is not None:
                yield from readers[item[0]].take(item)
            yield from self._between(readers)
        for reader in readers.values():
            yield from reader.end()

    def blocks(self) -> Iterator[AudioBlock]:
        """Only the AudioBlocks of `stream()` (level meters, tests)."""
        for item in self.stream():
            if isinstance(item, AudioBlock):
                yield item

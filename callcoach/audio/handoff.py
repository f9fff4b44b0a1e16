"""The bounded queue between a capture's device threads and the thread that turns their
audio into blocks, shared by every capture back-end (`capture.CaptureSource`,
`live.LiveSource`).

A device thread never waits on it (`offer`: a full queue drops, and the caller counts);
the watchdog's control items do wait for room (`put`), so they stay in order with the
audio; the consumer takes everything in order (`drain`) until the source is closed and the
queue is empty, so the audio queued at stop() is not lost.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")


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

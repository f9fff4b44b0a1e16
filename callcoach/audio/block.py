"""The unit of audio that flows from every source into the engine."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class AudioBlock:
    """A run of 16 kHz mono float32 samples from one speaker's channel.

    `start` is the index of the first sample on that role's audio clock (samples since the
    call started). Blocks of one role arrive in order; a jump in `start` is a gap (e.g. a
    device that went away), never an overlap.
    """

    role: str
    start: int
    samples: np.ndarray

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


class Source(Protocol):
    """What the engine reads a call from: audio files, live devices, a test's blocks."""

    def blocks(self) -> Iterable[AudioBlock]: ...

    def stop(self) -> None: ...

    # Optional: a source that can say more than audio (live devices) also has
    # `stream()`, yielding AudioBlocks and DeviceLost / DeviceBack / AudioDropped in order.


# What a source can say besides audio (live devices only). They come in the same stream as
# the blocks (`LiveSource.stream()`), in order with them, on the role's call clock.


@dataclass(frozen=True)
class DeviceLost:
    """The role's device stopped delivering audio; its audio after call time `t` is missing
    until a `DeviceBack`."""

    role: str
    t: float
    reason: str
    device: str


@dataclass(frozen=True)
class DeviceBack:
    """The role's device was reopened; its audio resumes at call time `t` (real call time,
    not where the device's own frame counter stopped)."""

    role: str
    t: float
    device: str


@dataclass(frozen=True)
class AudioDropped:
    """`seconds` of the role's audio from call time `t` never reached the engine: `blocks`
    device blocks found the capture queue full, and/or the device overflowed."""

    role: str
    t: float
    seconds: float
    blocks: int
    reason: str

"""The unit of audio that flows from every source into the engine."""

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
ROLES = ("agent", "customer")


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

"""What the engine tells its listeners (the widget bridge, the session recorder, tests).

Times are seconds on the call's audio clock; `*_s` wall-clock figures are measured only
when the audio arrives in real time (live or --realtime), else None.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcoach.audio.block import AudioDropped  # noqa: F401 (an engine event too: recorded, stored)
from callcoach.engine.transcriber import Word


@dataclass(frozen=True)
class ModelReady:
    load_s: float  # seconds from engine start to the model answering


@dataclass(frozen=True)
class Activity:
    """A speaker started or stopped talking (voice activity, before any text)."""

    role: str
    t: float
    speaking: bool


@dataclass(frozen=True)
class Level:
    """Input level of one channel over the last ~100 ms, for meters and loudness."""

    role: str
    t: float
    rms_db: float


@dataclass(frozen=True)
class Partial:
    """Text so far of an utterance still in progress; replaced by later partials."""

    role: str
    start: float
    t: float  # audio covered up to here
    text: str
    lag_s: float | None  # wall time from audio `t` entering the engine to this text
    beam: bool = False  # decoded as the final text will be (asked for by Engine.confirm_partial)


@dataclass(frozen=True)
class Utterance:
    role: str
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    wpm: float | None
    latency_s: float | None  # wall time from the last speech sample entering to this text


@dataclass(frozen=True)
class Watermark:
    """Every utterance ending before `t` has been delivered (or found to be no speech).

    Events arrive in the order they are ready, not in audio order: voice activity at once,
    text after transcription. A consumer that needs both in audio order (the coach) holds
    events back until the watermark passes them.
    """

    t: float


@dataclass(frozen=True)
class Notice:
    """Something the user should know about (a device gap, dropped audio, load shedding)."""

    level: str  # "info" | "warning" | "error"
    message: str
    t: float | None = None
    kind: str | None = None  # "device_lost" | "device_back" | "audio_dropped" | "audio_gap" | None
    role: str | None = None  # whose device or audio it is about


@dataclass(frozen=True)
class DeviceGap:
    """`role`'s device was gone from `start` to `end` (call time): that audio does not exist.
    Emitted when the device is back, or at the end of the call if it never came back."""

    role: str
    start: float
    end: float
    reason: str


@dataclass(frozen=True)
class CallEnded:
    duration: float

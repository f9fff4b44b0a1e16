"""Cuts one channel's audio into utterances from its per-chunk speech probabilities."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from callcoach.audio.block import SAMPLE_RATE
from callcoach.engine.vad import CHUNK

_CUT_LOOK = 3 * SAMPLE_RATE // CHUNK  # chunks before the length cap where a cut may fall


@dataclass(frozen=True)
class SegmenterSettings:
    threshold: float = 0.4  # probability at which speech starts
    neg_threshold: float = 0.2  # below this, speech is over (hysteresis against flicker)
    min_speech_s: float = 0.2  # shorter bursts are clicks or breaths, not speech
    pre_roll_s: float = 0.25  # audio kept before the onset so the first word is whole
    tail_s: float = 0.2  # audio kept after the last speech, for the final consonant
    hangover_s: float = 0.5  # silence that ends an utterance
    max_utterance_s: float = 15.0  # longer speech is cut at its quietest recent point


@dataclass(frozen=True)
class Segment:
    """An utterance: speech from `start` to `end` (samples on the role's clock).

    `audio` starts at `audio_start` (pre-roll included) and runs `tail_s` past `end`.
    """

    start: int
    end: int
    audio_start: int
    audio: np.ndarray
    mean_prob: float

    @property
    def key(self) -> tuple[int, int]:
        return self.start, self.end


@dataclass(frozen=True)
class ActivityChange:
    sample: int
    speaking: bool


@dataclass
class SegmenterOutput:
    changes: list[ActivityChange] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)  # finished utterances
    # The utterance as it will be if the pause that just began lasts the hangover: final
    # text can be started now, so it is ready (or nearly) when the pause is confirmed.
    candidate: Segment | None = None


class Segmenter:
    """Idle/speaking state machine with pre-roll, hangover and a length cap."""

    def __init__(self, settings: SegmenterSettings = SegmenterSettings()):
        self.s = settings
        self._pre_roll = int(settings.pre_roll_s * SAMPLE_RATE)
        self._tail = int(settings.tail_s * SAMPLE_RATE)
        self._hangover = max(self._tail, int(settings.hangover_s * SAMPLE_RATE))
        self._min_speech = int(settings.min_speech_s * SAMPLE_RATE)
        self._max_len = int(settings.max_utterance_s * SAMPLE_RATE)
        self._buffer: list[np.ndarray] = []  # audio since `_buffer_start`
        self._buffer_start = 0
        self._buffer_len = 0
        self._probs: list[float] = []  # one per chunk since the onset
        self._onset: int | None = None  # first speech sample of the open utterance
        self._last_speech = 0  # end of the last chunk that was still speech
        self._announced = False  # ActivityChange(speaking=True) sent for this utterance
        self._offered = False  # a candidate was offered for the current pause

    @property
    def earliest_event(self) -> int | None:
        """The earliest sample an event of the open utterance may still be stamped with (None
        when idle): its onset until it is announced, then the end it can still get, which is
        where its speech has reached or, near the length cap, where a cut may fall."""
        if self._onset is None:
            return None
        if not self._announced:
            return self._onset
        return min(self._last_speech, self._onset + self._max_len - _CUT_LOOK * CHUNK)

    @property
    def last_speech(self) -> int | None:
        """End of the latest speech chunk of the open utterance (None when idle)."""
        return self._last_speech if self._onset is not None else None

    def push(self, start: int, audio: np.ndarray, probs: np.ndarray, last_chunk_end: int) -> SegmenterOutput:
        """Add `audio` (starting at sample `start`) and the VAD probs of the chunks it completed.

        The VAD keeps a partial chunk back, so its last complete chunk ends at
        `last_chunk_end`, at or before the end of `audio`.
        """
        self._append(start, audio)
        out = SegmenterOutput()
        first_chunk_end = last_chunk_end - (len(probs) - 1) * CHUNK
        for i, p in enumerate(probs):
            self._step(first_chunk_end + i * CHUNK, float(p), out)
        if self._onset is None:
            self._trim_to(start + len(audio) - self._pre_roll)
        return out

    def open_utterance(self) -> tuple[int, int, np.ndarray] | None:
        """(speech start, audio start, audio so far) of the utterance in progress, if any."""
        if not self._announced:
            return None
        audio_start = max(self._buffer_start, self._onset - self._pre_roll)
        return self._onset, audio_start, self._audio(audio_start)

    def flush(self) -> SegmenterOutput:
        """End of the stream: close whatever is open."""
        out = SegmenterOutput()
        if self._onset is not None:
            self._close(self._last_speech, out)
        return out

    # -- state machine -------------------------------------------------------------------

    def _step(self, chunk_end: int, p: float, out: SegmenterOutput) -> None:
        chunk_start = chunk_end - CHUNK
        if self._onset is None:
            if p >= self.s.threshold:
                self._onset = chunk_start
                self._last_speech = chunk_end
                self._probs = [p]
            return
        self._probs.append(p)
        if p >= self.s.neg_threshold:
            self._last_speech = chunk_end
            self._offered = False
        if not self._announced and self._last_speech - self._onset >= self._min_speech:
            self._announced = True
            out.changes.append(ActivityChange(self._onset, True))
        silence = chunk_end - self._last_speech
        if silence >= self._hangover:
            self._close(self._last_speech, out)
        elif chunk_end - self._onset >= self._max_len:
            self._cut(out)
        elif silence >= self._tail and self._announced and not self._offered:
            self._offered = True
            out.candidate = self._segment(self._last_speech)

    def _cut(self, out: SegmenterOutput) -> None:
        """Split a long utterance at its least speech-like chunk in the last 3 seconds."""
        look = min(len(self._probs) - 1, _CUT_LOOK)
        quietest = len(self._probs) - look + int(np.argmin(self._probs[-look:]))
        cut = self._onset + quietest * CHUNK
        out.segments.append(self._segment(cut))
        self._onset = cut
        self._probs = self._probs[quietest:]
        self._trim_to(cut - self._pre_roll)

    def _close(self, end: int, out: SegmenterOutput) -> None:
        if self._announced:
            out.segments.append(self._segment(end))
            out.changes.append(ActivityChange(end, False))
        self._onset = None
        self._announced = False
        self._offered = False
        self._probs = []
        self._trim_to(self._buffer_start + self._buffer_len - self._pre_roll)

    def _segment(self, end: int) -> Segment:
        audio_start = max(self._buffer_start, self._onset - self._pre_roll)
        audio = self._audio(audio_start, min(end + self._tail, self._buffer_start + self._buffer_len))
        n_chunks = max(1, (end - self._onset) // CHUNK)
        return Segment(self._onset, end, audio_start, audio, float(np.mean(self._probs[:n_chunks])))

    # -- audio buffer --------------------------------------------------------------------

    def _append(self, start: int, audio: np.ndarray) -> None:
        if start != self._buffer_start + self._buffer_len and self._onset is None:
            self._buffer, self._buffer_len = [], 0  # after a gap the old pre-roll is stale
        if self._buffer_len == 0:
            self._buffer_start = start
        self._buffer.append(audio)
        self._buffer_len += len(audio)

    def _joined(self) -> np.ndarray:
        """The buffer as one array (kept joined, so the next call is free)."""
        if len(self._buffer) != 1:
            self._buffer = [np.concatenate(self._buffer)]
        return self._buffer[0]

    def _audio(self, start: int, end: int | None = None) -> np.ndarray:
        audio = self._joined()
        lo = start - self._buffer_start
        hi = None if end is None else end - self._buffer_start
        return audio[lo:hi].copy()

    def _trim_to(self, start: int) -> None:
        """Drop buffered audio before `start` (what is kept is the next onset's pre-roll)."""
        drop = start - self._buffer_start
        if drop <= 0:
            return
        self._buffer = [self._joined()[drop:]]
        self._buffer_start += drop
        self._buffer_len = len(self._buffer[0])

"""The agent's speaking rate from word timestamps.

Definition: words per minute over the agent's speech in a rolling window of call time.
Speech time is the span from the first to the last word of each utterance, so pauses
*inside* an utterance count and the silence *between* utterances (listening, holds) does
not. The baseline is the same rate over everything the agent said before the window,
blended with the agent's typical rate over their recent stored calls when that is known
(`PastPace`), so it is there from the first minute of a call.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    wpm: float | None  # rolling rate, None until enough words
    baseline: float | None  # the agent's own rate earlier in the call and on their recent calls
    words: int  # words in the window


@dataclass(frozen=True)
class PastPace:
    """The agent's typical rate: the median over their recent stored calls."""

    wpm: float
    calls: int


# This call's own rate from its first 40-odd words is noisy (an account number read out moves
# it 20 wpm); the median of recent calls is steady but may not fit today's call. Each counts by
# words: the past as PAST_WORDS words of this call, so the call's own rate takes over as the
# agent keeps talking (equal weight at 120 words, 80 % at 480) without a jump at 40 words.
PAST_WORDS = 120


class PaceTracker:
    def __init__(self, window_s: float = 30.0, min_words: int = 20, baseline_min_words: int = 40,
                 past: PastPace | None = None):
        self.window_s = window_s
        self.min_words = min_words
        self.baseline_min_words = baseline_min_words
        self.past = past
        self._spans: deque[tuple[float, float, int]] = deque()  # (start, end, words) per utterance
        self._before_words = 0  # words that left the window: the baseline
        self._before_time = 0.0

    def add(self, words) -> None:
        """Words of one agent utterance (objects with .start/.end seconds)."""
        if words:
            self._spans.append((words[0].start, max(words[-1].end, words[0].start + 0.05), len(words)))

    def at(self, now: float) -> Pace:
        while self._spans and self._spans[0][1] < now - self.window_s:
            start, end, n = self._spans.popleft()
            self._before_words += n
            self._before_time += end - start
        words = sum(n for *_, n in self._spans)
        time = sum(end - start for start, end, _ in self._spans)
        wpm = 60.0 * words / time if words >= self.min_words and time > 0 else None
        return Pace(_round(wpm), _round(self._baseline()), words)

    def _baseline(self) -> float | None:
        own = own_words = 0.0
        if self._before_words >= self.baseline_min_words and self._before_time > 0:
            own, own_words = 60.0 * self._before_words / self._before_time, self._before_words
        if self.past is None:
            return own or None
        return (self.past.wpm * PAST_WORDS + own * own_words) / (PAST_WORDS + own_words)

    def words(self) -> int:
        """All the agent's words this call."""
        return self._before_words + sum(n for *_, n in self._spans)

    def overall(self) -> float | None:
        """This call's own rate over all its words (what a later call's `PastPace` is made of)."""
        words = self.words()
        time = self._before_time + sum(end - start for start, end, _ in self._spans)
        return _round(60.0 * words / time) if words and time > 0 else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)

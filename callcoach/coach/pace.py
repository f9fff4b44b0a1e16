"""The agent's speaking rate from word timestamps.

Definition: words per minute over the agent's speech in a rolling window of call time.
Speech time is the span from the first to the last word of each utterance, so pauses
*inside* an utterance count and the silence *between* utterances (listening, holds) does
not. The baseline is the same rate over everything the agent said before the window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    wpm: float | None  # rolling rate, None until enough words
    baseline: float | None  # the agent's own rate earlier in the call
    words: int  # words in the window


class PaceTracker:
    def __init__(self, window_s: float = 30.0, min_words: int = 20, baseline_min_words: int = 40):
        self.window_s = window_s
        self.min_words = min_words
        self.baseline_min_words = baseline_min_words
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
        baseline = None
        if self._before_words >= self.baseline_min_words and self._before_time > 0:
            baseline = 60.0 * self._before_words / self._before_time
        return Pace(_round(wpm), _round(baseline), words)

    def overall(self) -> float | None:
        words = self._before_words + sum(n for *_, n in self._spans)
        time = self._before_time + sum(end - start for start, end, _ in self._spans)
        return _round(60.0 * words / time) if words and time > 0 else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)

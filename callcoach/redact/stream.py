"""A live call redacted utterance by utterance (`StreamRedactor`)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from callcoach.redact.analysis import Redaction, analyse
from callcoach.redact.runs import Context
from callcoach.redact.vocabulary import CHAIN_GAP


@dataclass
class _Tail:
    digits: int
    gap: int
    index: int
    at: float | None


class StreamRedactor:
    """Redacts a live call utterance by utterance; what it returns can be stored at once.

    One instance per call; pass each final utterance with its speaker (and, if known, its
    time on the call clock in seconds). Cues ("card number", "what's the CVV?") count for
    both speakers for the next `window_utterances` utterances within `window_seconds`;
    digits are chained per speaker. Nothing already returned is ever revised, so the rules
    are conservative at the time of each utterance (see the module docstring):

    * after a card cue from either speaker within the window, any run of 4+ digits is
      redacted, however short;
    * a run of 4+ digits (alone or chained) that ends an utterance is redacted at once
      (``[NUMBER]``), as it may be the start of a number that goes on in the next one; a
      continuation of open digits is redacted as soon as the chain reaches 4 digits;
    * 13+ digits chained over utterances are a card.

    So of a number read in pieces, one piece per utterance, at most the first 3 digits reach
    the record, with or without a cue. A piece of 4+ digits followed by more than 3 ordinary
    words in its own utterance, with no cue anywhere near, is kept (a known leak).

    `enabled=False` (the user's ``redact`` setting off, and no policy forcing it) returns
    the text unchanged.
    """

    def __init__(self, *, enabled: bool = True, window_utterances: int = 3, window_seconds: float = 30.0):
        self.enabled = enabled
        self.window_utterances = window_utterances
        self.window_seconds = window_seconds
        self._index = 0
        self._cues: deque[tuple[int, float | None, str]] = deque(maxlen=64)
        self._tails: dict[str, _Tail] = {}

    def reset(self) -> None:
        self._index = 0
        self._cues.clear()
        self._tails.clear()

    def _recent(self, index: int, at: float | None, then_index: int, then_at: float | None) -> bool:
        if index - then_index > self.window_utterances:
            return False
        return at is None or then_at is None or at - then_at <= self.window_seconds

    def push_redaction(self, text: str, speaker: str = "customer", at: float | None = None) -> Redaction:
        """Like :meth:`push`, with the kinds found."""
        if not isinstance(text, str):
            raise TypeError(f"push() needs str, not {type(text).__name__}")
        self._index += 1
        if not self.enabled:
            return Redaction(text)
        index = self._index
        cues = []
        for (then_index, then_at, kind) in reversed(self._cues):
            if not self._recent(index, at, then_index, then_at):
                break
            if kind == "REF" and index - then_index > 1:
                continue
            cues.append(kind)
        tail = self._tails.get(speaker)
        chain = (0, 0)
        if tail and self._recent(index, at, tail.index, tail.at):
            chain = (tail.digits, tail.gap)
        outcome = analyse(text, Context(tuple(cues), *chain), stream=True)
        for kind in outcome.cues:
            self._cues.append((index, at, kind))
        if outcome.chain_digits:
            self._tails[speaker] = _Tail(outcome.chain_digits, outcome.chain_gap, index, at)
        elif tail and not outcome.has_runs and tail.gap + outcome.words <= CHAIN_GAP:
            tail.gap += outcome.words  # "okay", "uh": the number may still go on
        else:
            self._tails.pop(speaker, None)
        return Redaction(outcome.text, outcome.found)

    def push(self, text: str, speaker: str = "customer", at: float | None = None) -> str:
        """The redacted text of this utterance, given the recent ones."""
        return self.push_redaction(text, speaker, at).text

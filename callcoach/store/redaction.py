"""What a call would store, redacted first (callcoach.redact): texts, utterances with their
word timings, whole events."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence

from callcoach.coach.events import CallSummary, Prompt, PromptWithheld
from callcoach.engine.events import DeviceGap, Notice, Utterance


def load_redactor():
    from callcoach import redact  # written alongside; imported only when something is stored

    return redact


def redact_text(text: str | None) -> str | None:
    """One piece of text with personal data removed (no state carried between calls)."""
    if not text:
        return text
    return load_redactor().redact(text).text


def _redact_words(words: Sequence, original: str, redacted: str) -> tuple:
    """Word timings kept; the words' text follows the redacted utterance text.

    Tokens the redactor left alone keep their word; a replaced stretch puts the replacement
    on its first word and empties the others. If the result would still read as personal
    data, every word loses its text (timings stay).
    """
    if redacted == original:
        return tuple(words)
    old = [w.text.strip() for w in words]
    new = redacted.split()
    texts = [w.text for w in words]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            for k in range(i1, i2):
                texts[k] = ""
            lead = " " if words[i1].text[:1] == " " else ""
            texts[i1] = (lead + " ".join(new[j1:j2])) if j2 > j1 else ""
    if load_redactor().redact(" ".join(texts)).found:
        texts = [""] * len(words)
    return tuple(dataclasses.replace(w, text=t) for w, t in zip(words, texts))


class EventRedactor:
    """Redaction of everything a call would store: utterances through one StreamRedactor
    (a number read in pieces, or asked for by the other speaker, is still caught), the
    rest (prompt reasons, handoff note, checklist, notices) one text at a time."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._stream = None

    def text(self, text: str | None) -> str | None:
        return redact_text(text) if self.enabled else text

    def event(self, event):
        """The event as it may be stored: the same event if there is nothing to redact in it."""
        redact = self._BY_TYPE.get(type(event)) if self.enabled else None
        return redact(self, event) if redact else event

    def _utterance(self, event: Utterance) -> Utterance:
        if self._stream is None:
            self._stream = load_redactor().StreamRedactor()
        text = self._stream.push(event.text, event.role, event.end)
        return dataclasses.replace(event, text=text, words=_redact_words(event.words, event.text, text))

    def _prompt(self, event: Prompt) -> Prompt:
        return dataclasses.replace(
            event, because=self.text(event.because), handoff=self.text(event.handoff),
            message=self.text(event.message), phrase=self.text(event.phrase),
            checklist=tuple(self.text(c) for c in event.checklist))

    def _withheld(self, event: PromptWithheld) -> PromptWithheld:
        return dataclasses.replace(event, because=self.text(event.because))

    def _notice(self, event: Notice) -> Notice:
        return dataclasses.replace(event, message=self.text(event.message))

    def _gap(self, event: DeviceGap) -> DeviceGap:
        return dataclasses.replace(event, reason=self.text(event.reason))

    def _summary(self, event: CallSummary) -> CallSummary:
        return dataclasses.replace(event, handoff=self.text(event.handoff),
                                   checklist=tuple(self.text(c) for c in event.checklist))

    # Every event that carries words; the others hold only numbers and names.
    _BY_TYPE = {Utterance: _utterance, Prompt: _prompt, PromptWithheld: _withheld, Notice: _notice,
                DeviceGap: _gap, CallSummary: _summary}


def redacted_recorder(pipeline):
    """A second SessionRecorder for this call (same id and start) that only sees redacted
    events: its summary is what may be written to a file."""
    from callcoach.session import SessionRecorder

    rec = pipeline.recorder
    recorder = SessionRecorder(rec.source)
    recorder.id, recorder.started_at = rec.id, rec.started_at
    redactor = EventRedactor(True)
    pipeline.subscribe(lambda event: recorder(redactor.event(event)))
    return recorder

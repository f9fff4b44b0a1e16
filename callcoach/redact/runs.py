"""Chunks into runs (digits joined only by separators and fillers), and the cue words before
them; what a stream carries from one utterance to the next."""

from __future__ import annotations

from dataclasses import dataclass

from callcoach.redact.tokens import PUNCTUATION, WORD, Chunk, Token
from callcoach.redact.vocabulary import CUE_INDEX, JOIN_WORDS, SEPARATOR_CHARS


@dataclass(slots=True)
class Run:
    chunks: list[Chunk]
    seps: list[str]
    s: int = 0
    e: int = 0
    digits: str = ""
    written: bool = False
    amount: bool = False  # an amount or a quantity ("$49.99", "45 minutes")
    temporal: bool = False  # after "at", "on", "since", ... (a time, date or year)
    clock: bool = False  # written like "1:32" or "10:30": a time of day or on the call
    kind: str | None = None
    keep: bool = False  # kept on purpose (order number, ...)
    chain: int = -1

    @property
    def n(self) -> int:
        return len(self.digits)

    @property
    def groups(self) -> list[int]:
        return [len(c.digits) for c in self.chunks]


def _is_joiner(t: Token) -> bool:
    return (t.kind == PUNCTUATION and t.text in SEPARATOR_CHARS) or (t.kind == WORD and t.low in JOIN_WORDS)


def read_runs(toks: list[Token], chunks: list[Chunk], lone_oh_first: bool = False) -> list[Run]:
    runs: list[Run] = []
    cur: list[Chunk] = []
    seps: list[str] = []
    for c in chunks:
        if cur:
            between = toks[cur[-1].e:c.s]
            if len(between) <= 4 and all(_is_joiner(t) for t in between):
                cur.append(c)
                seps.append("".join(t.low for t in between))
                continue
            runs.append(Run(cur, seps))
        cur, seps = [c], []
    if cur:
        runs.append(Run(cur, seps))
    out = []
    for r in runs:
        # "oh, I see" is no zero; "oh oh oh" is 000, and so is a lone "oh" that carries on
        # open digits from this speaker's last utterance
        if len(r.chunks) < 2 and r.chunks[0].weak_zero and not (lone_oh_first and not out):
            continue
        r.s, r.e = r.chunks[0].s, r.chunks[-1].e
        r.digits = "".join(c.digits for c in r.chunks)
        r.written = all(c.written for c in r.chunks)
        out.append(r)
    return out


@dataclass(slots=True)
class Cue:
    kind: str
    s: int  # token span [s, e)
    e: int


def find_cues(toks: list[Token]) -> list[Cue]:
    words = [(i, t.low) for i, t in enumerate(toks) if t.kind == WORD]
    cues: list[Cue] = []
    k = 0
    while k < len(words):
        i, w = words[k]
        w = w.removesuffix("'s")
        hit = None
        if w.startswith("expir"):
            hit = (1, "EXPIRY")
        else:
            for phrase, kind in CUE_INDEX.get(w, ()):
                m = len(phrase)
                if k + m <= len(words) and all(words[k + x][1] == phrase[x] and words[k + x][0] == i + x
                                               for x in range(m)):
                    hit = (m, kind)
                    break
        if hit:
            m, kind = hit
            cues.append(Cue(kind, i, words[k + m - 1][0] + 1))
            k += m
        else:
            k += 1
    return cues


@dataclass
class Context:
    """What a stream carries into the next utterance."""

    cues: tuple[str, ...] = ()  # kinds, most recent first
    chain_digits: int = 0  # open digits at the end of this speaker's last utterance
    chain_gap: int = 0  # ordinary words after them


@dataclass
class Outcome:
    text: str
    found: tuple[str, ...]
    cues: tuple[str, ...]  # cue kinds seen, in order
    chain_digits: int
    chain_gap: int
    words: int = 0  # ordinary words
    has_runs: bool = False

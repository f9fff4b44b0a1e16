"""Text into tokens, and number words and digit groups into chunks of digits (the reader)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from callcoach.redact.vocabulary import HOMOPHONES, REPEAT, TEENS, TENS, UNITS, WEAK_ZERO, ZERO

PLACEHOLDER, DIGITS, WORD, SPACE, PUNCTUATION = range(5)
_TOKEN_RE = re.compile(
    r"(\[(?:CARD|CVV|EXPIRY|SSN|PHONE|EMAIL|PIN|NUMBER)\])|(\d+)|([^\W\d_]+(?:['’][^\W\d_]+)*)|(\s+)|(.)",
    re.S,
)


@dataclass(slots=True)
class Token:
    kind: int
    text: str
    low: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Non-space tokens of `text` with their character spans."""
    out = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastindex - 1
        if kind == SPACE:
            continue
        s = m.group()
        out.append(Token(kind, s, s.lower().replace("’", "'"), m.start(), m.end()))
    return out


def decimal_digits(s: str) -> str:
    return "".join(str(unicodedata.decimal(c, 0)) for c in s)


@dataclass(slots=True)
class Chunk:
    s: int  # token span [s, e)
    e: int
    digits: str
    single: bool = False  # one spoken or written digit
    weak_zero: bool = False
    written: bool = False


def _single_digit(t: Token) -> str | None:
    if t.kind == DIGITS:
        d = decimal_digits(t.text)
        return d if len(d) == 1 else None
    if t.kind == WORD:
        if t.low in UNITS:
            return str(UNITS[t.low])
        if t.low in ZERO or t.low in WEAK_ZERO:
            return "0"
    return None


class NumberReader:
    """Turns number words and digit groups into chunks."""

    def __init__(self, toks: list[Token], skip: set[int] | frozenset = frozenset(), strong_oh: bool = False,
                 homophones: str = "bridge"):
        self.t = toks
        self.skip = skip
        self.strong_oh = strong_oh
        self.homophones = homophones  # "bridge" (between single digits), "always", "never"

    def low(self, i: int) -> str:
        if 0 <= i < len(self.t) and self.t[i].kind == WORD and i not in self.skip:
            return self.t[i].low
        return ""

    def _hyphen(self, i: int) -> int:
        """Index after an optional '-' at i."""
        if 0 <= i < len(self.t) and self.t[i].kind == PUNCTUATION and self.t[i].text in "-‐‑":
            return i + 1
        return i

    def _below_hundred(self, i: int) -> tuple[int, int] | None:
        w = self.low(i)
        if w in UNITS:
            return UNITS[w], i + 1
        if w in TEENS:
            return TEENS[w], i + 1
        if w in TENS:
            j = self._hyphen(i + 1)
            if self.low(j) in UNITS:
                return TENS[w] + UNITS[self.low(j)], j + 1
            return TENS[w], i + 1
        return None

    def _below_thousand(self, i: int) -> tuple[int, int] | None:
        r = self._below_hundred(i)
        if r is None and 0 <= i < len(self.t) and self.t[i].kind == DIGITS and len(self.t[i].text) <= 3 \
                and self.low(i + 1) in ("hundred", "thousand"):
            r = (int(decimal_digits(self.t[i].text)), i + 1)
        if r is None:
            return None
        return self._scaled(*r, "hundred", 100, self._below_hundred)

    def _cardinal(self, i: int) -> tuple[int, int] | None:
        r = self._below_thousand(i)
        if r is None:
            return None
        return self._scaled(*r, "thousand", 1000, self._below_thousand)

    def _scaled(self, value: int, end: int, word: str, scale: int,
                below: Callable[[int], tuple[int, int] | None]) -> tuple[int, int]:
        """`value` times `scale` when `word` follows it ("four hundred", "two thousand"), plus
        the number below `scale` after that, "and" allowed between ("two thousand and five")."""
        if self.low(end) != word or value >= scale:
            return value, end
        value *= scale
        end += 1
        after = end + 1 if self.low(end) == "and" and below(end + 1) else end
        rest = below(after)
        if rest and rest[0] < scale:
            value, end = value + rest[0], rest[1]
        return value, end

    def chunks(self) -> list[Chunk]:
        t, out, i, n = self.t, [], 0, len(self.t)
        while i < n:
            tok = t[i]
            if i in self.skip:
                i += 1
                continue
            if tok.kind == DIGITS:
                r = self._cardinal(i) if self.low(i + 1) in ("hundred", "thousand") else None
                if r:
                    out.append(Chunk(i, r[1], str(r[0]), written=True))
                    i = r[1]
                    continue
                d = decimal_digits(tok.text)
                out.append(Chunk(i, i + 1, d, single=len(d) == 1, written=True))
                i += 1
                continue
            if tok.kind != WORD:
                i += 1
                continue
            w = tok.low
            if w in REPEAT and i + 1 < n and i + 1 not in self.skip:
                d = _single_digit(t[i + 1])
                if d is not None:
                    out.append(Chunk(i, i + 2, d * REPEAT[w]))
                    i += 2
                    continue
            if w in ZERO:
                out.append(Chunk(i, i + 1, "0", single=True))
            elif w in WEAK_ZERO:
                out.append(Chunk(i, i + 1, "0", single=True, weak_zero=not self.strong_oh))
            elif w in UNITS or w in TEENS or w in TENS:
                v, j = self._cardinal(i)
                out.append(Chunk(i, j, str(v), single=(j == i + 1 and w in UNITS)))
                i = j
                continue
            elif w in HOMOPHONES and self.homophones != "never":
                if self.homophones == "always" or (
                        out and out[-1].e == i and out[-1].single and i + 1 < n
                        and i + 1 not in self.skip and _single_digit(t[i + 1]) is not None
                        and t[i + 1].low not in WEAK_ZERO):
                    out.append(Chunk(i, i + 1, HOMOPHONES[w], single=True))
            i += 1
        return out

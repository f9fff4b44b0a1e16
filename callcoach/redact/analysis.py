"""Personal data out of everything CallCoach stores or logs: card numbers, CVVs, expiry
dates, social security numbers, phone numbers, PINs and email addresses.

The input is speech-recogniser text, so a number can be written ("4111 1111 1111 1111",
"4111-1111-...", "41111111...", "4,111,111,..."), spoken ("four one one one", "double
four", "triple seven", "oh" for zero, "forty one eleven", "four thousand one hundred"),
mixed ("4 1 1 1 one one"), broken up by commas, full stops, dashes and "uh", and split
over several utterances. Pure Python (``re``, ``unicodedata``, ``bisect``), no Qt.

Entry points:

* :func:`redact` - one self-contained text (a note, a report line, a whole transcript).
* :class:`StreamRedactor` - a live call, utterance by utterance, remembering the last few
  utterances of both speakers so that a card number read in pieces is still caught.
* :func:`contains_planted` - the checker for leak tests: finds planted numbers in
  databases, logs and reports in any form (digits with or without separators, spoken).

The live transcript on screen may show the words; only redacted text goes to the record.
Redaction is on by default (the ``redact`` setting, which a machine policy can lock on);
``StreamRedactor(enabled=False)`` passes text through unchanged for when it is off, so the
store has one code path.

How a text is read
------------------
Email addresses go first. Then numbers are read into *runs*: maximal sequences of written
digit groups and number words joined only by separators (spaces, ``, . - / : ( ) + ?``,
"dash", "slash", "and") or fillers ("uh", "um"). "double"/"triple" repeat the next digit;
"oh" is a zero when it touches another digit; "for"/"to"/"won"/"ate" count as 4/2/1/8 only
between two single spoken digits. *Cues* are the words before them ("card", "visa", "cvv",
"expires", "social", "phone", "pin", "order number", ...). Distances are counted in
ordinary words only (number words, fillers, month names and placeholders do not count),
which is what makes ``redact(redact(x)) == redact(x)``.

A run is redacted as

* ``[CARD]``: 13 or more digits, anywhere, Luhn-valid or not; or runs that together make 13
  or more digits with at most 4 ordinary words between each (a *chain*: "4111 1111, yes,
  1111 1111, okay, ..."); or 4+ digits within 30 words after a card cue ("card", "visa",
  "mastercard", "amex", "credit", "debit", "long number", "on the front", "last four",
  "ending in").
* ``[CVV]``: 3-4 digits after "cvv", "cvc", "security code", "on the back", "three digit",
  or after "code" when a card cue came before.
* ``[EXPIRY]``: 2-6 digits (and a month name right before them) after "expires", "expiry",
  "expiration", "exp date", "valid until/thru", "good through".
* ``[SSN]``: the written 3-2-4 shape (123-45-6789); 4+ digits after "social", "ssn",
  "social security"; any other 9-digit run.
* ``[PHONE]``: 10-12 digits; 7+ digits after "phone", "cell", "mobile", "callback", "reach
  me", "call me at", ...; the written shapes 555-867-5309, 1 800 555 0199, 867-5309.
* ``[PIN]``: 4-8 digits after "pin", "passcode", "password".
* ``[EMAIL]``: written addresses and spoken ones ("john dot smith at gmail dot com", "bob at
  gmail", "k lee at icloud dot com"); after "email is" / "email address is" (or right
  after the other speaker asked for an email) the local part reaches back to the cue
  ("peter parker at gmail dot com").

The nearest cue before a run decides its kind when the run fits it; otherwise the next
nearest, then the card-cue window, then the shapes. The kind is a label: what matters is
that the run is gone.

What is kept on purpose
-----------------------
Ordinary numbers: durations ("three weeks"), years ("two thousand twenty four", "since
2019"), amounts ("$49.99", "forty nine ninety nine", "25 dollars"), times ("at four
thirty", "2:15"), dates ("12/25/2023"), counts, versions. Order, ticket, case, reference,
confirmation, tracking, invoice and claim numbers are not personal data and are kept when
such a cue is the nearest, within 4 words - but a 13+ digit run (or chain) is a card
whatever precedes it. After a card cue, amounts with "$" or a unit word and times/dates
after "at"/"on"/"since" stay; a bare "1500" right after "card" is redacted (the record
loses an amount rather than risk four card digits). Not covered: names, postal addresses,
dates of birth, account numbers without a card cue (8 digits or fewer).

Live calls: the guarantee
-------------------------
:class:`StreamRedactor` never revises what it already returned (that text may already be
stored, and a database keeps deleted bytes); it decides conservatively at the time of each
utterance, so whatever it returns can be written at once:

1. Cues count for both speakers for ``window_utterances`` utterances (default 3) within
   ``window_seconds`` (30 s): after the agent asks for "the long number on the front of the
   card", every 4+ digit run in the next three utterances is ``[CARD]``; "what's the
   CVV?" then "eight oh eight" is ``[CVV]``.
2. Digits chain per speaker across utterances. A run of 4+ digits (alone or chained) that
   ends an utterance (at most 3 ordinary words after it) is redacted at once as
   ``[NUMBER]``, because it may go on in the next utterance - unless it is an amount, a
   time/date/year after "at"/"on"/"since"/..., or an order number. A run that carries on
   open digits from the same speaker's previous utterance (at most 4 ordinary words
   between) is redacted as soon as the chain reaches 4 digits, and as ``[CARD]`` at 13.

So a number read in pieces, with or without a cue, loses at most its first 3 digits to the
record (fewer than the first 6 that PCI DSS lets a display show). What this cannot promise
(``benchmarks/redaction_eval.py`` lists the measured leaks): a card read with no cue at
all, in pieces of 4-12 digits each followed by more than 3 ordinary words in the same
utterance ("four one one one, did you get that?"), keeps those pieces; spellings the reader
does not know (letters for digits, Roman numerals) are not numbers to it. The pre-emptive
rule also redacts some harmless numbers that end an utterance ("the total came to forty
nine ninety nine", "quoted me 1,200 for the repair").
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass

__all__ = ["KINDS", "Redaction", "StreamRedactor", "contains_planted", "digit_stream", "redact"]

KINDS = ("CARD", "CVV", "EXPIRY", "SSN", "PHONE", "EMAIL", "PIN", "NUMBER")
_PH = {k: f"[{k}]" for k in KINDS}


@dataclass(frozen=True)
class Redaction:
    """Redacted text and the kinds found, one entry per replaced span in text order."""

    text: str
    found: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.found)


# --- vocabulary ------------------------------------------------------------------------------

_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_ZERO = {"zero", "nought", "naught"}
_WEAK_ZERO = {"oh", "o"}  # a zero only when touching another digit
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
         "seventy": 70, "eighty": 80, "ninety": 90}
_REPEAT = {"double": 2, "triple": 3, "treble": 3, "quadruple": 4}
_HOMOPHONES = {"for": "4", "fore": "4", "to": "2", "too": "2", "won": "1", "ate": "8"}
_FILLERS = {"uh", "um", "umm", "uhm", "uhh", "er", "erm", "ah", "hmm", "mm", "hm"}
_JOIN_WORDS = {"and", "dash", "hyphen", "slash"} | _FILLERS
_SEP_CHARS = set(",.-‐‑‒–—―/\\:;()+…·*#'\"?!_")
_MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december", "jan", "feb", "mar", "apr", "jun",
           "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
_NUMBER_WORDS = (set(_UNITS) | _ZERO | _WEAK_ZERO | set(_TEENS) | set(_TENS) | set(_REPEAT)
                 | {"hundred", "thousand"})
# Words that never count towards distances: whatever a redaction can remove.
_UNCOUNTED = _NUMBER_WORDS | set(_HOMOPHONES) | _JOIN_WORDS | _MONTHS

_CURRENCY = set("$£€¥₹")
_QUANTITY_AFTER = {
    "dollar", "dollars", "buck", "bucks", "cent", "cents", "pound", "pounds", "euro", "euros",
    "quid", "percent", "pct", "points", "point", "miles", "mile", "minutes", "minute", "mins",
    "hours", "hour", "hrs", "seconds", "second", "days", "day", "weeks", "week", "months",
    "month", "years", "year", "yrs", "times", "people", "items", "kilos", "kg", "lbs", "feet",
    "foot", "inches", "gb", "mb", "gigs", "megs", "am", "pm", "o'clock", "oclock", "th", "st",
    "nd", "rd", "degrees", "calories", "kids", "users", "lines", "devices", "phones",
}
_TEMPORAL_BEFORE = {"at", "on", "by", "until", "till", "til", "around", "before", "after",
                    "from", "since", "in", "during", "between", "about"}

# cue phrases -> kind. "REF" keeps short numbers; "CODE" is a CVV cue only after a card cue.
_CUE_PHRASES: list[tuple[tuple[str, ...], str]] = [
    (("card",), "CARD"), (("cards",), "CARD"), (("visa",), "CARD"), (("mastercard",), "CARD"),
    (("master", "card"), "CARD"), (("amex",), "CARD"), (("american", "express"), "CARD"),
    (("discover", "card"), "CARD"), (("credit",), "CARD"), (("debit",), "CARD"),
    (("long", "number"), "CARD"), (("on", "the", "front"), "CARD"), (("last", "four"), "CARD"),
    (("ending", "in"), "CARD"), (("ends", "in"), "CARD"), (("ending", "with"), "CARD"),
    (("sixteen", "digit"), "CARD"), (("sixteen", "digits"), "CARD"), (("pan",), "CARD"),
    (("cvv",), "CVV"), (("cvc",), "CVV"), (("cvv2",), "CVV"), (("cv2",), "CVV"), (("csc",), "CVV"),
    (("c", "v", "v"), "CVV"), (("security", "code"), "CVV"), (("security", "number"), "CVV"),
    (("verification", "code"), "CVV"), (("verification", "value"), "CVV"),
    (("on", "the", "back"), "CVV"), (("three", "digit"), "CVV"), (("three", "digits"), "CVV"),
    (("four", "digit", "code"), "CVV"), (("code",), "CODE"),
    (("exp",), "EXPIRY"), (("exp", "date"), "EXPIRY"), (("valid", "until"), "EXPIRY"),
    (("valid", "thru"), "EXPIRY"), (("valid", "through"), "EXPIRY"), (("good", "through"), "EXPIRY"),
    (("good", "thru"), "EXPIRY"), (("good", "until"), "EXPIRY"),
    (("social",), "SSN"), (("ssn",), "SSN"), (("s", "s", "n"), "SSN"),
    (("social", "security"), "SSN"), (("tax", "id"), "SSN"),
    (("phone",), "PHONE"), (("telephone",), "PHONE"), (("cell",), "PHONE"), (("mobile",), "PHONE"),
    (("callback",), "PHONE"), (("call", "back", "number"), "PHONE"), (("call", "me", "at"), "PHONE"),
    (("call", "me", "on"), "PHONE"), (("call", "me", "back", "at"), "PHONE"),
    (("reach", "me"), "PHONE"), (("reach", "you"), "PHONE"), (("text", "me"), "PHONE"),
    (("contact", "number"), "PHONE"), (("fax",), "PHONE"), (("landline",), "PHONE"),
    (("order",), "REF"), (("ticket",), "REF"), (("case",), "REF"), (("reference",), "REF"),
    (("confirmation",), "REF"), (("tracking",), "REF"), (("invoice",), "REF"), (("claim",), "REF"),
    (("incident",), "REF"), (("receipt",), "REF"), (("ref",), "REF"), (("model",), "REF"),
    (("serial",), "REF"), (("version",), "REF"),
    (("pin",), "PIN"), (("passcode",), "PIN"), (("pass", "code"), "PIN"), (("password",), "PIN"),
    (("email",), "EMAIL"), (("e", "mail"), "EMAIL"), (("e-mail",), "EMAIL"), (("mail",), "EMAIL"),
]
_CUE_INDEX: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _phrase, _kind in sorted(_CUE_PHRASES, key=lambda p: -len(p[0])):
    _CUE_INDEX.setdefault(_phrase[0], []).append((_phrase, _kind))

# How many ordinary words after a cue it still applies to.
_WINDOW = {"CARD": 30, "CVV": 12, "EXPIRY": 12, "SSN": 12, "PHONE": 12, "PIN": 8, "REF": 4, "EMAIL": 8}
_CHAIN_GAP = 4  # ordinary words allowed between runs of one chain
_OPEN_END = 3  # ordinary words after a run that still leave it "open" at an utterance's end

_TLDS = {"com", "net", "org", "edu", "gov", "io", "co", "uk", "us", "ca", "info", "biz", "me",
         "de", "fr", "au", "in", "mil", "ai", "app", "dev", "ly", "ie", "nz", "es", "it", "nl"}
_PROVIDERS = {"gmail", "yahoo", "hotmail", "outlook", "aol", "icloud", "msn", "comcast",
              "protonmail", "proton", "live", "gmx", "verizon", "att", "sbcglobal", "ymail"}
_LOCAL_JOIN_WORDS = {"dot", "underscore", "dash", "hyphen", "period", "point"}
_LOCAL_JOIN_CHARS = set("._-+")
_EMAIL_LEAD = {"is", "it's", "its", "it", "address", "would", "be", "just", "the", "my", "at",
               "me", "to", "'s", "that's", "thats", "yeah", "yes", "sure", "okay", "ok"} | _FILLERS
_EMAIL_COPULA = {"is", "it's", "its", "'s", "be", "that's", "thats", ":", ","}

# --- tokens ----------------------------------------------------------------------------------

_PH_T, _NUM, _WORD, _SPACE, _PUNCT = range(5)
_TOKEN_RE = re.compile(
    r"(\[(?:CARD|CVV|EXPIRY|SSN|PHONE|EMAIL|PIN|NUMBER)\])|(\d+)|([^\W\d_]+(?:['’][^\W\d_]+)*)|(\s+)|(.)",
    re.S,
)


@dataclass(slots=True)
class _Tok:
    kind: int
    text: str
    low: str
    start: int
    end: int


def _tokens(text: str) -> list[_Tok]:
    """Non-space tokens of `text` with their character spans."""
    out = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastindex - 1
        if kind == _SPACE:
            continue
        s = m.group()
        out.append(_Tok(kind, s, s.lower().replace("’", "'"), m.start(), m.end()))
    return out


def _digits(s: str) -> str:
    return "".join(str(unicodedata.decimal(c, 0)) for c in s)


@dataclass(slots=True)
class _Chunk:
    s: int  # token span [s, e)
    e: int
    digits: str
    single: bool = False  # one spoken or written digit
    weak_zero: bool = False
    written: bool = False


def _single_digit(t: _Tok) -> str | None:
    if t.kind == _NUM:
        d = _digits(t.text)
        return d if len(d) == 1 else None
    if t.kind == _WORD:
        if t.low in _UNITS:
            return str(_UNITS[t.low])
        if t.low in _ZERO or t.low in _WEAK_ZERO:
            return "0"
    return None


class _Reader:
    """Turns number words and digit groups into chunks."""

    def __init__(self, toks: list[_Tok], skip: set[int] | frozenset = frozenset(), strong_oh: bool = False,
                 homophones: str = "bridge"):
        self.t = toks
        self.skip = skip
        self.strong_oh = strong_oh
        self.homophones = homophones  # "bridge" (between single digits), "always", "never"

    def low(self, i: int) -> str:
        if 0 <= i < len(self.t) and self.t[i].kind == _WORD and i not in self.skip:
            return self.t[i].low
        return ""

    def _hyphen(self, i: int) -> int:
        """Index after an optional '-' at i."""
        if 0 <= i < len(self.t) and self.t[i].kind == _PUNCT and self.t[i].text in "-‐‑":
            return i + 1
        return i

    def _below_hundred(self, i: int) -> tuple[int, int] | None:
        w = self.low(i)
        if w in _UNITS:
            return _UNITS[w], i + 1
        if w in _TEENS:
            return _TEENS[w], i + 1
        if w in _TENS:
            j = self._hyphen(i + 1)
            if self.low(j) in _UNITS:
                return _TENS[w] + _UNITS[self.low(j)], j + 1
            return _TENS[w], i + 1
        return None

    def _below_thousand(self, i: int) -> tuple[int, int] | None:
        r = self._below_hundred(i)
        if r is None and 0 <= i < len(self.t) and self.t[i].kind == _NUM and len(self.t[i].text) <= 3 \
                and self.low(i + 1) in ("hundred", "thousand"):
            r = (int(_digits(self.t[i].text)), i + 1)
        if r is None:
            return None
        v, j = r
        if self.low(j) == "hundred" and v < 100:
            v *= 100
            j += 1
            k = j + 1 if self.low(j) == "and" and self._below_hundred(j + 1) else j
            r2 = self._below_hundred(k)
            if r2:
                v += r2[0]
                j = r2[1]
        return v, j

    def _cardinal(self, i: int) -> tuple[int, int] | None:
        r = self._below_thousand(i)
        if r is None:
            return None
        v, j = r
        if self.low(j) == "thousand" and v < 1000:
            v *= 1000
            j += 1
            k = j + 1 if self.low(j) == "and" and self._below_thousand(j + 1) else j
            r2 = self._below_thousand(k)
            if r2 and r2[0] < 1000:
                v += r2[0]
                j = r2[1]
        return v, j

    def chunks(self) -> list[_Chunk]:
        t, out, i, n = self.t, [], 0, len(self.t)
        while i < n:
            tok = t[i]
            if i in self.skip:
                i += 1
                continue
            if tok.kind == _NUM:
                r = self._cardinal(i) if self.low(i + 1) in ("hundred", "thousand") else None
                if r:
                    out.append(_Chunk(i, r[1], str(r[0]), written=True))
                    i = r[1]
                    continue
                d = _digits(tok.text)
                out.append(_Chunk(i, i + 1, d, single=len(d) == 1, written=True))
                i += 1
                continue
            if tok.kind != _WORD:
                i += 1
                continue
            w = tok.low
            if w in _REPEAT and i + 1 < n and i + 1 not in self.skip:
                d = _single_digit(t[i + 1])
                if d is not None:
                    out.append(_Chunk(i, i + 2, d * _REPEAT[w]))
                    i += 2
                    continue
            if w in _ZERO:
                out.append(_Chunk(i, i + 1, "0", single=True))
            elif w in _WEAK_ZERO:
                out.append(_Chunk(i, i + 1, "0", single=True, weak_zero=not self.strong_oh))
            elif w in _UNITS or w in _TEENS or w in _TENS:
                v, j = self._cardinal(i)
                out.append(_Chunk(i, j, str(v), single=(j == i + 1 and w in _UNITS)))
                i = j
                continue
            elif w in _HOMOPHONES and self.homophones != "never":
                if self.homophones == "always" or (
                        out and out[-1].e == i and out[-1].single and i + 1 < n
                        and i + 1 not in self.skip and _single_digit(t[i + 1]) is not None
                        and t[i + 1].low not in _WEAK_ZERO):
                    out.append(_Chunk(i, i + 1, _HOMOPHONES[w], single=True))
            i += 1
        return out


def digit_stream(text: str, *, homophones: bool = False) -> str:
    """Every digit in `text`, written or spoken, in order, with everything else dropped.

    "Card 4111-1111, then four one one one" -> "41111111" + "4111". With `homophones`,
    "for", "to", "won", "ate" count as digits too (everywhere).
    """
    toks = _tokens(text)
    reader = _Reader(toks, strong_oh=True, homophones="always" if homophones else "never")
    return "".join(c.digits for c in reader.chunks())


# --- runs and cues ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    chunks: list[_Chunk]
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


def _is_joiner(t: _Tok) -> bool:
    return (t.kind == _PUNCT and t.text in _SEP_CHARS) or (t.kind == _WORD and t.low in _JOIN_WORDS)


def _runs(toks: list[_Tok], chunks: list[_Chunk], lone_oh_first: bool = False) -> list[_Run]:
    runs: list[_Run] = []
    cur: list[_Chunk] = []
    seps: list[str] = []
    for c in chunks:
        if cur:
            between = toks[cur[-1].e:c.s]
            if len(between) <= 4 and all(_is_joiner(t) for t in between):
                cur.append(c)
                seps.append("".join(t.low for t in between))
                continue
            runs.append(_Run(cur, seps))
        cur, seps = [c], []
    if cur:
        runs.append(_Run(cur, seps))
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
class _Cue:
    kind: str
    s: int  # token span [s, e)
    e: int


def _cues(toks: list[_Tok]) -> list[_Cue]:
    words = [(i, t.low) for i, t in enumerate(toks) if t.kind == _WORD]
    cues: list[_Cue] = []
    k = 0
    while k < len(words):
        i, w = words[k]
        w = w.removesuffix("'s")
        hit = None
        if w.startswith("expir"):
            hit = (1, "EXPIRY")
        else:
            for phrase, kind in _CUE_INDEX.get(w, ()):
                m = len(phrase)
                if k + m <= len(words) and all(words[k + x][1] == phrase[x] and words[k + x][0] == i + x
                                               for x in range(m)):
                    hit = (m, kind)
                    break
        if hit:
            m, kind = hit
            cues.append(_Cue(kind, i, words[k + m - 1][0] + 1))
            k += m
        else:
            k += 1
    return cues


@dataclass
class _Context:
    """What a stream carries into the next utterance."""

    cues: tuple[str, ...] = ()  # kinds, most recent first
    chain_digits: int = 0  # open digits at the end of this speaker's last utterance
    chain_gap: int = 0  # ordinary words after them


@dataclass
class _Outcome:
    text: str
    found: tuple[str, ...]
    cues: tuple[str, ...]  # cue kinds seen, in order
    chain_digits: int
    chain_gap: int
    words: int = 0  # ordinary words
    has_runs: bool = False


# --- emails ----------------------------------------------------------------------------------


def _emails(text: str, email_cue_carried: bool) -> tuple[str, list[int]]:
    """Text with email addresses replaced by [EMAIL], and where each placeholder starts."""
    toks = _tokens(text)
    n = len(toks)
    spans: list[tuple[int, int]] = []  # token spans
    last_end = 0

    def word_like(j: int) -> bool:
        return 0 <= j < n and toks[j].kind in (_WORD, _NUM)

    def adjacent(a: int, b: int) -> bool:  # no whitespace between tokens a and b
        return toks[a].end == toks[b].start

    for i, t in enumerate(toks):
        if i < last_end:
            continue
        is_at = (t.kind == _PUNCT and t.text in "@＠") or (t.kind == _WORD and t.low == "at")
        if not is_at:
            continue
        # domain: label (sep label)* ending in a TLD, or a known provider
        labels = []
        j = i + 1
        if not word_like(j):
            continue
        labels.append(j)
        j += 1
        end = None
        if toks[labels[0]].low in _PROVIDERS:
            end = labels[0] + 1
        while j < n and len(labels) < 6:
            if toks[j].kind == _PUNCT and toks[j].text == "." and word_like(j + 1):
                nxt = j + 1
            elif toks[j].kind == _WORD and toks[j].low in ("dot", "period") and word_like(j + 1):
                nxt = j + 1
            elif toks[j].kind == _PUNCT and toks[j].text == "-" and word_like(j + 1):
                nxt = j + 1
            else:
                break
            labels.append(nxt)
            j = nxt + 1
            if toks[nxt].low in _TLDS:
                end = j
        if end is None and t.text in "@＠" and labels:
            end = labels[0] + 1
        if end is None:
            continue
        # local part, backwards from the token before "at"
        k = i - 1
        if k < last_end or not word_like(k):
            continue
        start = k
        while True:
            p = start - 1
            if p < last_end:
                break
            if toks[p].kind == _PUNCT and toks[p].text in _LOCAL_JOIN_CHARS and p - 1 >= last_end \
                    and word_like(p - 1) and (adjacent(p, start) or adjacent(p - 1, p)):
                start = p - 1
                continue
            if toks[p].kind == _WORD and toks[p].low in _LOCAL_JOIN_WORDS and p - 1 >= last_end \
                    and word_like(p - 1):
                start = p - 1
                continue
            # glued on ("jsmith42"), spelled out / an initial ("j o h n", "k lee"), or a
            # name before its number ("doe 1990")
            if word_like(p) and (adjacent(p, start) or len(toks[p].text) == 1
                                 or (toks[start].kind == _NUM and toks[p].kind == _WORD
                                     and toks[p].low not in _EMAIL_LEAD)):
                start = p
                continue
            break
        # after "email is ...": the whole local part back to the cue
        cue_stop = None
        for c in range(start - 1, max(last_end, start - 10) - 1, -1):
            lw = toks[c].low
            if lw in ("email", "e-mail") or (lw == "mail" and c > 0 and toks[c - 1].low in ("e", "e-")):
                cue_stop = c + 1
                break
            if not (word_like(c) or toks[c].kind == _PUNCT and toks[c].text in ",:-"):
                break
        if cue_stop is None and email_cue_carried and not spans:
            cue_stop = 0
        if cue_stop is not None:
            # from after the last "is" / "it's" / ":" between the cue and the address
            s2 = cue_stop
            for x in range(cue_stop, start):
                if toks[x].low in _EMAIL_COPULA:
                    s2 = x + 1
            while s2 < start and (toks[s2].low in _EMAIL_LEAD or toks[s2].kind == _PUNCT):
                s2 += 1
            if s2 < start and start - s2 <= 6 and all(word_like(x) for x in range(s2, start)):
                start = s2
        spans.append((start, end))
        last_end = end
    if not spans:
        return text, []
    out, pos, starts, length = [], 0, [], 0
    for s, e in spans:
        out.append(text[pos:toks[s].start])
        length += toks[s].start - pos
        starts.append(length)
        out.append(_PH["EMAIL"])
        length += len(_PH["EMAIL"])
        pos = toks[e - 1].end
    out.append(text[pos:])
    return "".join(out), starts


# --- the numbers -----------------------------------------------------------------------------


def _analyse(text: str, ctx: _Context, stream: bool) -> _Outcome:
    email_carried = "EMAIL" in ctx.cues[:1]
    text1, email_at = _emails(text, email_carried)
    toks = _tokens(text1)
    n = len(toks)
    cues = _cues(toks)
    cue_tokens = {i for c in cues for i in range(c.s, c.e)}
    chunks = _Reader(toks, skip=cue_tokens).chunks()
    runs = _runs(toks, chunks, lone_oh_first=ctx.chain_digits > 0)

    # ordinary-word counts: cnt[i] = counted words among toks[:i]
    cnt = [0] * (n + 1)
    for i, t in enumerate(toks):
        cnt[i + 1] = cnt[i] + (t.kind == _WORD and t.low not in _UNCOUNTED)

    # "code" is a CVV cue only after a card cue
    card_before = "CARD" in ctx.cues
    kept_cues = []
    for c in cues:
        if c.kind == "CARD":
            card_before = True
        if c.kind == "CODE":
            if not card_before:
                continue
            c = _Cue("CVV", c.s, c.e)
        kept_cues.append(c)
    cues = kept_cues

    def prev_word(i: int) -> str:
        return toks[i - 1].low if i - 1 >= 0 else ""

    for r in runs:
        nxt = toks[r.e] if r.e < n else None
        prv = toks[r.s - 1] if r.s > 0 else None
        decimal = (r.written and len(r.chunks) == 2 and r.seps == ["."] and len(r.chunks[1].digits) <= 2
                   and toks[r.chunks[0].s].end == toks[r.chunks[1].s - 1].start
                   and toks[r.chunks[1].s - 1].end == toks[r.chunks[1].s].start)  # "49.99", not "49. 99"
        per = (nxt is not None and nxt.low in ("a", "an", "per", "each", "every") and r.e + 1 < n
               and toks[r.e + 1].low in _QUANTITY_AFTER)
        r.amount = bool(
            (prv is not None and prv.kind == _PUNCT and prv.text in _CURRENCY)
            or (nxt is not None and (nxt.low in _QUANTITY_AFTER or nxt.text == "%"))
            or decimal or per)
        pw = prev_word(r.s)
        r.clock = r.written and len(r.chunks) == 2 and r.seps == [":"] and len(r.chunks[1].digits) == 2
        r.temporal = r.clock or ((pw in _TEMPORAL_BEFORE or pw in _MONTHS) and r.n <= 8
                               and prev_word(r.s - 1) not in ("ending", "ends", "end"))

    cue_ends = [c.e for c in cues]
    max_window = max(_WINDOW.values())

    def in_text(r: _Run) -> list[tuple[str, int]]:
        """Cues before run r within the widest window, nearest first, with distances."""
        out = []
        for ci in range(bisect_right(cue_ends, r.s) - 1, -1, -1):
            c = cues[ci]
            d = cnt[r.s] - cnt[c.e]
            if d > max_window:
                break
            out.append((c.kind, d))
        return out

    def candidates(r: _Run) -> list[tuple[str, int]]:
        """Cues that apply to run r, nearest first: in the text, then carried over."""
        out = [(k, d) for k, d in in_text(r) if d <= _WINDOW.get(k, 0)]
        return out + [(k, 0) for k in ctx.cues]

    def card_active(r: _Run) -> bool:
        return "CARD" in ctx.cues or any(k == "CARD" and d <= _WINDOW["CARD"] for k, d in in_text(r))

    # chains of runs (amounts, quantities and clock times do not chain: a list of times
    # such as a handoff note's "angry at 0:13 -> calm at 1:32" is not a card number)
    chains: list[list[_Run]] = []
    for r in runs:
        if r.amount or r.clock:
            continue
        if chains and cnt[r.s] - cnt[chains[-1][-1].e] <= _CHAIN_GAP:
            chains[-1].append(r)
        else:
            chains.append([r])
    carried = 0
    if chains and ctx.chain_digits and ctx.chain_gap + cnt[chains[0][0].s] <= _CHAIN_GAP:
        carried = ctx.chain_digits
    totals = []
    for ci, ch in enumerate(chains):
        total = sum(r.n for r in ch) + (carried if ci == 0 else 0)
        totals.append(total)
        for r in ch:
            r.chain = ci

    for r in runs:
        nd = r.n
        chain_total = totals[r.chain] if r.chain >= 0 else nd
        if nd >= 13:
            r.kind = "CARD"
            continue
        for rank, (kind, dist) in enumerate(candidates(r)):
            if kind == "CVV" and 3 <= nd <= 4:
                r.kind = "CVV"
            elif kind == "EXPIRY" and 2 <= nd <= 6 and not r.amount:
                r.kind = "EXPIRY"
            elif kind == "SSN" and 4 <= nd:
                r.kind = "SSN"
            elif kind == "PHONE" and 7 <= nd:
                r.kind = "PHONE"
            elif kind == "PIN" and 4 <= nd <= 8:
                r.kind = "PIN"
            elif kind == "REF" and rank == 0 and dist <= _WINDOW["REF"]:
                r.keep = True
            else:
                continue
            break
        if chain_total >= 13 and r.kind is None:  # also overrides an order-number cue
            r.kind, r.keep = "CARD", False
        if r.kind or r.keep:
            continue
        if r.amount:
            continue
        shaped = r.written and len(set(r.seps)) == 1 and r.seps[0] in ("-", ".", "")
        if shaped and r.groups == [3, 2, 4]:
            r.kind = "SSN"
        elif shaped and r.groups in ([3, 3, 4], [1, 3, 3, 4], [3, 4]):
            r.kind = "PHONE"
        elif nd >= 4 and not r.temporal and card_active(r):
            mmyy = r.written and r.groups in ([2, 2], [1, 2], [2, 4]) and r.seps == ["/"]
            r.kind = "EXPIRY" if mmyy else "CARD"
        elif nd == 9:
            r.kind = "SSN"
        elif 10 <= nd <= 12:
            r.kind = "PHONE"

    chain_digits = chain_gap = 0
    if stream and chains:
        for ci, ch in enumerate(chains):
            total = totals[ci]
            continues = ci == 0 and carried > 0
            open_end = ci == len(chains) - 1 and cnt[n] - cnt[ch[-1].e] <= _OPEN_END
            if total >= 4 and (continues or open_end):
                for r in ch:
                    if r.kind is None and not r.keep and not r.temporal:
                        r.kind = "NUMBER"
            if open_end and not (ch[-1].kind is None and (ch[-1].keep or ch[-1].temporal) and not continues):
                chain_digits, chain_gap = total, cnt[n] - cnt[ch[-1].e]

    # spans to replace, in token order
    spans: list[tuple[int, int, str]] = []
    for r in runs:
        if r.kind is None:
            continue
        s = r.s
        if r.kind == "EXPIRY":
            p = s - 1
            if p >= 0 and toks[p].kind == _PUNCT and toks[p].text == ",":
                p -= 1
            if p >= 0 and toks[p].kind == _WORD and toks[p].low in _MONTHS:
                s = p
        spans.append((toks[s].start, toks[r.e - 1].end, r.kind))
    out, pos, found, length = [], 0, [], 0
    # [EMAIL] placeholders (positions in text1) move by the replacements before them
    emails = iter(email_at)
    next_email = next(emails, None)
    shift = 0
    for a, b, kind in spans:
        while next_email is not None and next_email < a:
            found.append((next_email + shift, "EMAIL"))
            next_email = next(emails, None)
        out.append(text1[pos:a])
        length += a - pos
        found.append((length, kind))
        out.append(_PH[kind])
        length += len(_PH[kind])
        shift += len(_PH[kind]) - (b - a)
        pos = b
    while next_email is not None:
        found.append((next_email + shift, "EMAIL"))
        next_email = next(emails, None)
    out.append(text1[pos:])
    result = "".join(out)
    seen = tuple(c.kind for c in cues if c.kind != "CODE")
    if email_at and "EMAIL" not in seen:
        seen = seen + ("EMAIL",)
    return _Outcome(result, tuple(k for _, k in found), seen, chain_digits, chain_gap, cnt[n], bool(runs))


def redact(text: str) -> Redaction:
    """`text` with every piece of personal data replaced by a placeholder.

    Placeholders: [CARD], [CVV], [EXPIRY], [SSN], [PHONE], [EMAIL]. Number spans are
    replaced as a whole ("my card is four one one one ... one" -> "my card is [CARD]"); the
    words around them are kept. Stateless: for a live call use :class:`StreamRedactor`.
    """
    if not isinstance(text, str):
        raise TypeError(f"redact() needs str, not {type(text).__name__}")
    o = _analyse(text, _Context(), stream=False)
    return Redaction(o.text, o.found)


# --- live calls ------------------------------------------------------------------------------


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
        idx = self._index
        cues = []
        for (i, t, kind) in reversed(self._cues):
            if not self._recent(idx, at, i, t):
                break
            if kind == "REF" and idx - i > 1:
                continue
            cues.append(kind)
        tail = self._tails.get(speaker)
        chain = (0, 0)
        if tail and self._recent(idx, at, tail.index, tail.at):
            chain = (tail.digits, tail.gap)
        o = _analyse(text, _Context(tuple(cues), *chain), stream=True)
        for kind in o.cues:
            self._cues.append((idx, at, kind))
        if o.chain_digits:
            self._tails[speaker] = _Tail(o.chain_digits, o.chain_gap, idx, at)
        elif tail and not o.has_runs and tail.gap + o.words <= _CHAIN_GAP:
            tail.gap += o.words  # "okay", "uh": the number may still go on
        else:
            self._tails.pop(speaker, None)
        return Redaction(o.text, o.found)

    def push(self, text: str, speaker: str = "customer", at: float | None = None) -> str:
        """The redacted text of this utterance, given the recent ones."""
        return self.push_redaction(text, speaker, at).text


# --- leak checks -----------------------------------------------------------------------------


def _decodings(haystack: bytes | str) -> list[str]:
    if isinstance(haystack, str):
        return [haystack]
    out = [haystack.decode("utf-8", errors="replace")]
    if b"\x00" in haystack:
        for enc in ("utf-16-le", "utf-16-be"):
            for off in (0, 1):
                out.append(haystack[off:].decode(enc, errors="replace"))
    return out


def contains_planted(haystack: bytes | str, planted: list[str]) -> list[str]:
    """The planted numbers that appear in `haystack`, in any form.

    `planted` are digit strings (separators in them are ignored). A number counts as
    present when its digits appear consecutively in the haystack's :func:`digit_stream`:
    written with or without separators ("4111 1111-1111.1111"), spoken ("four one one one",
    "double one", "forty one eleven", "oh"), mixed, or split over several records, with
    everything that is not a digit in between ignored. "for/to/won/ate" are also tried as
    digits. Bytes are read as UTF-8, and also as UTF-16 when they contain NULs. Errs towards
    finding: a leak test using it fails rather than misses.
    """
    streams = set()
    for text in _decodings(haystack):
        streams.add(digit_stream(text))
        streams.add(digit_stream(text, homophones=True))
    found = []
    for p in planted:
        d = _digits("".join(c for c in p if c.isdecimal()))
        if d and any(d in s for s in streams):
            found.append(p)
    return found

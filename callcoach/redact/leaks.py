"""The leak checker for tests: planted numbers found in any form (`contains_planted`,
`digit_stream`)."""

from __future__ import annotations

from callcoach.redact.tokens import NumberReader, decimal_digits, tokenize


def digit_stream(text: str, *, homophones: bool = False) -> str:
    """Every digit in `text`, written or spoken, in order, with everything else dropped.

    "Card 4111-1111, then four one one one" -> "41111111" + "4111". With `homophones`,
    "for", "to", "won", "ate" count as digits too (everywhere).
    """
    toks = tokenize(text)
    reader = NumberReader(toks, strong_oh=True, homophones="always" if homophones else "never")
    return "".join(c.digits for c in reader.chunks())


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
        d = decimal_digits("".join(c for c in p if c.isdecimal()))
        if d and any(d in s for s in streams):
            found.append(p)
    return found

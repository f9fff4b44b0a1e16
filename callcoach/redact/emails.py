"""Email addresses, written and spoken, replaced by [EMAIL]."""

from __future__ import annotations

from callcoach.redact.tokens import DIGITS, PUNCTUATION, WORD, Token, tokenize
from callcoach.redact.vocabulary import (
    EMAIL_COPULA, EMAIL_LEAD, LOCAL_JOIN_CHARS, LOCAL_JOIN_WORDS, PLACEHOLDERS, PROVIDERS, TLDS)


def replace_emails(text: str, email_cue_carried: bool) -> tuple[str, list[int]]:
    """Text with email addresses replaced by [EMAIL], and where each placeholder starts."""
    tokens = tokenize(text)
    spans = _email_spans(tokens, email_cue_carried)
    if not spans:
        return text, []
    out, position, starts, length = [], 0, [], 0
    for first, end in spans:
        out.append(text[position:tokens[first].start])
        length += tokens[first].start - position
        starts.append(length)
        out.append(PLACEHOLDERS["EMAIL"])
        length += len(PLACEHOLDERS["EMAIL"])
        position = tokens[end - 1].end
    out.append(text[position:])
    return "".join(out), starts


def _email_spans(tokens: list[Token], email_cue_carried: bool) -> list[tuple[int, int]]:
    """Token spans [first, end) of the addresses: each "at" or "@" with a domain after it
    and a local part before it; spans do not overlap."""
    spans: list[tuple[int, int]] = []
    floor = 0  # the end of the last address: the next one starts at or after it
    for at, token in enumerate(tokens):
        if at < floor or not _is_at(token):
            continue
        end = _domain_end(tokens, at)
        if end is None:
            continue
        first = _local_start(tokens, at, floor)
        if first is None:
            continue
        # an email cue carried from the last utterance reaches back to this text's start
        first = _from_cue(tokens, first, floor, email_cue_carried and not spans)
        spans.append((first, end))
        floor = end
    return spans


def _word_like(tokens: list[Token], index: int) -> bool:
    return 0 <= index < len(tokens) and tokens[index].kind in (WORD, DIGITS)


def _adjacent(tokens: list[Token], a: int, b: int) -> bool:
    """No whitespace between tokens a and b."""
    return tokens[a].end == tokens[b].start


def _is_at(token: Token) -> bool:
    return (token.kind == PUNCTUATION and token.text in "@＠") or (token.kind == WORD and token.low == "at")


def _domain_end(tokens: list[Token], at: int) -> int | None:
    """The token index after the domain: labels joined by ".", "dot", "period" or "-" and
    ending in a TLD, or a known provider; after a written "@", any first label."""
    first = at + 1
    if not _word_like(tokens, first):
        return None
    end = first + 1 if tokens[first].low in PROVIDERS else None
    labels, index = 1, first + 1
    while index < len(tokens) and labels < 6:
        token = tokens[index]
        joined = ((token.kind == PUNCTUATION and token.text in ".-")
                  or (token.kind == WORD and token.low in ("dot", "period")))
        if not (joined and _word_like(tokens, index + 1)):
            break
        label = index + 1
        labels += 1
        index = label + 1
        if tokens[label].low in TLDS:
            end = index
    if end is None and tokens[at].text in "@＠":
        end = first + 1
    return end


def _local_start(tokens: list[Token], at: int, floor: int) -> int | None:
    """Where the local part before "at" starts, read backwards; None when no word touches it."""
    start = at - 1
    if start < floor or not _word_like(tokens, start):
        return None
    while (extended := _local_extended(tokens, start, floor)) is not None:
        start = extended
    return start


def _local_extended(tokens: list[Token], start: int, floor: int) -> int | None:
    """The local part's new start when the token before `start` still belongs to it."""
    before = start - 1
    if before < floor:
        return None
    token = tokens[before]
    # joined to a word before it: "john dot smith", "j.smith", "mary-ann"
    if before - 1 >= floor and _word_like(tokens, before - 1) and (
            (token.kind == PUNCTUATION and token.text in LOCAL_JOIN_CHARS
             and (_adjacent(tokens, before, start) or _adjacent(tokens, before - 1, before)))
            or (token.kind == WORD and token.low in LOCAL_JOIN_WORDS)):
        return before - 1
    # glued on ("jsmith42"), spelled out / an initial ("j o h n", "k lee"), or a name
    # before its number ("doe 1990")
    if _word_like(tokens, before) and (_adjacent(tokens, before, start) or len(token.text) == 1
                                       or (tokens[start].kind == DIGITS and token.kind == WORD
                                           and token.low not in EMAIL_LEAD)):
        return before
    return None


def _from_cue(tokens: list[Token], start: int, floor: int, cue_carried: bool) -> int:
    """After "email is ...", the whole local part back to the cue ("peter parker at gmail
    dot com"): from after the last "is" / "it's" / ":" between them, up to 6 words."""
    cue_stop = _email_cue_end(tokens, start, floor)
    if cue_stop is None:
        if not cue_carried:
            return start
        cue_stop = 0
    first = cue_stop
    for index in range(cue_stop, start):
        if tokens[index].low in EMAIL_COPULA:
            first = index + 1
    while first < start and (tokens[first].low in EMAIL_LEAD or tokens[first].kind == PUNCTUATION):
        first += 1
    if first < start and start - first <= 6 and all(_word_like(tokens, x) for x in range(first, start)):
        return first
    return start


def _email_cue_end(tokens: list[Token], start: int, floor: int) -> int | None:
    """The index after an "email" / "e-mail" / "e mail" up to 10 tokens before `start`,
    with only words and , : - between."""
    for index in range(start - 1, max(floor, start - 10) - 1, -1):
        word = tokens[index].low
        if word in ("email", "e-mail") or (word == "mail" and index > 0 and tokens[index - 1].low in ("e", "e-")):
            return index + 1
        if not (_word_like(tokens, index) or tokens[index].kind == PUNCTUATION and tokens[index].text in ",:-"):
            return None
    return None

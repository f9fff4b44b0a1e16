"""Email addresses, written and spoken, replaced by [EMAIL]."""

from __future__ import annotations

from callcoach.redact.tokens import DIGITS, PUNCTUATION, WORD, tokenize
from callcoach.redact.vocabulary import (
    EMAIL_COPULA, EMAIL_LEAD, LOCAL_JOIN_CHARS, LOCAL_JOIN_WORDS, PLACEHOLDERS, PROVIDERS, TLDS)


def replace_emails(text: str, email_cue_carried: bool) -> tuple[str, list[int]]:
    """Text with email addresses replaced by [EMAIL], and where each placeholder starts."""
    toks = tokenize(text)
    n = len(toks)
    spans: list[tuple[int, int]] = []  # token spans
    last_end = 0

    def word_like(j: int) -> bool:
        return 0 <= j < n and toks[j].kind in (WORD, DIGITS)

    def adjacent(a: int, b: int) -> bool:  # no whitespace between tokens a and b
        return toks[a].end == toks[b].start

    for i, t in enumerate(toks):
        if i < last_end:
            continue
        is_at = (t.kind == PUNCTUATION and t.text in "@＠") or (t.kind == WORD and t.low == "at")
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
        if toks[labels[0]].low in PROVIDERS:
            end = labels[0] + 1
        while j < n and len(labels) < 6:
            if toks[j].kind == PUNCTUATION and toks[j].text == "." and word_like(j + 1):
                nxt = j + 1
            elif toks[j].kind == WORD and toks[j].low in ("dot", "period") and word_like(j + 1):
                nxt = j + 1
            elif toks[j].kind == PUNCTUATION and toks[j].text == "-" and word_like(j + 1):
                nxt = j + 1
            else:
                break
            labels.append(nxt)
            j = nxt + 1
            if toks[nxt].low in TLDS:
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
            if toks[p].kind == PUNCTUATION and toks[p].text in LOCAL_JOIN_CHARS and p - 1 >= last_end \
                    and word_like(p - 1) and (adjacent(p, start) or adjacent(p - 1, p)):
                start = p - 1
                continue
            if toks[p].kind == WORD and toks[p].low in LOCAL_JOIN_WORDS and p - 1 >= last_end \
                    and word_like(p - 1):
                start = p - 1
                continue
            # glued on ("jsmith42"), spelled out / an initial ("j o h n", "k lee"), or a
            # name before its number ("doe 1990")
            if word_like(p) and (adjacent(p, start) or len(toks[p].text) == 1
                                 or (toks[start].kind == DIGITS and toks[p].kind == WORD
                                     and toks[p].low not in EMAIL_LEAD)):
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
            if not (word_like(c) or toks[c].kind == PUNCTUATION and toks[c].text in ",:-"):
                break
        if cue_stop is None and email_cue_carried and not spans:
            cue_stop = 0
        if cue_stop is not None:
            # from after the last "is" / "it's" / ":" between the cue and the address
            s2 = cue_stop
            for x in range(cue_stop, start):
                if toks[x].low in EMAIL_COPULA:
                    s2 = x + 1
            while s2 < start and (toks[s2].low in EMAIL_LEAD or toks[s2].kind == PUNCTUATION):
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
        out.append(PLACEHOLDERS["EMAIL"])
        length += len(PLACEHOLDERS["EMAIL"])
        pos = toks[e - 1].end
    out.append(text[pos:])
    return "".join(out), starts

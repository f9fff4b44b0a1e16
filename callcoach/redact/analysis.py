"""One text read and redacted: which runs are personal data, and of what kind (`redact`)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from callcoach.redact.emails import replace_emails
from callcoach.redact.runs import Context, Cue, Outcome, Run, find_cues, read_runs
from callcoach.redact.tokens import PUNCTUATION, WORD, NumberReader, tokenize
from callcoach.redact.vocabulary import (
    CHAIN_GAP, CURRENCY, MONTHS, OPEN_END, PLACEHOLDERS, QUANTITY_AFTER, TEMPORAL_BEFORE, UNCOUNTED, WINDOW)


@dataclass(frozen=True)
class Redaction:
    """Redacted text and the kinds found, one entry per replaced span in text order."""

    text: str
    found: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.found)


def analyse(text: str, ctx: Context, stream: bool) -> Outcome:
    email_carried = "EMAIL" in ctx.cues[:1]
    text1, email_at = replace_emails(text, email_carried)
    toks = tokenize(text1)
    n = len(toks)
    cues = find_cues(toks)
    cue_tokens = {i for c in cues for i in range(c.s, c.e)}
    chunks = NumberReader(toks, skip=cue_tokens).chunks()
    runs = read_runs(toks, chunks, lone_oh_first=ctx.chain_digits > 0)

    # ordinary-word counts: cnt[i] = counted words among toks[:i]
    cnt = [0] * (n + 1)
    for i, t in enumerate(toks):
        cnt[i + 1] = cnt[i] + (t.kind == WORD and t.low not in UNCOUNTED)

    # "code" is a CVV cue only after a card cue
    card_before = "CARD" in ctx.cues
    kept_cues = []
    for c in cues:
        if c.kind == "CARD":
            card_before = True
        if c.kind == "CODE":
            if not card_before:
                continue
            c = Cue("CVV", c.s, c.e)
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
               and toks[r.e + 1].low in QUANTITY_AFTER)
        r.amount = bool(
            (prv is not None and prv.kind == PUNCTUATION and prv.text in CURRENCY)
            or (nxt is not None and (nxt.low in QUANTITY_AFTER or nxt.text == "%"))
            or decimal or per)
        pw = prev_word(r.s)
        r.clock = r.written and len(r.chunks) == 2 and r.seps == [":"] and len(r.chunks[1].digits) == 2
        r.temporal = r.clock or ((pw in TEMPORAL_BEFORE or pw in MONTHS) and r.n <= 8
                               and prev_word(r.s - 1) not in ("ending", "ends", "end"))

    cue_ends = [c.e for c in cues]
    max_window = max(WINDOW.values())

    def in_text(r: Run) -> list[tuple[str, int]]:
        """Cues before run r within the widest window, nearest first, with distances."""
        out = []
        for ci in range(bisect_right(cue_ends, r.s) - 1, -1, -1):
            c = cues[ci]
            d = cnt[r.s] - cnt[c.e]
            if d > max_window:
                break
            out.append((c.kind, d))
        return out

    def candidates(r: Run) -> list[tuple[str, int]]:
        """Cues that apply to run r, nearest first: in the text, then carried over."""
        out = [(k, d) for k, d in in_text(r) if d <= WINDOW.get(k, 0)]
        return out + [(k, 0) for k in ctx.cues]

    def card_active(r: Run) -> bool:
        return "CARD" in ctx.cues or any(k == "CARD" and d <= WINDOW["CARD"] for k, d in in_text(r))

    # chains of runs (amounts, quantities and clock times do not chain: a list of times
    # such as a handoff note's "angry at 0:13 -> calm at 1:32" is not a card number)
    chains: list[list[Run]] = []
    for r in runs:
        if r.amount or r.clock:
            continue
        if chains and cnt[r.s] - cnt[chains[-1][-1].e] <= CHAIN_GAP:
            chains[-1].append(r)
        else:
            chains.append([r])
    carried = 0
    if chains and ctx.chain_digits and ctx.chain_gap + cnt[chains[0][0].s] <= CHAIN_GAP:
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
            elif kind == "REF" and rank == 0 and dist <= WINDOW["REF"]:
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
            open_end = ci == len(chains) - 1 and cnt[n] - cnt[ch[-1].e] <= OPEN_END
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
            if p >= 0 and toks[p].kind == PUNCTUATION and toks[p].text == ",":
                p -= 1
            if p >= 0 and toks[p].kind == WORD and toks[p].low in MONTHS:
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
        out.append(PLACEHOLDERS[kind])
        length += len(PLACEHOLDERS[kind])
        shift += len(PLACEHOLDERS[kind]) - (b - a)
        pos = b
    while next_email is not None:
        found.append((next_email + shift, "EMAIL"))
        next_email = next(emails, None)
    out.append(text1[pos:])
    result = "".join(out)
    seen = tuple(c.kind for c in cues if c.kind != "CODE")
    if email_at and "EMAIL" not in seen:
        seen = seen + ("EMAIL",)
    return Outcome(result, tuple(k for _, k in found), seen, chain_digits, chain_gap, cnt[n], bool(runs))


def redact(text: str) -> Redaction:
    """`text` with every piece of personal data replaced by a placeholder.

    Placeholders: [CARD], [CVV], [EXPIRY], [SSN], [PHONE], [EMAIL]. Number spans are
    replaced as a whole ("my card is four one one one ... one" -> "my card is [CARD]"); the
    words around them are kept. Stateless: for a live call use :class:`StreamRedactor`.
    """
    if not isinstance(text, str):
        raise TypeError(f"redact() needs str, not {type(text).__name__}")
    o = analyse(text, Context(), stream=False)
    return Redaction(o.text, o.found)

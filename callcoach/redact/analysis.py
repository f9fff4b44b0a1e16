"""One text read and redacted: which runs are personal data, and of what kind (`redact`)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from callcoach.redact.emails import replace_emails
from callcoach.redact.runs import Context, Cue, Outcome, Run, find_cues, read_runs
from callcoach.redact.tokens import PUNCTUATION, WORD, NumberReader, Token, tokenize
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


def analyse(text: str, context: Context, stream: bool) -> Outcome:
    """One text in phases: emails, tokens, cues and runs, what each run is, the replacement."""
    text, email_starts = replace_emails(text, "EMAIL" in context.cues[:1])
    tokens = tokenize(text)
    cues = find_cues(tokens)
    cue_tokens = {i for cue in cues for i in range(cue.s, cue.e)}
    chunks = NumberReader(tokens, skip=cue_tokens).chunks()
    runs = read_runs(tokens, chunks, lone_oh_first=context.chain_digits > 0)
    words_before = _ordinary_words_before(tokens)
    cues = _code_as_cvv(cues, "CARD" in context.cues)
    for run in runs:
        _mark_amount_and_time(run, tokens)
    chains, totals, carried = _chains(runs, words_before, context)
    window = _CueWindow(cues, words_before, context.cues)
    for run in runs:
        _classify(run, window, totals[run.chain] if run.chain >= 0 else run.n)
    chain_digits = chain_gap = 0
    if stream and chains:
        chain_digits, chain_gap = _open_chain(chains, totals, carried, words_before)
    redacted, found = _replace_runs(text, tokens, runs, email_starts)
    seen = tuple(cue.kind for cue in cues)
    if email_starts and "EMAIL" not in seen:
        seen = seen + ("EMAIL",)
    return Outcome(redacted, found, seen, chain_digits, chain_gap, words_before[-1], bool(runs))


def _ordinary_words_before(tokens: list[Token]) -> list[int]:
    """counts[i]: the ordinary words among tokens[:i] (number words, fillers and months do
    not count, so a placeholder put in their place moves no distance)."""
    counts = [0] * (len(tokens) + 1)
    for i, token in enumerate(tokens):
        counts[i + 1] = counts[i] + (token.kind == WORD and token.low not in UNCOUNTED)
    return counts


def _code_as_cvv(cues: list[Cue], card_before: bool) -> list[Cue]:
    """"code" is a CVV cue only after a card cue; otherwise it is no cue at all."""
    kept = []
    for cue in cues:
        if cue.kind == "CARD":
            card_before = True
        if cue.kind == "CODE":
            if not card_before:
                continue
            cue = Cue("CVV", cue.s, cue.e)
        kept.append(cue)
    return kept


def _mark_amount_and_time(run: Run, tokens: list[Token]) -> None:
    """Whether the run is an amount or quantity, a clock time, or a time/date/year."""
    def word_before(i: int) -> str:
        return tokens[i - 1].low if i - 1 >= 0 else ""

    following = tokens[run.e] if run.e < len(tokens) else None
    preceding = tokens[run.s - 1] if run.s > 0 else None
    decimal = (run.written and len(run.chunks) == 2 and run.seps == ["."] and len(run.chunks[1].digits) <= 2
               and tokens[run.chunks[0].s].end == tokens[run.chunks[1].s - 1].start
               and tokens[run.chunks[1].s - 1].end == tokens[run.chunks[1].s].start)  # "49.99", not "49. 99"
    per = (following is not None and following.low in ("a", "an", "per", "each", "every")
           and run.e + 1 < len(tokens) and tokens[run.e + 1].low in QUANTITY_AFTER)
    run.amount = bool(
        (preceding is not None and preceding.kind == PUNCTUATION and preceding.text in CURRENCY)
        or (following is not None and (following.low in QUANTITY_AFTER or following.text == "%"))
        or decimal or per)
    previous_word = word_before(run.s)
    run.clock = run.written and len(run.chunks) == 2 and run.seps == [":"] and len(run.chunks[1].digits) == 2
    run.temporal = run.clock or ((previous_word in TEMPORAL_BEFORE or previous_word in MONTHS) and run.n <= 8
                                 and word_before(run.s - 1) not in ("ending", "ends", "end"))


def _chains(runs: list[Run], words_before: list[int], context: Context) -> tuple[list[list[Run]], list[int], int]:
    """Runs at most CHAIN_GAP ordinary words apart, each with its digit total (the first
    also counting digits carried over from the speaker's last utterance), and those carried."""
    # amounts, quantities and clock times do not chain: a list of times such as a handoff
    # note's "angry at 0:13 -> calm at 1:32" is not a card number
    chains: list[list[Run]] = []
    for run in runs:
        if run.amount or run.clock:
            continue
        if chains and words_before[run.s] - words_before[chains[-1][-1].e] <= CHAIN_GAP:
            chains[-1].append(run)
        else:
            chains.append([run])
    carried = 0
    if chains and context.chain_digits and context.chain_gap + words_before[chains[0][0].s] <= CHAIN_GAP:
        carried = context.chain_digits
    totals = []
    for index, chain in enumerate(chains):
        totals.append(sum(run.n for run in chain) + (carried if index == 0 else 0))
        for run in chain:
            run.chain = index
    return chains, totals, carried


class _CueWindow:
    """The cues that reach a run: in the text before it (within each kind's window), then
    those carried over from recent utterances."""

    def __init__(self, cues: list[Cue], words_before: list[int], carried: tuple[str, ...]):
        self.cues = cues
        self.cue_ends = [cue.e for cue in cues]
        self.words_before = words_before
        self.carried = carried
        self.widest = max(WINDOW.values())

    def in_text(self, run: Run) -> list[tuple[str, int]]:
        """Cues before the run within the widest window, nearest first, with distances."""
        out = []
        for index in range(bisect_right(self.cue_ends, run.s) - 1, -1, -1):
            cue = self.cues[index]
            distance = self.words_before[run.s] - self.words_before[cue.e]
            if distance > self.widest:
                break
            out.append((cue.kind, distance))
        return out

    def candidates(self, run: Run) -> list[tuple[str, int]]:
        """Cues that apply to the run, nearest first: in the text, then carried over."""
        out = [(kind, distance) for kind, distance in self.in_text(run) if distance <= WINDOW.get(kind, 0)]
        return out + [(kind, 0) for kind in self.carried]

    def card_active(self, run: Run) -> bool:
        return "CARD" in self.carried or any(
            kind == "CARD" and distance <= WINDOW["CARD"] for kind, distance in self.in_text(run))


def _classify(run: Run, window: _CueWindow, chain_total: int) -> None:
    """The run's kind (or kept on purpose): its length, then the nearest cue it fits, then
    its chain, then its written shape and the card-cue window."""
    if run.n >= 13:
        run.kind = "CARD"
        return
    _kind_from_cues(run, window.candidates(run))
    if chain_total >= 13 and run.kind is None:  # also overrides an order-number cue
        run.kind, run.keep = "CARD", False
    if run.kind or run.keep or run.amount:
        return
    _kind_from_shape(run, window)


def _kind_from_cues(run: Run, candidates: list[tuple[str, int]]) -> None:
    digit_count = run.n
    for rank, (kind, distance) in enumerate(candidates):
        if kind == "CVV" and 3 <= digit_count <= 4:
            run.kind = "CVV"
        elif kind == "EXPIRY" and 2 <= digit_count <= 6 and not run.amount:
            run.kind = "EXPIRY"
        elif kind == "SSN" and 4 <= digit_count:
            run.kind = "SSN"
        elif kind == "PHONE" and 7 <= digit_count:
            run.kind = "PHONE"
        elif kind == "PIN" and 4 <= digit_count <= 8:
            run.kind = "PIN"
        elif kind == "REF" and rank == 0 and distance <= WINDOW["REF"]:
            run.keep = True
        else:
            continue
        return


def _kind_from_shape(run: Run, window: _CueWindow) -> None:
    digit_count = run.n
    shaped = run.written and len(set(run.seps)) == 1 and run.seps[0] in ("-", ".", "")
    if shaped and run.groups == [3, 2, 4]:
        run.kind = "SSN"
    elif shaped and run.groups in ([3, 3, 4], [1, 3, 3, 4], [3, 4]):
        run.kind = "PHONE"
    elif digit_count >= 4 and not run.temporal and window.card_active(run):
        month_year = run.written and run.groups in ([2, 2], [1, 2], [2, 4]) and run.seps == ["/"]
        run.kind = "EXPIRY" if month_year else "CARD"
    elif digit_count == 9:
        run.kind = "SSN"
    elif 10 <= digit_count <= 12:
        run.kind = "PHONE"


def _open_chain(chains: list[list[Run]], totals: list[int], carried: int, words_before: list[int]) -> tuple[int, int]:
    """A live call: digits that may go on in the next utterance are redacted now ([NUMBER]),
    and the open digits and the ordinary words after them are carried to the next one."""
    chain_digits = chain_gap = 0
    words = words_before[-1]
    for index, chain in enumerate(chains):
        total = totals[index]
        continues = index == 0 and carried > 0
        open_end = index == len(chains) - 1 and words - words_before[chain[-1].e] <= OPEN_END
        if total >= 4 and (continues or open_end):
            for run in chain:
                if run.kind is None and not run.keep and not run.temporal:
                    run.kind = "NUMBER"
        last = chain[-1]
        if open_end and not (last.kind is None and (last.keep or last.temporal) and not continues):
            chain_digits, chain_gap = total, words - words_before[last.e]
    return chain_digits, chain_gap


def _replace_runs(text: str, tokens: list[Token], runs: list[Run],
                  email_starts: list[int]) -> tuple[str, tuple[str, ...]]:
    """The text with each redacted run replaced by its placeholder, and the kinds found in
    text order, the [EMAIL]s already in the text among them."""
    out, position, found, length = [], 0, [], 0
    # [EMAIL] placeholders (positions in `text`) move by the replacements before them
    emails = iter(email_starts)
    next_email = next(emails, None)
    shift = 0
    for start, end, kind in _spans(tokens, runs):
        while next_email is not None and next_email < start:
            found.append((next_email + shift, "EMAIL"))
            next_email = next(emails, None)
        out.append(text[position:start])
        length += start - position
        found.append((length, kind))
        out.append(PLACEHOLDERS[kind])
        length += len(PLACEHOLDERS[kind])
        shift += len(PLACEHOLDERS[kind]) - (end - start)
        position = end
    while next_email is not None:
        found.append((next_email + shift, "EMAIL"))
        next_email = next(emails, None)
    out.append(text[position:])
    return "".join(out), tuple(kind for _, kind in found)


def _spans(tokens: list[Token], runs: list[Run]) -> list[tuple[int, int, str]]:
    """Character spans to replace, in text order; an expiry takes its month name with it."""
    spans = []
    for run in runs:
        if run.kind is None:
            continue
        first = run.s
        if run.kind == "EXPIRY":
            before = first - 1
            if before >= 0 and tokens[before].kind == PUNCTUATION and tokens[before].text == ",":
                before -= 1
            if before >= 0 and tokens[before].kind == WORD and tokens[before].low in MONTHS:
                first = before
        spans.append((tokens[first].start, tokens[run.e - 1].end, run.kind))
    return spans


def redact(text: str) -> Redaction:
    """`text` with every piece of personal data replaced by a placeholder.

    Placeholders: [CARD], [CVV], [EXPIRY], [SSN], [PHONE], [EMAIL]. Number spans are
    replaced as a whole ("my card is four one one one ... one" -> "my card is [CARD]"); the
    words around them are kept. Stateless: for a live call use :class:`StreamRedactor`.
    """
    if not isinstance(text, str):
        raise TypeError(f"redact() needs str, not {type(text).__name__}")
    outcome = analyse(text, Context(), stream=False)
    return Redaction(outcome.text, outcome.found)

"""PII redaction (callcoach.redact): the labeled lines, live-call streams, leak checks and
properties that must hold for any text."""

from __future__ import annotations

import ast
import os
import random
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.redaction_eval import HOLDOUT, PII_LINES, leaked, load, output, visible_digits
from callcoach import redact as redact_module
from callcoach.redact import KINDS, Redaction, StreamRedactor, contains_planted, digit_stream, redact, vocabulary

ROOT = Path(__file__).resolve().parents[1]
LABELED = load(PII_LINES)
HELD_OUT = load(HOLDOUT)
ALL_LINES = LABELED + HELD_OUT
POSITIVES = [line for line in ALL_LINES if line.kind != "negative"]
NEGATIVES = [line for line in ALL_LINES if line.kind == "negative"]
WRITTEN_13 = re.compile(r"\d{13,}")
# CALLCOACH_FUZZ=10 runs ten times as many property examples (for a longer hunt).
SCALE = max(1, int(os.environ.get("CALLCOACH_FUZZ", "1")))


# --- the labeled set -------------------------------------------------------------------------
def test_labeled_set_covers_every_kind():
    assert len(LABELED) >= 60
    kinds = {line.kind for line in LABELED}
    assert kinds == {"card", "card_spoken", "card_split", "cvv", "expiry", "ssn", "phone", "email", "negative"}
    assert sum(line.kind == "negative" for line in LABELED) >= 20
    splits = [line for line in LABELED if line.kind == "card_split"]
    assert all(2 <= len(line.utterances) for line in splits)
    assert any(len(line.utterances) >= 4 for line in splits)
    cards = [line.secrets[0] for line in LABELED if line.kind.startswith("card")]
    assert {len(c) for c in cards} >= {13, 14, 15, 16, 19}
    assert any(not _luhn(c) for c in cards) and any(_luhn(c) for c in cards)
    spoken = " ".join(line.raw.lower() for line in LABELED if line.kind == "card_spoken")
    for form in ("double", "triple", " oh", "eleven", "thousand", "fifty four"):
        assert form in spoken


@pytest.mark.parametrize("line", POSITIVES, ids=lambda line: f"{line.kind}:{line.raw[:40]}")
def test_no_planted_pii_survives(line):
    out = output(line)
    assert not leaked(line, out), out
    if line.kind != "card_split":  # only a split number may keep its first few digits
        assert visible_digits(line, out) < 4, out


@pytest.mark.parametrize("line", [line for line in POSITIVES if len(line.utterances) == 1],
                         ids=lambda line: f"{line.kind}:{line.raw[:40]}")
def test_single_lines_also_redacted_as_a_stream(line):
    assert not leaked(line, output(line, mode="stream"))


@pytest.mark.parametrize("line", NEGATIVES, ids=lambda line: line.raw[:40])
def test_negatives_unchanged(line):
    text = line.utterances[0][1]
    r = redact(text)
    assert r.text == text and r.found == ()


def test_stream_changes_negatives_only_with_the_number_placeholder():
    """The stream's pre-emptive rule may redact a bare number that ends an utterance (it
    might be the start of a card number); it never labels an ordinary line as anything else,
    and it changes few of them."""
    changed = 0
    for line in NEGATIVES:
        text = line.utterances[0][1]
        r = StreamRedactor().push_redaction(text)
        if r.text != text:
            changed += 1
            assert set(r.found) == {"NUMBER"}, (text, r)
    assert changed <= 3


def test_kinds_and_placeholders():
    r = redact("Card 4111 1111 1111 1111, expires 04/26, CVV 123, social 123-45-6789, "
               "phone 555-867-5309, email jo.lee@example.com.")
    assert r.found == ("CARD", "EXPIRY", "CVV", "SSN", "PHONE", "EMAIL")
    assert r.text == ("Card [CARD], expires [EXPIRY], CVV [CVV], social [SSN], phone [PHONE], "
                      "email [EMAIL].")
    assert isinstance(r, Redaction) and r.changed
    assert set(r.found) <= set(KINDS)


def test_spoken_span_replaced_whole_and_words_kept():
    r = redact("okay my card number is four one one one one one one one one one one one one one one one thanks")
    assert r.text == "okay my card number is [CARD] thanks"


@pytest.mark.parametrize("text", [
    "four one one one one one one one one one one one one one one one",
    "4 1 1 1 one one one one 1 1 1 1 one one one one",
    "four one one one, one one one one. one one one one - one one one one",
    "forty one eleven eleven eleven eleven eleven eleven eleven",
    "four triple one, triple one one, triple one one, triple one one",
    "four double one one double one double one double one double one double one one",
    "four thousand one hundred eleven, eleven eleven, eleven eleven, eleven eleven",
    "4111111111111111",
    "4111-1111-1111-1111",
    "4,111,111,111,111,111",
    "four one one one uh one one one one um one one one one er one one one one",
])
def test_card_forms(text):
    out = redact(f"sure it's {text} okay").text
    assert out == "sure it's [CARD] okay"
    assert not contains_planted(out, ["4111111111111111"])


def test_short_numbers_after_a_card_cue():
    assert redact("the card number starts with 4111 and then").found == ("CARD",)
    assert redact("my visa ends in 4242").text == "my visa ends in [CARD]"
    # amounts, times and dates after a card cue stay
    for text in ("my card was charged $49.99", "my card was charged 120 dollars",
                 "I used my card at 10:30", "I used my debit card on 12/25",
                 "I've had this credit card since 2015"):
        assert redact(text).text == text


def test_order_numbers_kept_but_not_thirteen_digits():
    assert redact("my order number is 123456789").text == "my order number is 123456789"
    assert redact("my order number is 1234567890123").text == "my order number is [CARD]"


def test_a_list_of_clock_times_is_not_a_card_number():
    note = ("Escalation handoff - 1:35 on call\nMood: angry at 0:13 -> frustrated at 1:00 -> calm at 1:32\n"
            "Steps taken: apologized at 0:20; offered a refund at 0:45")
    assert redact(note).text == note
    assert redact("card 4111 1111 1111 1111 at 1:32").text == "card [CARD] at 1:32"


# --- live calls ------------------------------------------------------------------------------
def test_stream_split_card_after_cue():
    s = StreamRedactor()
    outs = [s.push(u) for u in ("my card is four one one one", "one one one one one one", "one one one one one one")]
    assert outs == ["my card is [CARD]", "[CARD]", "[CARD]"]


def test_stream_split_card_without_cue():
    s = StreamRedactor()
    outs = [s.push(u) for u in ("four one one one one one", "one one one one one one", "one one one one")]
    assert "".join(digit_stream(o) for o in outs) == ""
    assert outs[-1] == "[CARD]"


def test_stream_cue_from_the_other_speaker():
    s = StreamRedactor()
    assert s.push("What's the long number on the front of the card?", "agent") == \
        "What's the long number on the front of the card?"
    assert s.push("uh sure it's 5105 and", "customer") == "uh sure it's [CARD] and"
    assert s.push("Okay.", "agent") == "Okay."
    assert s.push("then 1051 0510 and then 5100 and that's it", "customer") == \
        "then [CARD] and then [CARD] and that's it"


def test_stream_cvv_and_expiry_asked_by_the_agent():
    s = StreamRedactor()
    s.push("And the security code on the back?", "agent")
    assert s.push("It's eight oh eight.", "customer") == "It's [CVV]."
    s.push("And when does it expire?", "agent")
    assert s.push("April twenty six.", "customer") == "[EXPIRY]."


def test_stream_cue_window_expires():
    line = "I stayed in room 1234 last week and it was lovely"
    s = StreamRedactor(window_utterances=3)
    s.push("I paid by card.")
    assert s.push(line) == "I stayed in room [CARD] last week and it was lovely"
    s = StreamRedactor(window_utterances=3)
    s.push("I paid by card.")
    for _ in range(3):
        s.push("Okay.", "agent")
    assert s.push(line) == line
    s = StreamRedactor(window_seconds=30)
    s.push("I paid by card.", at=0.0)
    assert s.push(line, at=45.0) == line


def test_stream_speakers_do_not_chain_each_others_digits():
    s = StreamRedactor()
    s.push("four one one", "customer")  # 3 digits: not yet redacted
    assert s.push("one two", "agent") == "one two"
    assert s.push("one one one one", "customer") == "[NUMBER]"


def test_stream_disabled_passes_through():
    s = StreamRedactor(enabled=False)
    assert s.push("my card is 4111 1111 1111 1111") == "my card is 4111 1111 1111 1111"


def test_stream_returns_found_kinds():
    s = StreamRedactor()
    assert s.push_redaction("my email is bob at gmail dot com").found == ("EMAIL",)


# --- contains_planted ------------------------------------------------------------------------
def test_contains_planted_any_form():
    planted = ["4111 1111 1111 1111", "5500000000000004"]
    assert contains_planted("card 4111-1111-1111-1111", planted) == ["4111 1111 1111 1111"]
    assert contains_planted("x 4111111111111111 y", planted) == ["4111 1111 1111 1111"]
    assert contains_planted("four one one one, one one one one, one one one one, one one one one",
                            planted) == ["4111 1111 1111 1111"]
    assert contains_planted("forty one eleven eleven eleven eleven eleven eleven eleven", planted)
    assert contains_planted("five five double oh triple oh oh oh oh oh oh oh oh oh four", planted) == \
        ["5500000000000004"]
    # split over records, with other text (not digits) in between
    assert contains_planted('{"t": "four one one one"}\n{"t": "one one one one"}\n'
                            '{"t": "1111"}\n{"t": "1111"}', planted)
    assert contains_planted("four one one one for one one one one one one one one one one one",
                            ["4111411111111111"])
    assert contains_planted("[CARD] and [NUMBER]", planted) == []
    assert contains_planted("4111 1111 1111 111", planted) == []


def test_contains_planted_bytes():
    planted = ["4111111111111111"]
    assert contains_planted(b"\x00\x01row 4111 1111 1111 1111\xff", planted) == planted
    assert contains_planted("row 4111 1111 1111 1111".encode("utf-16-le"), planted) == planted
    assert contains_planted("row 4111 1111 1111 1111".encode("utf-16-be"), planted) == planted
    assert contains_planted(b"nothing here", planted) == []


# --- properties ------------------------------------------------------------------------------
WORDS = ["my", "card", "number", "is", "the", "and", "okay", "at", "on", "since", "order", "dollars",
         "for", "to", "oh", "uh", "visa", "email", "phone", "social", "expires", "code", "security",
         "double", "triple", "thanks", "please", "it's", "yes", "one", "four", "twenty", "hundred",
         "@", "dot", "com", "gmail", "$", "-", ",", ".", "/", ":", "(", ")", "+", "[CARD]", "[EMAIL]"]
DIGITISH = st.one_of(
    st.text(alphabet="0123456789 -,./:()+$@#", min_size=1, max_size=30),
    st.sampled_from(WORDS),
    st.integers(0, 10**20).map(str),
    st.text(min_size=1, max_size=8),  # anything: emoji, other scripts, control characters
)
VOCAB = sorted(set(WORDS) | set(vocabulary.NUMBER_WORDS) | set(vocabulary.MONTHS)
               | set(vocabulary.HOMOPHONES) | set(vocabulary.JOIN_WORDS)
               | {w for phrase, _ in vocabulary.CUE_PHRASES for w in phrase}
               | {"at", "dot", "underscore", "is", "email", "yahoo", "co", "uk", "net", "x", "j", "_",
                  "%", "am", "pm", "minutes", "a", "month", "[PHONE]", "[NUMBER]", "[SSN]", "'s"})
TOKEN = st.one_of(st.sampled_from(VOCAB), st.sampled_from(VOCAB), DIGITISH)
JOIN = st.sampled_from(["", " ", " ", " ", ", ", ". ", "-", "@", "."])
MIXED = st.lists(st.tuples(TOKEN, JOIN), max_size=40).map(lambda parts: "".join(a + b for a, b in parts))
ANY_TEXT = st.one_of(st.text(max_size=300), MIXED, MIXED)


@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT)
def test_never_raises_and_no_long_digit_run(text):
    r = redact(text)
    assert isinstance(r.text, str) and isinstance(r.found, tuple)
    assert not WRITTEN_13.search(r.text)
    s = StreamRedactor()
    for part in text.split(".")[:5]:
        assert not WRITTEN_13.search(s.push(part))


@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT)
def test_idempotent(text):
    once = redact(text).text
    assert redact(once).text == once


def test_huge_and_strange_texts():
    rng = random.Random(7)
    pieces = ["four", "one", "4111", "-", "oh", "at", "gmail", "dot", "com", "card", "🙂", "日本語",
              "١٢٣٤", "word", "\u0301", "a.b.c.d", "\x00", "$", "12:30"]
    huge = " ".join(rng.choice(pieces) for _ in range(60_000))
    t0 = time.perf_counter()
    out = redact(huge).text
    assert time.perf_counter() - t0 < 20
    assert not WRITTEN_13.search(out)
    assert redact("a" * 200_000).text == "a" * 200_000
    assert redact("1" * 100_000).text == "[CARD]"
    assert redact("a." * 50_000 + "a@x.com").text == "[EMAIL]"
    assert redact("").text == ""
    # digits from other scripts count too
    assert redact("٤١١١١١١١١١١١١١١١").text == "[CARD]"


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _luhn_complete(prefix: str) -> str:
    for last in "0123456789":
        if _luhn(prefix + last):
            return prefix + last
    raise AssertionError


UNIT = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}


def _say_digit(d: str, rng: random.Random) -> str:
    if d == "0":
        return rng.choice(["zero", "oh"])
    return UNIT[int(d)]


def _say_pair(p: str, rng: random.Random) -> str:
    a, b = int(p[0]), int(p[1])
    if a == 0:
        return "double oh" if b == 0 else f"oh {UNIT[b]}"
    if a == 1:
        return TEENS[b]
    return TENS[a] if b == 0 else f"{TENS[a]} {UNIT[b]}"


def _say_repeats(digits: str, rng: random.Random) -> str:
    out, i = [], 0
    while i < len(digits):
        j = i
        while j < len(digits) and digits[j] == digits[i] and j - i < 3:
            j += 1
        n = j - i
        if n >= 2 and rng.random() < 0.8:
            out.append(("double " if n == 2 else "triple ") + _say_digit(digits[i], rng))
        else:
            out.extend(_say_digit(d, rng) for d in digits[i:j])
        i = j
    return " ".join(out)


def render(digits: str, form: str, rng: random.Random) -> str:
    groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    if form == "plain":
        return digits
    if form in ("space", "dash", "comma", "dot"):
        return {"space": " ", "dash": "-", "comma": ", ", "dot": ". "}[form].join(groups)
    if form == "spoken":
        return ", ".join(" ".join(_say_digit(d, rng) for d in g) for g in groups)
    if form == "repeats":
        return ", ".join(_say_repeats(g, rng) for g in groups)
    if form == "pairs":
        pairs = [digits[i:i + 2] for i in range(0, len(digits) - 1, 2)]
        tail = [_say_digit(digits[-1], rng)] if len(digits) % 2 else []
        return " ".join([_say_pair(p, rng) for p in pairs] + tail)
    if form == "mixed":
        return " ".join(d if rng.random() < 0.5 else _say_digit(d, rng) for d in digits)
    raise ValueError(form)


FORMS = ["plain", "space", "dash", "comma", "dot", "spoken", "repeats", "pairs", "mixed"]
FILLER = ["so", "my", "the", "number", "is", "okay", "uh", "right", "thanks", "and", "at", "on",
          "order", "dollars", "since", "yes", "please", "it's", "card", "visa", "for", "to", "oh"]


@settings(max_examples=400 * SCALE, deadline=None)
@given(prefix=st.integers(3, 6).map(str), body=st.text("0123456789", min_size=14, max_size=14),
       form=st.sampled_from(FORMS), before=st.lists(st.sampled_from(FILLER), max_size=6),
       after=st.lists(st.sampled_from(FILLER), max_size=6), seed=st.integers(0, 2**32 - 1))
def test_random_card_in_any_form_never_survives(prefix, body, form, before, after, seed):
    card = _luhn_complete(prefix + body)
    assert len(card) == 16 and _luhn(card)
    rng = random.Random(seed)
    text = " ".join(before + [render(card, form, rng)] + after)
    out = redact(text).text
    assert not contains_planted(out, [card]), (text, out)
    s = StreamRedactor()
    assert not contains_planted(s.push(text), [card])


@settings(max_examples=300 * SCALE, deadline=None)
@given(prefix=st.integers(3, 6).map(str), body=st.text("0123456789", min_size=14, max_size=14),
       cuts=st.lists(st.integers(1, 15), min_size=1, max_size=5, unique=True),
       forms=st.lists(st.sampled_from(FORMS), min_size=6, max_size=6),
       lead=st.lists(st.sampled_from(["", "so", "okay", "uh", "then", "and"]), min_size=6, max_size=6),
       trail=st.lists(st.sampled_from(["", "okay", "got that", "yes", "uh"]), min_size=6, max_size=6),
       backchannel=st.lists(st.booleans(), min_size=6, max_size=6), seed=st.integers(0, 2**32 - 1))
def test_stream_split_card_keeps_at_most_three_digits(prefix, body, cuts, forms, lead, trail, backchannel, seed):
    """A number read in pieces, no cue at all, an agent 'mm-hmm' between some pieces: at most
    its first three digits reach the record."""
    card = _luhn_complete(prefix + body)
    rng = random.Random(seed)
    bounds = [0, *sorted(cuts), 16]
    pieces = [card[a:b] for a, b in zip(bounds, bounds[1:])]
    s = StreamRedactor()
    record = []
    for i, piece in enumerate(pieces):
        form = forms[i] if forms[i] not in ("pairs",) or len(piece) % 2 == 0 else "spoken"
        text = " ".join(w for w in (lead[i], render(piece, form, rng), trail[i]) if w)
        record.append(s.push(text, "customer"))
        if backchannel[i]:
            record.append(s.push("Mm-hmm.", "agent"))
    joined = " || ".join(record)
    assert len(digit_stream(joined)) <= 3, (pieces, record)
    assert not contains_planted(joined, [card])


# --- hygiene ---------------------------------------------------------------------------------
def test_redact_module_is_pure_python():
    imported = set()
    modules = sorted(Path(redact_module.__file__).parent.glob("*.py"))  # the callcoach.redact package
    assert len(modules) > 1, modules
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                name = "." * node.level + (node.module or "")  # a relative import counts as ""
                if name != "callcoach.redact" and not name.startswith("callcoach.redact."):
                    imported.add(name.split(".")[0])
    assert imported <= {"__future__", "re", "unicodedata", "collections", "dataclasses", "bisect"}, imported


def test_eval_prints_the_table(capsys):
    from benchmarks import redaction_eval

    redaction_eval.main()
    out = capsys.readouterr().out
    assert "| card_split |" in out and "| negative |" in out and "Leaked" in out

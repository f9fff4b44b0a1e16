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

The package
-----------
``vocabulary`` (the tables), ``tokens`` (tokens and the number reader), ``runs`` (runs and
cues), ``emails``, ``analysis`` (one text: :func:`redact`), ``stream``
(:class:`StreamRedactor`) and ``leaks`` (:func:`contains_planted`, :func:`digit_stream`).
"""

from callcoach.redact.analysis import Redaction, redact
from callcoach.redact.leaks import contains_planted, digit_stream
from callcoach.redact.stream import StreamRedactor
from callcoach.redact.vocabulary import KINDS

__all__ = ["KINDS", "Redaction", "StreamRedactor", "contains_planted", "digit_stream", "redact"]


"""A call in which the customer reads out a card number, and the check that finds that
number in any bytes, however it was written (digits, words, grouped, split)."""

from __future__ import annotations

import re

from tests.callgen import AGENT as A
from tests.callgen import CUSTOMER as C
from tests.callgen import Turn

CARD = "4539148803436467"  # a valid (Luhn) test card number
_SPOKEN_DIGITS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "for": "4",
                  "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}

# The engine cuts decoder loops to two repeats, so "four one one one ... one" is heard as
# "for one one": a real-looking number is what tests the redaction.
CARD_CALL = [
    Turn(A, "Thank you for calling, this is Sam. How can I help you today?"),
    Turn(C, "Hi, I would like to pay my bill with a new card."),
    Turn(A, "Sure. What is the card number?"),
    Turn(C, "My card number is four five three nine, one four eight eight, zero three four three, six four six seven."),
    Turn(A, "Could you repeat that, please?"),
    Turn(C, "Four five three nine one four eight eight, zero three four three six four six seven."),
    Turn(A, "Thank you. The payment is done."),
]


def planted_card(data: bytes, card: str = CARD) -> bool:
    """Any 8 consecutive digits of the card, written as digits or words, grouped or not."""
    text = data.decode("latin-1").lower()
    text = re.sub(r"\b(" + "|".join(_SPOKEN_DIGITS) + r")\b", lambda m: _SPOKEN_DIGITS[m.group(1)], text)
    text = re.sub(r"(?<=\d)[\s,.\-]+(?=\d)", "", text)
    if any(card[i:i + 8] in text for i in range(len(card) - 7)):
        return True
    from callcoach.redact import contains_planted

    return bool(contains_planted(data, [card]))

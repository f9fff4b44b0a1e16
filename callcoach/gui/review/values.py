"""How the review window shows values (signs, scores); reading them is
`callcoach.session_values`, shared with the HTML report."""

from __future__ import annotations

from typing import Any

from callcoach.session_values import NONE, number


def signed(value: Any, digits: int = 2) -> str:
    v = number(value)
    return NONE if v is None else f"{v:+.{digits}f}".replace("-", "−")


def score_text(score: Any) -> str:
    s = number(score)
    return NONE if s is None else f"{s:g}"

"""One line of `callcoach doctor`'s report."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail"
    message: str  # one line
    details: dict[str, Any] = field(default_factory=dict)

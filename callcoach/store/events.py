"""Journal events <-> JSON: how an event is written to a journal row, and made again from one."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from callcoach.coach.events import (CallSummary, CoachSetup, Feedback, Prompt, PromptCleared, PromptWithheld,
                                    ScoredUtterance)
from callcoach.engine.events import AudioDropped, CallEnded, DeviceGap, Notice, Utterance
from callcoach.engine.transcriber import Word


def json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


# The classes a journal stores, with the kind each row is written under. The kind is in
# users' SQLite files: it stays what it is if a class is renamed, so old rows still load.
STORED_KINDS: dict[type, str] = {
    CoachSetup: "CoachSetup", Utterance: "Utterance", ScoredUtterance: "ScoredUtterance", Prompt: "Prompt",
    PromptCleared: "PromptCleared", PromptWithheld: "PromptWithheld", Feedback: "Feedback", Notice: "Notice",
    CallSummary: "CallSummary", CallEnded: "CallEnded", DeviceGap: "DeviceGap", AudioDropped: "AudioDropped",
}
_CLASSES = {kind: cls for cls, kind in STORED_KINDS.items()}


def event_from_json(kind: str, body: Any):
    """The event object a journal row describes, or None if it cannot be made."""
    cls = _CLASSES.get(kind)
    if cls is None:
        return None
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in data.items() if k in names}
        if cls is Utterance:
            data["words"] = tuple(Word(str(w.get("text", "")), float(w["start"]), float(w["end"]),
                                       float(w.get("probability", 0.0))) for w in data.get("words") or ())
        for key in ("checklist", "cues", "pace_band"):
            if key in data:
                data[key] = tuple(data[key] or ())
        return cls(**data)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None

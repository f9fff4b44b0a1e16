"""Collects engine events into the session summary of DESIGN.md (`callcoach.session.v1`)."""

from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import datetime, timezone

from callcoach.engine.events import CallEnded, Notice, Utterance

SCHEMA = "callcoach.session.v1"


class SessionRecorder:
    """An engine listener; `summary()` is the JSON-ready session at any moment."""

    def __init__(self, source: str | None = None):
        self.id = uuid.uuid4().hex
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.source = source
        self.duration = 0.0
        self.utterances: list[Utterance] = []
        self.notices: list[Notice] = []
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        with self._lock:
            if isinstance(event, Utterance):
                self.utterances.append(event)
            elif isinstance(event, Notice):
                self.notices.append(event)
            elif isinstance(event, CallEnded):
                self.duration = event.duration

    def summary(self) -> dict:
        with self._lock:
            utterances = sorted(self.utterances, key=lambda u: (u.start, u.role))
            return {
                "schema": SCHEMA,
                "id": self.id,
                "started_at": self.started_at,
                "duration_s": round(self.duration, 2),
                "source": self.source,
                "utterances": [_utterance(u) for u in utterances],
                "prompts": [],
                "metrics": {},
                "notices": [{"t": n.t, "level": n.level, "message": n.message} for n in self.notices],
            }


def _utterance(u: Utterance) -> dict:
    return {
        "speaker": u.role,
        "start": round(u.start, 2),
        "end": round(u.end, 2),
        "text": u.text,
        "sentiment": None,
        "wpm": u.wpm,
        "latency_s": u.latency_s,
        "words": [{"w": w.text, "s": w.start, "e": w.end} for w in u.words],
    }


def write_json(summary: dict, path: str) -> None:
    """Write atomically, so a reader never sees half a file."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, ensure_ascii=False)
    os.replace(tmp, path)

"""Collects the event stream into the session summary of DESIGN.md (`callcoach.session.v1`).

It sits above the engine and the coach (the layers contract), so it names their event
classes; the engine never imports the coach.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import asdict
from datetime import datetime, timezone

from callcoach.coach.events import (CallSummary, CoachSetup, Feedback, Prompt, PromptCleared, PromptWithheld,
                                    ScoredUtterance)
from callcoach.engine.events import AudioDropped, CallEnded, DeviceGap, Notice, Utterance
from callcoach.roles import ROLES

SCHEMA = "callcoach.session.v1"


class SessionRecorder:
    """A listener; `summary()` is the JSON-ready session at any moment."""

    def __init__(self, source: str | None = None):
        self.id = uuid.uuid4().hex
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.source = source
        self.duration = 0.0
        self._utterances: dict[tuple, dict] = {}  # (role, start, end) -> JSON
        self._prompts: dict[int, dict] = {}
        self._withheld: list[dict] = []  # prompts the coach held back and dropped
        self._notices: list[dict] = []
        self._gaps: list[dict] = []  # device gaps: that speaker's audio is missing there
        self._dropped = {role: {"blocks": 0, "seconds": 0.0} for role in ROLES}
        self._coach: dict = {}
        self._setup: dict | None = None  # what the coach ran with (CoachSetup)
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        handler = self._HANDLERS.get(type(event))
        if handler:
            with self._lock:
                handler(self, event)

    def _utterance(self, u: Utterance) -> None:
        self._utterances[(u.role, u.start, u.end)] = {
            "speaker": u.role, "start": round(u.start, 2), "end": round(u.end, 2), "text": u.text,
            "sentiment": None, "wpm": u.wpm, "latency_s": u.latency_s,
            "words": [{"w": w.text, "s": w.start, "e": w.end} for w in u.words],
        }

    def _scored_utterance(self, s: ScoredUtterance) -> None:
        entry = self._utterances.get((s.role, s.start, s.end))
        if entry is not None:
            entry["sentiment"] = round(s.sentiment, 3)
            entry["upset"] = s.upset
            entry["cues"] = list(s.cues)

    def _prompt(self, p: Prompt) -> None:
        entry = asdict(p)
        entry["checklist"] = list(p.checklist)
        entry.update(cleared=None, feedback=None)
        self._prompts[p.id] = entry

    def _prompt_withheld(self, w: PromptWithheld) -> None:
        self._withheld.append(asdict(w))

    def _prompt_cleared(self, c: PromptCleared) -> None:
        if c.id in self._prompts:
            self._prompts[c.id]["cleared"] = {"t": round(c.t, 2), "reason": c.reason}

    def _feedback(self, f: Feedback) -> None:
        if f.prompt_id in self._prompts:
            self._prompts[f.prompt_id]["feedback"] = {"t": round(f.t, 2), "action": f.action}

    def _notice(self, n: Notice) -> None:
        entry = {"t": n.t, "level": n.level, "message": n.message}
        if getattr(n, "kind", None):
            entry.update(kind=n.kind, speaker=n.role)
        self._notices.append(entry)

    def _device_gap(self, g: DeviceGap) -> None:
        self._gaps.append({"speaker": g.role, "start": round(g.start, 2), "end": round(g.end, 2),
                           "reason": g.reason})

    def _audio_dropped(self, d: AudioDropped) -> None:
        count = self._dropped.setdefault(d.role, {"blocks": 0, "seconds": 0.0})
        count["blocks"] += d.blocks
        count["seconds"] += d.seconds

    def _coach_setup(self, c: CoachSetup) -> None:
        past = {"wpm": c.past_pace_wpm, "calls": c.past_pace_calls} if c.past_pace_wpm is not None else None
        self._setup = {"pace_band": list(c.pace_band),
                       "playbook": {"source": c.playbook_source, "version": c.playbook_version},
                       "past_pace": past}

    def _call_summary(self, s: CallSummary) -> None:
        self._coach = {"metrics": s.metrics, "handoff_note": s.handoff, "follow_up": list(s.checklist)}

    def _call_ended(self, e: CallEnded) -> None:
        self.duration = e.duration

    # One entry per event the summary records; the rest (levels, partials, gauges) pass by.
    _HANDLERS = {Utterance: _utterance, ScoredUtterance: _scored_utterance, Prompt: _prompt,
                 PromptWithheld: _prompt_withheld, PromptCleared: _prompt_cleared, Feedback: _feedback,
                 Notice: _notice, DeviceGap: _device_gap, AudioDropped: _audio_dropped, CoachSetup: _coach_setup,
                 CallSummary: _call_summary, CallEnded: _call_ended}

    def summary(self) -> dict:
        with self._lock:
            utterances = sorted(self._utterances.values(), key=lambda u: (u["start"], u["speaker"]))
            return {
                "schema": SCHEMA,
                "id": self.id,
                "started_at": self.started_at,
                "duration_s": round(self.duration, 2),
                "source": self.source,
                "utterances": utterances,
                "prompts": sorted(self._prompts.values(), key=lambda p: p["t"]),
                "withheld": sorted(self._withheld, key=lambda w: w["t"]),
                "metrics": {**self._coach.get("metrics", {}),
                            # Audio that never reached the engine (live devices): none is lost unsaid.
                            "dropped_blocks": {r: c["blocks"] for r, c in self._dropped.items()},
                            "dropped_s": {r: round(c["seconds"], 2) for r, c in self._dropped.items()}},
                "handoff_note": self._coach.get("handoff_note"),
                "follow_up": self._coach.get("follow_up", []),
                "notices": list(self._notices),
                "gaps": sorted(self._gaps, key=lambda g: (g["start"], g["speaker"])),
                **({"coach": self._setup} if self._setup else {}),
            }


def write_json(summary: dict, path: str) -> None:
    """Write atomically, so a reader never sees half a file; readable by the user only (0600),
    like everything else CallCoach writes: it holds what was said."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, ensure_ascii=False)
    os.replace(tmp, path)

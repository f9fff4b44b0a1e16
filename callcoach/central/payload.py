"""What a session sends to the team store: its redacted summary, checked again.

Only a session stored with redaction on may leave the PC. Every text in it that comes from
what was said (utterances, the words a prompt quotes, handoff notes, follow-ups) goes
through the redactor once more before it is sent: a leak the stored copy might have is
caught here. Word timings stay on the PC (the review window and the report do not use
them), and so does this PC's own QA note (QA's notes live on the server).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callcoach.store.common import summary_figures
from callcoach.store.outbox import PendingUpload
from callcoach.store.redaction import redact_text

# The summary's fields that hold words someone said, or text built from them or from devices
# (what the store's EventRedactor redacts).
_SAID_LISTS = {"utterances": ("text",), "prompts": ("because", "handoff"), "withheld": ("because",),
               "notices": ("message",), "gaps": ("reason",)}
_SAID_TEXTS = ("handoff_note",)
_SAID_TEXT_LISTS = ("follow_up",)
_LOCAL_ONLY = ("qa",)


class NotUploadable(Exception):
    """This session must not leave the PC (the reason is the message)."""


@dataclass(frozen=True)
class UploadRow:
    session_id: str
    revision: int
    row: dict  # what ingest_v1 takes for one session
    rechecked: int  # texts the second redaction pass changed


def upload_row(pending: PendingUpload, session: dict) -> UploadRow:
    """The row for ingest_v1; NotUploadable for a session stored with redaction off.
    `session` is the caller's fresh copy from the store: it is changed in place (a deep copy
    cost as much as the second redaction itself)."""
    if pending.redacted is False:
        raise NotUploadable("stored with redaction off: it never leaves this PC")
    # Stored before the store recorded it (None): redaction was on unless a user turned it
    # off, and every said text goes through the redactor below whatever the stored copy holds.
    summary = session
    for key in _LOCAL_ONLY:
        summary.pop(key, None)
    rechecked = _redact_again(summary)
    figures = summary_figures(summary)
    utterances = [u for u in summary.get("utterances") or [] if isinstance(u, dict)]
    row = {
        "id": pending.session_id,
        "revision": pending.revision,
        "started_at": summary.get("started_at"),
        "agent": summary.get("agent"),
        "source": summary.get("source"),
        "status": summary.get("status") or "complete",
        **figures,
        "transcript": "\n".join(str(u.get("text") or "") for u in utterances),
        "summary": summary,
    }
    return UploadRow(pending.session_id, pending.revision, row, rechecked)


def _redact_again(summary: dict) -> int:
    """Redact every said text in place, drop word timings; how many texts changed."""
    changed = 0

    def again(text: Any) -> Any:
        nonlocal changed
        if not isinstance(text, str):
            return text
        clean = redact_text(text)
        changed += clean != text
        return clean

    for list_key, fields in _SAID_LISTS.items():
        for item in summary.get(list_key) or []:
            if not isinstance(item, dict):
                continue
            item.pop("words", None)
            for field in fields:
                if field in item:
                    item[field] = again(item[field])
            if isinstance(item.get("checklist"), list):
                item["checklist"] = [again(t) for t in item["checklist"]]
    for key in _SAID_TEXTS:
        if key in summary:
            summary[key] = again(summary[key])
    for key in _SAID_TEXT_LISTS:
        if isinstance(summary.get(key), list):
            summary[key] = [again(t) for t in summary[key]]
    return changed

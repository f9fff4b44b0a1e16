"""Where a report's session comes from and where the report goes."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from callcoach.errors import CallCoachError
from callcoach.report.page import render_html
from callcoach.roles import ROLES
from callcoach.session_values import dicts, number
from callcoach.settings import Key, Settings


def write_report(session: dict, path: str | os.PathLike) -> Path:
    """Write the report atomically (a reader never sees half a file), readable by the user only."""
    path = Path(path)
    if not path.parent.is_dir():
        raise CallCoachError(f"cannot write {path}: folder {path.parent} does not exist")
    return write_private(path, render_html(session))


def write_private(path: Path, page: str) -> Path:
    """Write `page` to `path` atomically, 0600: a report holds what was said on calls."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CallCoachError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def load_session(ref: str, settings: Settings) -> dict:
    """A session from a JSON file, or by id from the session store.

    A JSON file (`callcoach analyze --json`) holds the words as they were heard, so it is
    redacted here as the store would be, unless the `redact` setting is off. `settings`:
    the process's settings, read once by the command.
    """
    path = Path(ref)
    if path.is_file() or path.suffix.lower() == ".json" or os.sep in ref:
        try:
            session = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CallCoachError(f"no such session file: {ref}") from None
        except json.JSONDecodeError as exc:
            raise CallCoachError(f"{ref} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CallCoachError(f"cannot read {ref}: {getattr(exc, 'strerror', None) or exc}") from None
        if not isinstance(session, dict):
            raise CallCoachError(f"{ref} is not a CallCoach session (expected a JSON object)")
        return redact_session(session) if settings.get(Key.REDACT) else session

    from callcoach.store import SessionStore, default_store_path

    where = default_store_path(settings)
    session = None
    if where.exists():  # looking a session up must not create an empty store
        with SessionStore(where) as store:
            session = store.get(ref)
    if session is None:
        raise CallCoachError(f"no session file or stored session {ref!r} (session store: {where})")
    return session


def redact_session(session: dict) -> dict:
    """A copy with personal data removed from every text the report shows: the transcript
    as one stream (a number read in pieces is still caught), the rest one text at a time."""
    from callcoach.redact import StreamRedactor, redact

    def one(x: Any) -> Any:
        return redact(x).text if isinstance(x, str) and x else x

    out = copy.deepcopy(session)
    stream = StreamRedactor()
    for u in sorted(dicts(out.get("utterances")), key=lambda u: number(u.get("start")) or 0.0):
        if isinstance(u.get("text"), str):
            speaker = u.get("speaker") if u.get("speaker") in ROLES else "customer"
            u["text"] = stream.push(u["text"], speaker, number(u.get("end")))
        u.pop("words", None)  # the same words again, and the report does not show them
    for p in dicts(out.get("prompts")):
        for key in ("title", "message", "phrase", "because", "handoff"):
            p[key] = one(p.get(key))
        if isinstance(p.get("checklist"), list):
            p["checklist"] = [one(c) for c in p["checklist"]]
    out["handoff_note"] = one(out.get("handoff_note"))
    if isinstance(out.get("follow_up"), list):
        out["follow_up"] = [one(c) for c in out["follow_up"]]
    for n in dicts(out.get("notices")):
        n["message"] = one(n.get("message"))
    if isinstance(out.get("qa"), dict):
        out["qa"]["note"] = one(out["qa"].get("note"))
    return out

"""`callcoach doctor`: is this desktop ready for calls? For IT, one line per check.

Checks the settings and the machine policy, the sound system, its inputs and outputs
against the configured names (and opens them; with --tone it plays a tone through the call's
output), the model (loaded for real), a transcription of the bundled sample
(voice activity and speech to text, so the whole engine is exercised), and that the session
store and the log folder can be written. Prints a report, or JSON with --json.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from callcoach import __version__
from callcoach.doctor_audio import devices_check, open_check, sound_system_check
from callcoach.doctor_check import Check
from callcoach.errors import CallCoachError, one_line
from callcoach.settings import Settings

SCHEMA = "callcoach.doctor.v1"
SAMPLE_CALL = "demo_call.flac"  # its first agent turn (text and times in demo_call.json) is the sample


def run_checks(settings: Settings, tone: bool = False) -> dict:
    """Every check, in order; a check that raises is a failure, never a traceback. With
    `tone`, a tone played on the call's output checks the whole sound loop. `settings`: the
    process's, read once by the command."""
    context: dict[str, Any] = {}
    checks = []
    try:
        for name, check in _CHECKS:
            try:
                result = check(settings, context) if name != "open devices" else open_check(settings, context, tone)
            except CallCoachError as exc:
                result = Check(name, "fail", str(exc))
            except Exception as exc:  # a broken install shows up here: say what, keep checking
                result = Check(name, "fail", f"{type(exc).__name__}: {one_line(exc)}")
            checks.append(result)
    finally:
        if "system" in context:
            context["system"].close()
    return {
        "schema": SCHEMA,
        "ok": all(c.status != "fail" for c in checks),
        "version": __version__,
        "system": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "bundle": bool(getattr(sys, "frozen", False)),
        "checks": [asdict(c) for c in checks],
        "settings": {key: {"value": _shown(key, value), "source": source, "locked": settings.locked(key)}
                     for key, (value, source) in settings.effective().items()},
    }


def _shown(key: str, value: Any) -> Any:
    """A setting as the report may show it: connection strings without their password."""
    from callcoach.settings import Key

    if key in (Key.CENTRAL_STORE, Key.CENTRAL_LOGIN) and value:
        from callcoach.central.status import without_password

        return without_password(value)
    return value


# -- the checks --------------------------------------------------------------------------


def _settings(settings: Settings, _context: dict) -> Check:
    policy = settings.policy_path
    where = f"policy {policy}" if policy.exists() else f"no machine policy ({policy})"
    locked = [key for key in settings.effective() if settings.locked(key)]
    details = {"policy_file": str(policy), "user_file": str(settings.user_path), "locked": locked,
               "problems": list(settings.errors)}
    if settings.policy_errors:
        return Check("settings", "fail", settings.policy_errors[0], details)
    if settings.errors:
        return Check("settings", "warn", settings.errors[0], details)
    return Check("settings", "ok", f"{where}; {len(locked)} locked", details)


def _model(settings: Settings, context: dict) -> Check:
    from callcoach.engine.engine import load_model
    from callcoach.pipeline import engine_settings

    engine = engine_settings(settings)
    started = time.monotonic()
    context["transcriber"] = load_model(engine)
    took = time.monotonic() - started
    return Check("model", "ok", f"{engine.model} loaded in {took:.2f} s ({engine.device})",
                 {"model": engine.model, "load_s": round(took, 2)})


def _transcription(_settings: Settings, context: dict) -> Check:
    transcriber = context.get("transcriber")
    if transcriber is None:
        return Check("transcription", "fail", "not checked: no model")
    import numpy as np

    from callcoach.engine.transcriber import Job
    from callcoach.engine.vad import SileroVad

    audio, expected = _sample()
    started = time.monotonic()
    speech = SileroVad().stream().process(audio)[0]
    if not len(speech) or float(np.max(speech)) < 0.5:
        return Check("transcription", "fail", "voice activity detection heard no speech in the sample")
    result = transcriber.transcribe([Job("agent", audio, 0.0, True)])[0]
    took = time.monotonic() - started
    heard = result.text if result else ""
    share = _words_matched(expected, heard)
    details = {"expected": expected, "heard": heard, "words_matched": round(share, 2), "seconds": round(took, 2)}
    if share < 0.8:
        return Check("transcription", "fail", f"the sample was heard as {heard!r}, expected {expected!r}", details)
    return Check("transcription", "ok", f"sample heard in {took:.2f} s: {heard!r}", details)


def _session_store(settings: Settings, _context: dict) -> Check:
    from callcoach.store import SessionStore, default_store_path

    path = default_store_path(settings)
    with SessionStore(path) as store:  # CallCoachError, one line, when it is not usable
        count = store.count_sessions()
    _writable(path.parent)
    return Check("session store", "ok", f"{path} ({count} sessions, writable)", {"path": str(path)})


def _team_store(settings: Settings, _context: dict) -> Check:
    """Off (no network at all), or: the server reached with this desktop's certificate, its
    schema, and the oldest session still waiting to go there with the last error."""
    from callcoach.settings import Key

    dsn = settings.get(Key.CENTRAL_STORE)
    if not dsn:
        return Check("team store", "ok", "off: sessions stay on this PC, nothing opens a network connection")
    from callcoach.central.status import team_store_status
    from callcoach.store import SessionStore, default_store_path

    with SessionStore(default_store_path(settings)) as store:
        status = team_store_status(dsn, store.outbox_state())
    waiting = status.outbox
    details = {"server": status.server, "schema_version": status.schema_version, "pending": waiting.pending,
               "oldest_pending": waiting.oldest_queued_at, "last_error": waiting.last_error,
               "never_uploaded": waiting.never}
    backlog = (f"{waiting.pending} waiting, the oldest since {waiting.oldest_queued_at}"
               + (f" (last error: {waiting.last_error})" if waiting.last_error else "")) if waiting.pending \
        else "nothing waiting"
    kept = f"; {waiting.never} kept on this PC (stored with redaction off)" if waiting.never else ""
    if status.error:
        return Check("team store", "warn", f"{status.error}; {backlog}{kept}", details)
    return Check("team store", "ok", f"{status.server}, schema {status.schema_version}: {backlog}{kept}", details)


def _log_folder(_settings: Settings, _context: dict) -> Check:
    from callcoach import logs

    folder = logs.log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CallCoachError(f"cannot create the log folder {folder}: {one_line(exc)}") from None
    _writable(folder)
    return Check("log folder", "ok", f"{logs.log_path()} (writable)", {"path": str(logs.log_path())})


_CHECKS: list[tuple[str, Callable[[Settings, dict], Check]]] = [
    ("settings", _settings),
    ("sound system", sound_system_check),
    ("devices", devices_check),
    ("open devices", open_check),
    ("model", _model),
    ("transcription", _transcription),
    ("session store", _session_store),
    ("team store", _team_store),
    ("log folder", _log_folder),
]


# -- helpers -----------------------------------------------------------------------------


def _sample():
    """The first agent turn of the bundled demo call (16 kHz mono) and what it says."""
    from callcoach.audio.files import read_call
    from callcoach.paths import asset_path

    turns = json.loads(asset_path("demo_call.json").read_text(encoding="utf-8"))["turns"]
    turn = next(t for t in turns if t["speaker"] == "agent")
    audio = read_call(str(asset_path(SAMPLE_CALL)))["agent"]
    return audio[: int((turn["end"] + 0.5) * 16000)], turn["text"]


def _words_matched(expected: str, heard: str) -> float:
    want = re.findall(r"[a-z']+", expected.lower())
    got = set(re.findall(r"[a-z']+", heard.lower()))
    return sum(w in got for w in want) / max(1, len(want))


def _writable(folder: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise CallCoachError(f"cannot write in {folder}: {one_line(exc)}") from None


# -- output ------------------------------------------------------------------------------


def render(report: dict) -> str:
    """The readable report: one line per check, the devices, the effective settings."""
    bundle = ", bundle" if report["bundle"] else ""
    lines = [f"CallCoach {report['version']} doctor ({report['system']}{bundle})", ""]
    for check in report["checks"]:
        mark = {"ok": "ok", "warn": "WARN", "fail": "FAIL"}[check["status"]]
        lines.append(f"  {mark:<5} {check['name']:<14} {check['message']}")
        for device in check["details"].get("devices", []):
            used = f"  <- {', '.join(device['matches'])}" if device["matches"] else ""
            kind = "in " if device.get("kind") == "input" else "out"
            default = " (default)" if device.get("default") else ""
            lines.append(f"{'':23}{kind} {device['name']}{default}{used}")
    lines += ["", "Effective settings (where each value comes from):"]
    for key, entry in report["settings"].items():
        source = entry["source"] + (", locked" if entry["locked"] else "")
        value = json.dumps(entry["value"]) if not isinstance(entry["value"], dict) else "{…}"
        lines.append(f"  {key:<16} {value:<32} {source}")
    failed = [c["name"] for c in report["checks"] if c["status"] == "fail"]
    lines += ["", f"{len(failed)} problem{'s' if len(failed) != 1 else ''}: {', '.join(failed)}" if failed
              else "All checks passed."]
    return "\n".join(lines)


def main(settings: Settings, as_json: bool = False, tone: bool = False) -> int:
    """`callcoach doctor [--json] [--tone]`: exit status 0 when every check passes, else 1."""
    report = run_checks(settings, tone=tone)
    print(json.dumps(report, indent=1, ensure_ascii=False) if as_json else render(report))
    logging.getLogger("callcoach.events").info(
        "doctor: %s", ", ".join(f"{c['name']} {c['status']}" for c in report["checks"]))
    return 0 if report["ok"] else 1

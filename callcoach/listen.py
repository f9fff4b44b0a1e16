"""`callcoach listen`: a live call without the window, through the same pipeline as the widget.

The agent is a microphone; the customer is what plays on an output (or an input that
carries the call). It runs until S seconds have passed or SIGINT/SIGTERM, then writes the
session JSON and stores the session like a widget call. With --events it prints one JSON
object per line as things are known, for integrations (a CRM side panel) and benchmarks.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from callcoach.analyze import check_writable, session_outputs
from callcoach.audio.devices import CallAudio, CapturePlan
from callcoach.audio.system import sound_system
from callcoach.coach.events import Prompt
from callcoach.engine.events import Utterance
from callcoach.pipeline import CallPipeline
from callcoach.roles import ROLES
from callcoach.session import write_json
from callcoach.settings import Key, Settings, agent_name

UPLOAD_WAIT_S = 15.0  # the server's connect and statement timeouts bound it; then the outbox keeps it


@dataclass(frozen=True)
class ListenOptions:
    mic: str | None = None
    call_output: str | None = None
    call_input: str | None = None
    seconds: float | None = None
    out: str | None = None
    events: bool = False
    store: bool = True


def plan_for(options: ListenOptions, settings: Settings) -> CapturePlan:
    """The flags, else the devices in the settings, else the system's defaults."""
    plan = CapturePlan.from_settings(settings)
    mic = options.mic or plan.mic
    if options.call_input:
        return CapturePlan(mic, CallAudio.INPUT, options.call_input)
    if options.call_output:
        return CapturePlan(mic, CallAudio.OUTPUT, options.call_output)
    return CapturePlan(mic, plan.call, plan.call_device)


def _utterance_line(event: Utterance) -> dict:
    return {"type": "utterance", "speaker": event.role, "start": event.start, "end": event.end, "text": event.text}


def _prompt_line(event: Prompt) -> dict:
    return {"type": "prompt", "t": event.t, "kind": event.kind, "severity": event.severity,
            "title": event.title, "from_partial": event.from_partial}


_LINES = {Utterance: _utterance_line, Prompt: _prompt_line}  # the events `listen` prints, one JSON line each


class EventPrinter:
    """Pipeline listener: one flushed JSON line per final utterance and per prompt shown."""

    def __init__(self, out: TextIO):
        self._out = out
        self._lock = threading.Lock()  # events come from the engine's two threads

    def say(self, event: dict) -> None:
        line = json.dumps(event, ensure_ascii=False)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def __call__(self, event: object) -> None:
        line = _LINES.get(type(event))
        if line:
            self.say(line(event))



def listen(options: ListenOptions, settings: Settings) -> dict:
    """`settings`: the process's, read once by the command."""
    if options.out:
        check_writable(options.out)
    plan = plan_for(options, settings)
    system = sound_system()
    try:
        mic, call = plan.resolve(system.devices())  # a device not there: one line, before the model loads
        print(f"listening: microphone {mic.name}; call audio: "
              + (f"what plays on {call.name}" if plan.call is CallAudio.OUTPUT else f"input {call.name}"),
              file=sys.stderr)
        pipeline = CallPipeline.from_settings(settings, source_name="live", live_text=False)  # no window
        printer = EventPrinter(sys.stdout) if options.events else None
        if printer:
            pipeline.subscribe(printer)
        pipeline.load()
        source = system.open(plan)
    finally:
        system.close()
    writer, redacted = session_outputs(pipeline, settings, options.store, agent_name(settings))
    sharing = _share(pipeline, settings)
    stop = _stop_on_signals_and_timer(source, options.seconds)
    try:
        source.start()
        _wait_for_audio(source)
        if printer:
            printer.say({"type": "ready"})
        summary = pipeline.run(source)
    finally:
        stop()
        if sharing:
            sharing.close()
        if writer:
            writer.close()
    upload = _upload(writer, settings)
    if redacted:
        summary = {**redacted.summary(), "engine": summary["engine"]}
    if options.out:
        write_json(summary, options.out)
    if upload:
        upload.join(UPLOAD_WAIT_S)
    return summary


def _share(pipeline, settings: Settings):
    """The call's live status to the supervisors' board, when the policy says so (and then
    the agent is told, as the widget tells them)."""
    from callcoach.central.live_status import share_live_status

    publisher = share_live_status(
        pipeline, settings, agent_name(settings),
        on_ack=lambda who: print(f"supervisor on the way: {who} acknowledged the escalation", file=sys.stderr))
    if publisher:
        print("live status of this call is shared with the supervisors' board (no audio, no words)",
              file=sys.stderr)
    return publisher


def _upload(writer, settings: Settings):
    """The call just stored goes to the team store, if the policy names one, while the JSON
    is written; None when there is nothing to do."""
    dsn = settings.get(Key.CENTRAL_STORE)
    if not (writer and dsn):
        return None
    from callcoach.central.uploader import upload_once

    def said(result) -> None:
        print(f"team store: {result.error}" if result.error else
              f"team store: {result.uploaded} uploaded, {result.pending} waiting", file=sys.stderr)

    return upload_once(writer.store.path, dsn, said)


def _wait_for_audio(source, timeout_s: float = 3.0) -> None:
    """Until each device sends audio (an idle output's monitor can take a second or two to
    start), so that `ready` means listening; an output that sends nothing while silent
    (WASAPI) is not waited for longer than `timeout_s`."""
    delivering = getattr(source, "delivering", None)
    deadline = time.monotonic() + timeout_s
    while delivering and not all(delivering(role) for role in ROLES) and time.monotonic() < deadline:
        time.sleep(0.02)


def _stop_on_signals_and_timer(source, seconds: float | None):
    """Stop the source after `seconds` or at SIGINT/SIGTERM; returns the undo."""
    timer = threading.Timer(seconds, source.stop) if seconds else None
    if timer:
        timer.daemon = True
        timer.start()
    previous = {sig: signal.signal(sig, lambda *_: source.stop()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def undo() -> None:
        if timer:
            timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return undo

"""`callcoach analyze`: a recorded call through the same streaming engine as a live call."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

from callcoach.audio.files import FileSource, read_call, read_pair
from callcoach.audio.recorded import recorded_at
from callcoach.engine.engine import EngineSettings
from callcoach.errors import CallCoachError
from callcoach.pipeline import CallPipeline, coach_settings
from callcoach.progress import ProgressBar
from callcoach.session import write_json
from callcoach.settings import Key, Settings
from callcoach.store import default_store_path, redacted_recorder


def analyze_call(*, call: str | None = None, agent: str | None = None, customer: str | None = None,
                 agent_channel: str = "left", realtime: bool = False, out: str | None = None,
                 model: str | None = None, device: str = "cpu", playbook: str | None = None,
                 store: bool = True, progress: bool = True, agent_name: str | None = None,
                 on_source: Callable[[FileSource], None] | None = None, settings: Settings) -> dict:
    """Run a recorded call through the live pipeline; write OUT.json and keep it in the
    session store so QA can review it. With the `redact` setting on (the default; policy can
    lock it) both are redacted like a live call, and so is the summary returned. `on_source`
    sees the audio source before it plays (a caller drawing its own progress bar reads it).

    The session is dated by the recording's own time (its date tag, else the file's
    modification time; two mono files: the agent's) and named after its file.

    `agent_name`: whose call it is. The session is stored under that name and, like a call in
    the widget, starts from the agent's usual pace over their stored calls. Without it a
    recording is anyone's: it is coached on its own.

    `settings`: the process's settings (the pace band, `redact`, the store's folder), read
    once by the command. The model, device and playbook come from the arguments, as the
    command's flags."""
    if out:
        check_writable(out)
    channels = read_call(call, agent_channel) if call else read_pair(agent, customer)
    # Partials only matter to someone watching; a file analysed at full speed skips them.
    engine = EngineSettings(model=model or "tiny.en", device=device, partials=realtime)
    pipeline = CallPipeline(engine, coach_settings(settings), playbook=playbook, measure_latency=realtime,
                            source_name=os.path.basename(call or agent))
    pipeline.recorder.started_at = recorded_at(call or agent).iso()
    writer, redacted = session_outputs(pipeline, settings, store, agent_name)
    source = FileSource(channels, realtime=realtime)
    if on_source:
        on_source(source)
    pipeline.load()
    try:
        with ProgressBar("analyzing", lambda: source.progress) if progress else nullcontext():
            summary = pipeline.run(source)
    finally:
        if writer:
            writer.close()
    if redacted:
        summary = {**redacted.summary(), "engine": summary["engine"]}
    if out:
        write_json(summary, out)
    return summary


def session_outputs(pipeline: CallPipeline, settings: Settings, store: bool, agent: str | None = None):
    """(the store writer or None, the recorder of the redacted session or None) for a call.
    The JSON holds what the store holds: the writer's redacted record, when there is a writer;
    with the `redact` setting off (a policy can lock it on) the plain summary."""
    redact = settings.get(Key.REDACT)
    writer = _store_writer(pipeline, default_store_path(settings), redact, agent) if store else None
    redacted = (writer.recorder if writer else redacted_recorder(pipeline)) if redact else None
    return writer, redacted


def _store_writer(pipeline: CallPipeline, path: Path, redact: bool, agent: str | None):
    """A StoreWriter for this call, or None (with a warning) when the store cannot be used:
    the analysis itself must not fail because the archive is broken."""
    from callcoach.store import StoreWriter

    try:
        return StoreWriter.attach(pipeline, path, redact=redact, agent=agent)
    except CallCoachError as exc:
        print(f"callcoach: warning: not storing this session: {exc}", file=sys.stderr)
        return None


def check_writable(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CallCoachError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise CallCoachError(f"cannot write {path}: no permission in {folder}")

"""`callcoach analyze`: a recorded call through the same streaming engine as a live call."""

from __future__ import annotations

import os

from callcoach.audio.files import FileSource, read_call, read_pair
from callcoach.engine.engine import EngineSettings
from callcoach.errors import CallCoachError
from callcoach.pipeline import CallPipeline
from callcoach.progress import ProgressBar
from callcoach.session import write_json


def analyze_call(*, call: str | None = None, agent: str | None = None, customer: str | None = None,
                 agent_channel: str = "left", realtime: bool = False, out: str | None = None,
                 model: str | None = None, device: str = "cpu", playbook: str | None = None) -> dict:
    if out:
        _check_writable(out)
    channels = read_call(call, agent_channel) if call else read_pair(agent, customer)
    # Partials only matter to someone watching; a file analysed at full speed skips them.
    settings = EngineSettings(model=model or "tiny.en", device=device, partials=realtime)
    pipeline = CallPipeline(settings, playbook=playbook, measure_latency=realtime,
                            source_name=os.path.basename(call or agent))
    source = FileSource(channels, realtime=realtime)
    pipeline.load()
    with ProgressBar("analyzing", lambda: source.progress):
        summary = pipeline.run(source)
    if out:
        write_json(summary, out)
    return summary


def _check_writable(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CallCoachError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise CallCoachError(f"cannot write {path}: no permission in {folder}")

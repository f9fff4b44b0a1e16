"""A real session to report on: the bundled demo call through the real pipeline and model,
kept in a session store (redacted, as every stored call is), with an agent who presses the
prompt cards' buttons. Used by tests/test_report.py and tools/report_screenshot.py."""

from __future__ import annotations

from pathlib import Path

# The agent's reactions to the demo call's prompts, by prompt kind.
ANSWERS = {"apologize": "done", "slow_down": "not_helpful", "escalate": "done"}


class ScriptedAgent:
    """Presses "Done" / "Not helpful" on a prompt card as an agent would: `delay_s` of call
    time after the card appeared, and only while it is still on screen. The press goes
    through `Coach.feedback`, like the widget's buttons, at a moment the coach publishes
    its gauges (CoachState), i.e. between two of its own steps."""

    def __init__(self, coach, answers: dict[str, str], delay_s: float = 2.0):
        self.coach = coach
        self.answers = answers
        self.delay_s = delay_s
        self.pending: dict[int, tuple[float, str]] = {}  # prompt id -> (press at, action)

    def __call__(self, event: object) -> None:
        name = type(event).__name__
        if name == "Prompt" and event.kind in self.answers:
            self.pending[event.id] = (event.t + self.delay_s, self.answers[event.kind])
        elif name == "PromptCleared":
            self.pending.pop(event.id, None)
        elif name == "CoachState":
            for prompt_id, (due, action) in list(self.pending.items()):
                if event.t >= due:
                    del self.pending[prompt_id]
                    self.coach.feedback(prompt_id, action)


def demo_session(store_path: Path, agent: str = "jordan") -> tuple[dict, str]:
    """(the pipeline's own summary, the id of the session stored at `store_path`)."""
    from callcoach.audio.files import FileSource, read_call
    from callcoach.engine.engine import EngineSettings
    from callcoach.paths import asset_path
    from callcoach.pipeline import CallPipeline
    from callcoach.store import SessionStore, StoreWriter

    pipeline = CallPipeline(EngineSettings(partials=False), source_name="demo_call.flac")
    writer = StoreWriter.attach(pipeline, SessionStore(store_path), agent=agent)
    pipeline.subscribe(ScriptedAgent(pipeline.coach, ANSWERS))
    pipeline.load()
    try:
        summary = pipeline.run(FileSource(read_call(str(asset_path("demo_call.flac"))), realtime=False))
    finally:
        writer.close()
        writer.store.close()
    if writer.errors:
        raise RuntimeError(f"the store failed: {writer.errors}")
    return summary, writer.id

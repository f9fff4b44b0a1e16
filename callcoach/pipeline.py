"""One call, wired: engine -> coach -> listeners (session recorder, widget bridge, tests).

Everything that handles a call, live or recorded, goes through `CallPipeline`, so the
widget, `callcoach analyze` and the tests see the same events from the same code.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from callcoach.coach.coach import Coach, CoachSettings
from callcoach.coach.pace import PastPace
from callcoach.coach.playbook import load_playbook
from callcoach.engine.engine import Engine, EngineSettings, Source
from callcoach.engine.events import Notice
from callcoach.errors import CallCoachError
from callcoach.logs import CallLog
from callcoach.session import SessionRecorder

if TYPE_CHECKING:
    from callcoach.store.agent_pace import AgentHistory


class CallPipeline:
    def __init__(self, engine_settings: EngineSettings = EngineSettings(),
                 coach_settings: CoachSettings = CoachSettings(), playbook: str | None = None,
                 measure_latency: bool = False, source_name: str | None = None,
                 prompt_budget: int | None = None, history: AgentHistory | None = None):
        self.engine = Engine(engine_settings, measure_latency=measure_latency)
        self.history = history  # the agent's stored calls: their usual pace is the baseline
        loaded, self.playbook_error = load_playbook(playbook)
        if prompt_budget is not None:  # the user's or IT's setting wins over the playbook's
            loaded = replace(loaded, policy=replace(loaded.policy, budget=prompt_budget))
        self.coach = Coach(loaded, coach_settings, measure_latency=measure_latency,
                           confirm_partial=self.engine.confirm_partial)
        self.recorder = SessionRecorder(source_name)
        self.engine.subscribe(self.coach)
        self.coach.subscribe(self.recorder)
        self.call_log = CallLog()
        self.coach.subscribe(self.call_log)

    @classmethod
    def from_settings(cls, settings, measure_latency: bool = True, source_name: str | None = None,
                      history: AgentHistory | None = None, **engine_overrides) -> CallPipeline:
        """A pipeline configured from `callcoach.settings.Settings` (live calls, the demo)."""
        engine = EngineSettings(model=settings.get("model"), device=settings.get("compute_device"),
                                **engine_overrides)
        return cls(engine, coach_settings(settings), playbook=settings.get("playbook") or None,
                   measure_latency=measure_latency, source_name=source_name,
                   prompt_budget=settings.get("prompt_budget"), history=history)

    def subscribe(self, listener) -> None:
        """Receive every engine and coach event (from the engine's threads)."""
        self.coach.subscribe(listener)

    def load(self) -> None:
        self.engine.load()

    def run(self, source: Source) -> dict:
        """Drive a whole call on this thread; returns the session summary."""
        self.call_log.started(source)
        self.coach.start(self._past_pace())
        if self.playbook_error:
            self.coach(Notice("error", self.playbook_error))
        self.engine.run(source)
        summary = self.recorder.summary()
        summary["engine"] = dict(self.engine.stats)  # load-policy counters, for whoever tunes it
        return summary

    def _past_pace(self) -> PastPace | None:
        """The agent's usual pace, read here on the call's thread; a store that cannot be read
        costs the head start, not the call."""
        if self.history is None:
            return None
        try:
            return self.history.past_pace()
        except CallCoachError as exc:
            self.coach(Notice("warning", f"the agent's past calls could not be read ({exc}); "
                                         "the pace baseline comes from this call alone"))
            return None


def coach_settings(settings) -> CoachSettings:
    """The coach's settings (the pace band) from `callcoach.settings.Settings`."""
    return CoachSettings(pace_band=(float(settings.get("pace_low")), float(settings.get("pace_high"))))

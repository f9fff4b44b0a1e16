"""One call, wired: engine -> coach -> listeners (session recorder, widget bridge, tests).

Everything that handles a call, live or recorded, goes through `CallPipeline`, so the
widget, `callcoach analyze` and the tests see the same events from the same code.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from callcoach.audio.block import Source
from callcoach.coach.coach import Coach, CoachSettings
from callcoach.coach.early_cues import partial_roles
from callcoach.coach.pace import PastPace
from callcoach.coach.playbook import load_playbook
from callcoach.engine.engine import Engine, EngineSettings
from callcoach.engine.events import Notice
from callcoach.errors import CallCoachError
from callcoach.logs import CallLog
from callcoach.session import SessionRecorder
from callcoach.settings import Key, Settings

if TYPE_CHECKING:
    from callcoach.store.agent_pace import AgentHistory


class CallPipeline:
    def __init__(self, engine_settings: EngineSettings = EngineSettings(),
                 coach_settings: CoachSettings = CoachSettings(), playbook: str | None = None,
                 measure_latency: bool = False, source_name: str | None = None,
                 prompt_budget: int | None = None, history: AgentHistory | None = None, live_text: bool = True):
        """`live_text`: someone sees the text while it is spoken (the widget). Without, only the
        partials the coach's early cues read are transcribed (the customer's): the agent's
        cost ~5 % of a core in `listen` for nobody."""
        self.history = history  # the agent's stored calls: their usual pace is the baseline
        loaded, self.playbook_error = load_playbook(playbook)
        if prompt_budget is not None:  # the user's or IT's setting wins over the playbook's
            loaded = replace(loaded, policy=replace(loaded.policy, budget=prompt_budget))
        if not live_text:
            engine_settings = replace(engine_settings, partial_roles=partial_roles(loaded.rules))
        self.engine = Engine(engine_settings, measure_latency=measure_latency)
        self.coach = Coach(loaded, coach_settings, measure_latency=measure_latency,
                           confirm_partial=self.engine.confirm_partial)
        self.recorder = SessionRecorder(source_name)
        self.engine.subscribe(self.coach)
        self.coach.subscribe(self.recorder)
        self.call_log = CallLog()
        self.coach.subscribe(self.call_log)

    @classmethod
    def from_settings(cls, settings: Settings, measure_latency: bool = True, source_name: str | None = None,
                      history: AgentHistory | None = None, live_text: bool = True) -> CallPipeline:
        """A pipeline configured from the settings (live calls, the demo)."""
        return cls(engine_settings(settings), coach_settings(settings), playbook=settings.get(Key.PLAYBOOK) or None,
                   measure_latency=measure_latency, source_name=source_name,
                   prompt_budget=settings.get(Key.PROMPT_BUDGET), history=history, live_text=live_text)

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


def engine_settings(settings: Settings) -> EngineSettings:
    """The engine's settings for a call. The only place they are built from the settings:
    the widget's preload (gui.app.preload_model) loads the model these name, and a call
    reuses it only while they match (engine.load_model's cache); a second copy that
    drifted would bring back the ~70 ms GIL stall of a model load at call start."""
    return EngineSettings(model=settings.get(Key.MODEL), device=settings.get(Key.COMPUTE_DEVICE))


def coach_settings(settings: Settings) -> CoachSettings:
    """The coach's settings (the pace band)."""
    return CoachSettings(pace_band=(float(settings.get(Key.PACE_LOW)), float(settings.get(Key.PACE_HIGH))))

"""One call's life between the app and its `CallRunner`, as a named state.

`CoachApp` decides when a call starts or stops; the controller runs it and says where it
is (`state_changed`); the window shows each state (`CoachWindow.show_call_state`). Every
change of state happens here, in `_set`, so "call ended" has one source.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from callcoach.engine.events import CallEnded, ModelReady
from callcoach.gui.bridge import CallRunner


class CallState(Enum):
    IDLE = "idle"  # no call yet
    WAITING = "waiting"  # asked to start: the idle meters are freeing the devices first
    NOT_STARTED = "not_started"  # the call's audio could not be set up; nothing ran
    STARTING = "starting"  # loading the model, opening the devices
    LIVE = "live"  # the call is being coached
    FINISHING = "finishing"  # asked to stop: what was captured is still coached
    ENDED = "ended"  # the call is over (its thread may still be winding down)
    FAILED = "failed"  # the call stopped on an error

    @property
    def active(self) -> bool:
        """A call is under way: the start/stop button stops it."""
        return self in (CallState.STARTING, CallState.LIVE, CallState.FINISHING)


class CallController(QObject):
    state_changed = Signal(object)  # the new CallState
    event = Signal(object)  # the call's engine and coach events, on the GUI thread, in order
    failed = Signal(str)  # why the call stopped (one line), before `finished`
    finished = Signal(object)  # the session summary, or None: the call's thread has ended

    def __init__(self):
        super().__init__()
        self.state = CallState.IDLE
        self.runner: CallRunner | None = None
        self.pipeline = None  # the current or last call's (feedback comes after the end)

    def running(self) -> bool:
        """The call's thread runs (it may have ended as a call and still be finishing)."""
        return bool(self.runner and self.runner.is_running())

    def wait_for_devices(self) -> None:
        self._set(CallState.WAITING)

    def cancel_wait(self) -> None:
        if self.state is CallState.WAITING:
            self._set(CallState.IDLE)

    def not_started(self) -> None:
        self._set(CallState.NOT_STARTED)

    def start(self, pipeline, make_source: Callable[[], Any]) -> None:
        self.pipeline = pipeline
        self.runner = CallRunner(pipeline, make_source)
        self.runner.bridge.connect_to(self._on_event)
        self.runner.failed.connect(self._on_failed)
        self.runner.finished.connect(self._on_finished)
        self._set(CallState.STARTING)
        self.runner.start()

    def stop(self) -> None:
        """Ask the call to stop; `finished` follows once its thread has ended."""
        if not self.running():
            return
        if self.state.active:
            self._set(CallState.FINISHING)
        self.runner.stop()

    def _on_event(self, event: object) -> None:
        self.event.emit(event)
        handler = self._STATE_EVENTS.get(type(event))
        if handler:
            handler(self, event)

    def _model_ready(self, event: ModelReady) -> None:
        if self.state is CallState.STARTING:
            self._set(CallState.LIVE)

    def _call_ended(self, event: CallEnded) -> None:
        self._ended()

    # The engine events that move a call's state; the window gets every event.
    _STATE_EVENTS = {ModelReady: _model_ready, CallEnded: _call_ended}

    def _on_failed(self, message: str) -> None:
        self._set(CallState.FAILED)
        self.failed.emit(message)

    def _on_finished(self, summary) -> None:
        self._ended()
        self.finished.emit(summary)

    def _ended(self) -> None:
        """The engine's CallEnded, or the thread's end when none came (stopped while loading)."""
        if self.state not in (CallState.FAILED, CallState.ENDED):
            self._set(CallState.ENDED)

    def _set(self, state: CallState) -> None:
        self.state = state
        self.state_changed.emit(state)

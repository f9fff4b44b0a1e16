"""CallController: a call's states, in order, from a stand-in pipeline (no model, no audio)."""

from __future__ import annotations

from callcoach.engine.events import CallEnded, ModelReady
from callcoach.errors import CallCoachError
from callcoach.gui.call_controller import CallController, CallState


class FakePipeline:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.listeners = []

    def subscribe(self, listener) -> None:
        self.listeners.append(listener)

    def _emit(self, event) -> None:
        for listener in self.listeners:
            listener(event)

    def load(self) -> None:
        self._emit(ModelReady(0.0))

    def run(self, _source) -> dict:
        if self.fail:
            raise CallCoachError("the headset went away")
        self._emit(CallEnded(1.0))
        return {"utterances": []}


def _run(qtbot, pipeline) -> tuple[CallController, list, list, list]:
    calls = CallController()
    states, failures, summaries = [], [], []
    calls.state_changed.connect(states.append)
    calls.failed.connect(failures.append)
    calls.finished.connect(summaries.append)
    with qtbot.waitSignal(calls.finished, timeout=10_000):
        calls.start(pipeline, lambda: None)
    return calls, states, failures, summaries


def test_a_call_goes_starting_live_ended_once(qtbot):
    calls, states, failures, summaries = _run(qtbot, FakePipeline())
    assert states == [CallState.STARTING, CallState.LIVE, CallState.ENDED], "ended once, not twice"
    assert failures == [] and summaries == [{"utterances": []}]
    assert not calls.running() and not calls.state.active


def test_a_failed_call_stays_failed(qtbot):
    calls, states, failures, summaries = _run(qtbot, FakePipeline(fail=True))
    assert states == [CallState.STARTING, CallState.LIVE, CallState.FAILED]
    assert failures == ["the headset went away"] and summaries == [None]


def test_waiting_for_the_devices_can_be_called_off():
    calls = CallController()
    calls.wait_for_devices()
    assert calls.state is CallState.WAITING
    calls.cancel_wait()
    assert calls.state is CallState.IDLE
    calls.stop()  # nothing running: nothing to do
    assert calls.state is CallState.IDLE

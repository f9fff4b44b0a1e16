"""Engine events to the GUI thread, and the background threads that produce them.

The engine calls its listeners on its own threads. `EventBridge.post` is the only thing
such a listener does: it emits ONE Qt signal, queued to the GUI thread, carrying the
event object as it is. Everything slow (loading the model, opening devices, running a
call, listing devices) runs in `Background`: a worker QObject moved to a QThread, like
Buzz's transcriber. Nothing here ever waits on a thread from the GUI thread; callers
react to `finished` instead.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, QThread, Qt, QTimer, Signal, Slot

from callcoach.engine.events import Level
from callcoach.errors import CallCoachError, one_line

if TYPE_CHECKING:
    from callcoach.audio.devices import CapturePlan

log = logging.getLogger(__name__)

_running: set[Background] = set()  # started and not yet finished (keeps them alive)


def running_threads() -> list[str]:
    """Names of background threads still running (tests fail when any is left over)."""
    return [b.name for b in _running]


def finish_threads() -> None:
    """At a window's exit: run the event loop until no background thread is left. Each ends
    within its own timeout (a team store read, an "I'm coming"); none is torn down running."""
    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: running_threads() or loop.quit())
    poll.start(50)
    if running_threads():
        loop.exec()
    poll.stop()


def describe_error(exc: BaseException) -> str:
    """One line for the agent: our own errors as they are, anything else summarised."""
    if isinstance(exc, CallCoachError):
        return str(exc)
    return f"unexpected error ({type(exc).__name__}: {one_line(exc)}); the details are in the log"


class EventBridge(QObject):
    """Hands events from any thread to the GUI thread, in order, through one signal."""

    event = Signal(object)

    def post(self, event: object) -> None:  # called on engine threads: emit and return
        self.event.emit(event)

    def connect_to(self, slot: Callable[[object], None]) -> None:
        # Queued even when emitted on the GUI thread (feedback): no re-entrant updates.
        self.event.connect(slot, Qt.ConnectionType.QueuedConnection)


class _Worker(QObject):
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], Any]):
        super().__init__()
        self._fn = fn

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # shown to the agent as one line, logged in full
            if isinstance(exc, CallCoachError):
                log.warning("background task failed: %s", exc)
            else:
                log.exception("background task failed")
            self.failed.emit(describe_error(exc))
        else:
            self.done.emit(result)
        finally:
            QThread.currentThread().quit()


class Background(QObject):
    """Runs `fn()` once on its own QThread.

    Signals arrive on the GUI thread: `done(result)` or `failed(message)`, then
    `finished` once the thread has really ended.
    """

    done = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, fn: Callable[[], Any], name: str):
        super().__init__()
        self.name = name
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._worker = _Worker(fn)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.done.connect(self.done)
        self._worker.failed.connect(self.failed)
        self._thread.finished.connect(self._on_finished)

    def start(self) -> None:
        _running.add(self)
        self._thread.start()

    def is_running(self) -> bool:
        return self in _running

    @Slot()
    def _on_finished(self) -> None:
        self._worker.deleteLater()
        _running.discard(self)
        self.finished.emit()


class _SourceTask(QObject):
    """Work around an audio source on a background thread; `stop()` may come at any time,
    even before the source exists, and returns at once."""

    failed = Signal(str)

    def __init__(self, name: str):
        super().__init__()
        self.bridge = EventBridge()
        self._lock = threading.Lock()
        self._source = None
        self._stopping = False
        self._task = Background(self._run, name)
        self._task.failed.connect(self.failed)

    def start(self) -> None:
        self._task.start()

    def is_running(self) -> bool:
        return self._task.is_running()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            source = self._source
        if source is not None:
            source.stop()  # quick: ends capture, keeps what is queued

    def _adopt(self, source):
        """Make `source` the one stop() ends (at once, if stop() already came)."""
        with self._lock:
            self._source = source
            if self._stopping:
                source.stop()
        return source


class CallRunner(_SourceTask):
    """One call on a background thread: `pipeline.load()`, open the source, `pipeline.run()`.

    `stop()` asks the source to stop (it still delivers the audio it has queued) and
    returns at once; `finished(summary or None)` follows when the call has ended.
    """

    finished = Signal(object)

    def __init__(self, pipeline, make_source: Callable[[], Any], name: str = "callcoach-call"):
        super().__init__(name)
        self.pipeline = pipeline
        pipeline.subscribe(self.bridge.post)
        self._make_source = make_source
        self._summary = None
        self._task.done.connect(self._on_done)
        self._task.finished.connect(lambda: self.finished.emit(self._summary))

    def _run(self):
        self.pipeline.load()
        warm_up_coach()
        # Stopped while loading? Then the run below ends at once.
        return self.pipeline.run(self._adopt(self._make_source()))

    @Slot(object)
    def _on_done(self, summary) -> None:
        self._summary = summary


def warm_up_coach() -> None:
    """Load the sentiment lexicon now, not in the middle of the first utterance."""
    from callcoach.coach.sentiment import score

    score("hello", "customer")


class LevelProbe(_SourceTask):
    """Levels of a capture plan's two devices outside a call (the idle meters, the settings
    dialog's test), through the same sound system as a call.

    Posts through its bridge what it opened (a `sound.Picked`), then `Level` events, ten a
    second per role, like the engine.
    """

    finished = Signal()

    def __init__(self, plan: CapturePlan, name: str = "callcoach-level-probe"):
        super().__init__(name)
        self._plan = plan
        self._task.finished.connect(self.finished)

    def _run(self) -> None:
        from callcoach.audio.block import SAMPLE_RATE
        from callcoach.gui.sound import open_plan

        source, picked = open_plan(self._plan)
        self._adopt(source)
        self.bridge.post(picked)
        every = SAMPLE_RATE // 10
        roles = ("agent", "customer")
        pending: dict[str, list[np.ndarray]] = {role: [] for role in roles}
        count = dict.fromkeys(roles, 0)
        position = dict.fromkeys(roles, 0)
        for block in source.blocks():
            pending[block.role].append(block.samples)
            count[block.role] += len(block.samples)
            if count[block.role] >= every:
                samples = np.concatenate(pending[block.role])
                rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
                position[block.role] += len(samples)
                self.bridge.post(Level(block.role, position[block.role] / SAMPLE_RATE,
                                       20 * np.log10(max(rms, 1e-6))))
                pending[block.role], count[block.role] = [], 0

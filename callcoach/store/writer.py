"""StoreWriter: journals a call into the store while it happens, on its own thread."""

from __future__ import annotations

import dataclasses
import os
import queue
import sqlite3
import threading
import time

from callcoach.coach.events import CallSummary, CoachState, Feedback, Prompt, PromptCleared
from callcoach.engine.events import CallEnded
from callcoach.errors import CallCoachError, one_line
from callcoach.store.agent_pace import AgentHistory
from callcoach.store.common import HEARTBEAT_S, finite, utc_iso
from callcoach.store.database import SessionStore
from callcoach.store.events import STORED_KINDS
from callcoach.store.redaction import EventRedactor, load_redactor


_CLOSE = object()
_TAKEN = frozenset(STORED_KINDS) | {CoachState}  # the gauges: for the live figures only, not stored
_MAX_WAITING_ROWS = 50_000  # while the store cannot be written: bounded memory


class StoreWriter:
    """Pipeline listener that journals a call into the store as it happens.

    `writer = StoreWriter(store, meta={...}); pipeline.subscribe(writer)` — or
    `StoreWriter.attach(pipeline, store)`. Calling the listener only enqueues (it runs on
    the engine's threads); a background thread redacts and writes, committing at least
    every `flush_s` seconds. At the end of the call (CallEnded, then the coach's
    CallSummary) the session is finished with its redacted summary. `close()` flushes
    what is queued and stops the thread; a call closed before it ended is 'incomplete'.

    `redact` is the effective setting: pass `settings.get("redact")` (a machine policy
    that locks it on wins there). Write failures never reach the engine: they are kept in
    `errors` (one line each) and passed to `on_error`. `on_finished` hears when the session
    is finished on disk (and so in the outbox): the team store uploader wakes then.
    """

    def __init__(self, store: SessionStore | str | os.PathLike, *, meta: dict | None = None,
                 redact: bool = True, flush_s: float = 0.5, on_error=None, on_finished=None):
        self._own_store = not isinstance(store, SessionStore)
        self.store = store if isinstance(store, SessionStore) else SessionStore(store)
        if redact:
            load_redactor()  # fail now, on the caller's thread, rather than store raw words later
        self.redactor = EventRedactor(redact)
        self.flush_s = flush_s
        self.on_error = on_error
        self.on_finished = on_finished  # called on the writer thread once the session is finished on disk
        self.errors: list[str] = []
        self.dropped = 0
        meta = dict(meta or {})
        from callcoach.session import SessionRecorder

        self.recorder = SessionRecorder(meta.get("source"))  # sees only redacted events
        meta.setdefault("id", self.recorder.id)
        meta.setdefault("started_at", self.recorder.started_at)
        meta["redacted"] = bool(redact)  # only redacted sessions ever leave the PC
        try:
            self.id = self.store.begin(meta)
        except CallCoachError:
            if self._own_store:
                self.store.close()
            raise
        self.recorder.id, self.recorder.started_at = self.id, utc_iso(meta["started_at"])
        self.finished = threading.Event()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._rows: list[tuple] = []  # redacted, not yet committed
        self._ended = False
        self._finish = False
        self._closed = False
        self._figures = {"duration_s": 0.0, "worst_mood": None, "escalated": False,
                         "prompts_shown": 0, "prompts_acted": 0}
        self._thread = threading.Thread(target=self._run, name="callcoach-store", daemon=True)
        self._thread.start()

    @classmethod
    def attach(cls, pipeline, store: SessionStore | str | os.PathLike, *, agent: str | None = None,
               redact: bool = True, **kwargs) -> StoreWriter:
        """A writer for this pipeline's call (same id and start time as its recorder), subscribed.
        A call stored under an agent's name starts from their usual pace over the calls of
        theirs in the same store (the widget, `listen` and `analyze --agent-name` alike)."""
        rec = pipeline.recorder
        writer = cls(store, meta={"id": rec.id, "started_at": rec.started_at, "source": rec.source, "agent": agent},
                     redact=redact, **kwargs)
        pipeline.subscribe(writer)
        if agent:
            pipeline.history = AgentHistory(agent, writer.store)
        return writer

    # -- listener (engine threads) ---------------------------------------------------------

    def __call__(self, event: object) -> None:
        if type(event) in _TAKEN:
            self._queue.put(event)

    # -- writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        deadline = None  # when what is waiting must be committed
        last_write = time.monotonic()
        stop = False
        while not stop:
            timeout = HEARTBEAT_S if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            flushes = []
            while item is not None:  # take everything already queued
                if item is _CLOSE:
                    stop = True
                elif isinstance(item, _Flush):
                    flushes.append(item.done)
                else:
                    self._take(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            now = time.monotonic()
            if (self._rows or self._finish) and deadline is None:
                deadline = now + self.flush_s
            if deadline is not None and (now >= deadline or stop or flushes or self._finish):
                if self._commit():
                    deadline = None
                else:  # the store is busy or failing: try again a little later
                    deadline = time.monotonic() + max(self.flush_s, 1.0)
                last_write = time.monotonic()
            elif not self.finished.is_set() and now - last_write >= HEARTBEAT_S:
                self._guard(lambda: self.store.touch(self.id, **self._figures))
                last_write = now
            for done in flushes:
                done.set()
        if self._rows:
            self.dropped += len(self._rows)
            self._error(f"{len(self._rows)} events of the call could not be saved")
        if not self.finished.is_set():
            self._guard(lambda: self.store.abandon(self.id))

    def _take(self, event) -> None:
        """Redact one event and turn it into a journal row (writer thread)."""
        if type(event) is CoachState:
            self._track_state(event)
            return
        kind = STORED_KINDS[type(event)]
        try:
            clean = self.redactor.event(event)
        except Exception as exc:  # a redactor bug must never let raw words through
            self._error(f"redaction failed, {kind} not stored: {one_line(exc)}")
            return
        self.recorder(clean)
        self._track(clean)
        if len(self._rows) >= _MAX_WAITING_ROWS:
            self._rows.pop(0)
            self.dropped += 1
        self._rows.append((kind, _event_time(clean), dataclasses.asdict(clean)))
        if type(clean) is CallEnded:
            self._ended = True
        elif type(clean) is CallSummary and self._ended:
            self._finish = True

    def _commit(self) -> bool:
        """Everything waiting in one transaction; with the summary once the call has ended."""
        try:
            with self.store.batch():
                for kind, t, payload in self._rows:
                    self.store.append(self.id, kind, t, payload)
                if self._finish:  # again after late events (feedback on the follow-up card)
                    self.store.finish(self.id, self.recorder.summary())
                else:
                    self.store.touch(self.id, **self._figures)
        except (CallCoachError, sqlite3.Error) as exc:
            self.store.forget_seq(self.id)  # the rolled-back rows took no seq
            self._error(f"could not save the call: {one_line(exc)}")
            return False
        self._rows = []
        if self._finish:
            self.finished.set()
            if self.on_finished:
                self.on_finished()
        return True

    def _track(self, event) -> None:
        """The figures the session list shows while the call is still going."""
        t = _event_time(event)
        if t is not None:
            self._figures["duration_s"] = max(self._figures["duration_s"], round(t, 2))
        count = _COUNTED.get(type(event))
        if count:
            count(self._figures, event)

    def _track_state(self, state) -> None:
        f = self._figures
        if finite(state.mood):
            f["worst_mood"] = state.mood if f["worst_mood"] is None else min(f["worst_mood"], state.mood)
        f["escalated"] = f["escalated"] or bool(state.escalated)
        if finite(state.t):
            f["duration_s"] = max(f["duration_s"], round(state.t, 2))

    def _guard(self, action) -> None:
        try:
            action()
        except CallCoachError as exc:
            self._error(one_line(exc))

    def _error(self, message: str) -> None:
        if len(self.errors) < 100:
            self.errors.append(message)
        if self.on_error:
            try:
                self.on_error(message)
            except Exception:
                pass

    # -- closing ---------------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> None:
        """Block until everything queued so far is written (tests, the end of a call)."""
        done = threading.Event()
        self._queue.put(_Flush(done))
        done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, stop the thread; the session ends complete or incomplete."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_CLOSE)
        self._thread.join(timeout)
        if self._own_store:
            self.store.close()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _count_prompt(figures: dict, prompt: Prompt) -> None:
    figures["prompts_shown"] += 1
    if prompt.kind == "escalate":
        figures["escalated"] = True


def _count_feedback(figures: dict, feedback: Feedback) -> None:
    if feedback.action == "done":
        figures["prompts_acted"] += 1


def _count_cleared(figures: dict, cleared: PromptCleared) -> None:
    if cleared.reason == "acted_on":
        figures["prompts_acted"] += 1


_COUNTED = {Prompt: _count_prompt, Feedback: _count_feedback, PromptCleared: _count_cleared}


class _Flush:
    def __init__(self, done: threading.Event):
        self.done = done


def _event_time(event) -> float | None:
    for attr in ("end", "t", "duration"):
        value = getattr(event, attr, None)
        if finite(value):
            return float(value)
    return None

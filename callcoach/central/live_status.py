"""A desktop's live status for the supervisor's board (issue 15): a few numbers about the
call now, sent through callcoach.live_v1.

Policy:
* Only when the machine policy sets `central_store` and `live_board = true`.
* At most every 2 s, and at once when a critical prompt shows or the call ends. The status is
  sent every 2 s even when nothing changed: it is the heartbeat a board marks "lost" by.
* What is sent: agent, call time, mood (value, state, trend), pace state, talk share, dead
  air, the prompt on screen (kind, severity, title), whether an escalation waits. No audio,
  no words, but the escalation's handoff note when the policy also sets
  `live_board_notes = true`.
* Never queued: a status that cannot be sent now is worthless later, so it is dropped and
  the next one tries again (reconnecting with backoff).
* The server's answer carries the supervisor's "I'm coming" for this call: `on_ack(name)`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass, replace

from callcoach.central.connect import connect
from callcoach.central.schema import LIVE_FUNCTION
from callcoach.coach.events import CoachState, Prompt, PromptCleared
from callcoach.engine.events import CallEnded
from callcoach.errors import CallCoachError

log = logging.getLogger("callcoach.events")

INTERVAL_S = 2.0
RETRY_MAX_S = 30.0


@dataclass(frozen=True)
class LiveStatus:
    call_id: str
    agent: str | None
    started_at: str | None
    call_s: float = 0.0
    mood: float | None = None
    mood_state: str | None = None
    mood_trend: str | None = None
    pace_state: str | None = None  # slow | ok | fast, against the call's pace band
    talk_share: float | None = None
    dead_air_s: float = 0.0
    prompt_kind: str | None = None
    prompt_severity: str | None = None
    prompt_title: str | None = None
    escalation: bool = False
    handoff_note: str | None = None
    ended: bool = False


def pace_state(state: CoachState) -> str | None:
    if state.agent_wpm is None:
        return None
    low, high = state.pace_band
    return "slow" if state.agent_wpm < low else "fast" if state.agent_wpm > high else "ok"


class LiveStatusPublisher:
    """Pipeline listener (engine threads only record; its own thread sends)."""

    def __init__(self, dsn: str, status: LiveStatus, *, send_notes: bool, on_ack=None, on_problem=None):
        self._dsn = dsn
        self._send_notes = send_notes
        self._on_ack = on_ack
        self._on_problem = on_problem
        self._lock = threading.Lock()
        self._status = status
        self._prompt_id: int | None = None
        self._ack: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="callcoach-live-status", daemon=True)
        self._thread.start()

    # -- listener ----------------------------------------------------------------------------

    def __call__(self, event: object) -> None:
        update = _UPDATES.get(type(event))
        if update is None:
            return
        with self._lock:
            self._status, urgent = update(self, event)
        if urgent:
            self._wake.set()

    def _state(self, s: CoachState) -> tuple[LiveStatus, bool]:
        return replace(self._status, call_s=round(s.t, 1), mood=round(s.mood, 3), mood_state=s.mood_state,
                       mood_trend=s.mood_trend, pace_state=pace_state(s), talk_share=s.agent_talk_share,
                       dead_air_s=round(s.dead_air_s, 1)), False

    def _prompt(self, p: Prompt) -> tuple[LiveStatus, bool]:
        self._prompt_id = p.id
        escalation = self._status.escalation or p.kind == "escalate"
        note = p.handoff if (p.kind == "escalate" and self._send_notes) else self._status.handoff_note
        return replace(self._status, prompt_kind=p.kind, prompt_severity=p.severity, prompt_title=p.title,
                       escalation=escalation, handoff_note=note), p.severity == "critical"

    def _cleared(self, c: PromptCleared) -> tuple[LiveStatus, bool]:
        if c.id != self._prompt_id:
            return self._status, False
        acted = c.reason in ("acted_on", "done")
        return replace(self._status, prompt_kind=None, prompt_severity=None, prompt_title=None,
                       escalation=self._status.escalation and not acted), False

    def _ended(self, e: CallEnded) -> tuple[LiveStatus, bool]:
        return replace(self._status, call_s=round(e.duration, 1), ended=True), True

    # -- sending -----------------------------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Send the last status (the call ended) and stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        retry_s = 1.0
        while True:
            try:
                with connect(self._dsn, purpose="share live status") as db:
                    retry_s = 1.0
                    self._problem(None)
                    self._send_while_connected(db)
                    return
            except CallCoachError as exc:
                self._problem(str(exc))
            if self._stop.is_set():
                return  # the last status is dropped, never queued
            self._wake.wait(retry_s)
            self._wake.clear()
            retry_s = min(RETRY_MAX_S, retry_s * 2)

    def _send_while_connected(self, db) -> None:
        from psycopg.types.json import Jsonb

        while True:
            stopping = self._stop.is_set()
            with self._lock:
                status = self._status if not stopping else replace(self._status, ended=True)
            answer = db.execute(f"SELECT {LIVE_FUNCTION}(%s)", (Jsonb(asdict(status)),)).fetchone()[0]
            self.sent += 1
            self._heard(answer.get("ack_by"))
            if stopping:
                return
            self._wake.wait(INTERVAL_S)
            self._wake.clear()

    def _heard(self, ack_by: str | None) -> None:
        if ack_by and ack_by != self._ack:
            self._ack = ack_by
            if self._on_ack:
                self._on_ack(ack_by)

    def _problem(self, message: str | None) -> None:
        if message:
            log.warning("live status not shared: %s", message)
        if self._on_problem:
            self._on_problem(message)


_UPDATES = {CoachState: LiveStatusPublisher._state, Prompt: LiveStatusPublisher._prompt,
            PromptCleared: LiveStatusPublisher._cleared, CallEnded: LiveStatusPublisher._ended}


def share_live_status(pipeline, settings, agent: str | None, *, on_ack=None,
                      on_problem=None) -> LiveStatusPublisher | None:
    """A publisher subscribed to this call's pipeline, or None when the policy does not share
    live status (no team store, or `live_board` off): then nothing is sent at all."""
    from callcoach.settings import Key

    dsn = settings.get(Key.CENTRAL_STORE)
    if not (dsn and settings.get(Key.LIVE_BOARD)):
        return None
    rec = pipeline.recorder
    publisher = LiveStatusPublisher(dsn, LiveStatus(call_id=rec.id, agent=agent, started_at=rec.started_at),
                                    send_notes=settings.get(Key.LIVE_BOARD_NOTES), on_ack=on_ack,
                                    on_problem=on_problem)
    pipeline.subscribe(publisher)
    return publisher

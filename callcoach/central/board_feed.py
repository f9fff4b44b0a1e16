"""The supervisor's live board, without Qt: the team's live calls as typed values, how much
each needs the supervisor, and the feed that keeps them current.

The feed logs in as the supervisor (row-level security shows them their teams' calls
only), LISTENs on their teams' channels (callcoach.my_channels()), and on notifications
reads the rows of the desktops named in them, several at once: nothing polls the table.
Whether a desktop is lost is read from the server's clock (now() - updated_at at fetch),
so the PCs' clocks do not matter; between fetches the board adds the time it has waited.

The server notifies a board only of statuses that change a tile, and of each desktop at
least every 5 s (live_v1), so a desktop may have sent statuses the board has not read. A
row about to turn lost by the board's clock is therefore read once more first: the tile
turns lost 10 s after the desktop's last status, not after its last notification.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from callcoach.central.connect import CONNECT_TIMEOUT_S, STATEMENT_TIMEOUT_MS, server_name
from callcoach.errors import one_line

LOST_AFTER_S = 10.0  # no status for this long and not ended: the desktop is gone (crashed, off the network)
DEAD_AIR_S = 10.0  # this much silence on a call is worth a supervisor's look
COALESCE_S = 0.2  # notifications are gathered this long, then their rows read in one query
RECHECK_S = 1.0  # a row is read again this long before it would turn lost
RETRY_S = (1.0, 2.0, 4.0, 8.0, 15.0)  # waits between reconnections, the last repeated


class Need(IntEnum):
    """How much a call needs the supervisor; the board sorts by it, lowest first.

    A lost desktop comes after the calls known to need help (nothing says its customer is
    upset) but before the calm ones: its PC may have crashed in the middle of a call, which
    is worth a walk over, and it must not sink out of sight among the calls that are fine.
    """

    ESCALATION = 0  # an escalation nobody has answered yet
    ANGRY_WORSENING = 1
    DEAD_AIR = 2
    LOST = 3
    REST = 4
    ENDED = 5


_COLUMNS = ("desktop", "call_id", "agent", "started_at", "call_s", "mood", "mood_state", "mood_trend",
            "pace_state", "talk_share", "dead_air_s", "prompt_kind", "prompt_severity", "prompt_title",
            "escalation", "handoff_note", "ended", "ack_by", "ack_at")
_SELECT = (f"SELECT {', '.join(_COLUMNS)}, extract(epoch FROM now() - updated_at)::float8"
           " FROM callcoach.live_calls")


@dataclass(frozen=True)
class LiveCall:
    """One desktop's row in callcoach.live_calls, as the supervisor may read it."""

    desktop: str
    call_id: str
    agent: str | None
    started_at: datetime | None
    call_s: float | None
    mood: float | None
    mood_state: str | None  # calm | frustrated | angry
    mood_trend: str | None  # worsening | steady | improving
    pace_state: str | None  # slow | ok | fast
    talk_share: float | None  # the agent's share of the talking, 0..1
    dead_air_s: float | None
    prompt_kind: str | None
    prompt_severity: str | None  # info | warning | critical
    prompt_title: str | None
    escalation: bool
    handoff_note: str | None
    ended: bool
    ack_by: str | None  # the supervisor on the way
    ack_at: datetime | None
    age_s: float  # the server's now() - updated_at when it was read
    read_at: float  # time.monotonic() when it was read

    @classmethod
    def from_row(cls, row: tuple, read_at: float) -> LiveCall:
        return cls(*row[:len(_COLUMNS)], age_s=max(0.0, float(row[len(_COLUMNS)])), read_at=read_at)

    def age(self, now: float) -> float:
        """Seconds since the desktop's last status, at monotonic time `now`."""
        return self.age_s + max(0.0, now - self.read_at)

    def lost(self, now: float) -> bool:
        return not self.ended and self.age(now) > LOST_AFTER_S

    def due_for_recheck(self, now: float) -> bool:
        """About to turn lost, and this row was not itself read that close to it: the
        desktop may have sent statuses since that changed nothing the board shows."""
        recheck_at = LOST_AFTER_S - RECHECK_S
        return not self.ended and self.age_s < recheck_at <= self.age(now)

    def escalation_waiting(self) -> bool:
        return self.escalation and not self.ack_by and not self.ended

    def call_time(self, now: float) -> float:
        """The call's length now: it goes on between statuses while the desktop is heard from."""
        base = self.call_s or 0.0
        return base if self.ended or self.lost(now) else base + max(0.0, now - self.read_at)

    def need(self, now: float) -> Need:
        # Lost before the rest: whatever else the row says is no longer current.
        if self.ended:
            return Need.ENDED
        if self.lost(now):
            return Need.LOST
        if self.escalation_waiting():
            return Need.ESCALATION
        if self.mood_state == "angry" and self.mood_trend == "worsening":
            return Need.ANGRY_WORSENING
        if (self.dead_air_s or 0.0) >= DEAD_AIR_S:
            return Need.DEAD_AIR
        return Need.REST


def sort_key(call: LiveCall, now: float) -> tuple:
    """Most need first; within a need the longest call first (waiting longest), then by desktop."""
    return call.need(now), -call.call_time(now), call.desktop


@dataclass(frozen=True)
class BoardUpdate:
    calls: tuple[LiveCall, ...]
    gone: frozenset[str]  # desktops named in notifications whose rows this supervisor no longer sees
    full: bool  # every call the supervisor may see: the board drops any other


@dataclass(frozen=True)
class FeedStatus:
    connected: bool
    message: str  # one line, for the window


class BoardFeed:
    """`run()` (on a thread of the caller's) until `stop()`: one full read, then the rows
    named by notifications; after a lost connection it reconnects with backoff and reads
    everything again (notifications sent meanwhile are gone)."""

    def __init__(self, dsn: str, on_update: Callable[[BoardUpdate], None],
                 on_status: Callable[[FeedStatus], None]):
        self.dsn = dsn
        self._on_update = on_update
        self._on_status = on_status
        self._stop = threading.Event()
        self._calls: dict[str, LiveCall] = {}  # what the board was last sent, for the recheck before lost

    def stop(self) -> None:
        """Returns at once; run() ends within COALESCE_S (or a connection attempt's timeout)."""
        self._stop.set()

    def run(self) -> None:
        import psycopg

        failures = 0
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    failures = 0
                    self._watch(conn)
            except psycopg.Error as exc:
                wait = RETRY_S[min(failures, len(RETRY_S) - 1)]
                failures += 1
                self._on_status(FeedStatus(False, f"cannot reach the team store at {server_name(self.dsn)} "
                                                  f"({one_line(exc)}); trying again in {wait:.0f} s"))
                self._stop.wait(wait)

    def _connect(self):
        import psycopg

        # Keepalives: a server that vanishes without closing the connection is noticed too.
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                               application_name="callcoach board", keepalives=1, keepalives_idle=5,
                               keepalives_interval=2, keepalives_count=2,
                               options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")

    def _watch(self, conn) -> None:
        from psycopg import sql

        channels = [row[0] for row in conn.execute("SELECT callcoach.my_channels()")]
        for channel in channels:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        # Listening before the full read: a change made in between is read again, never missed.
        self._on_update(BoardUpdate(self._read(conn, None), frozenset(), full=True))
        self._on_status(FeedStatus(True, f"live: {len(channels)} team{'s' if len(channels) != 1 else ''}"
                                         f" on {server_name(self.dsn)}" if channels
                                   else "you lead no team on the team store: no calls to show"))
        while not self._stop.is_set():
            named = {note.payload for note in conn.notifies(timeout=COALESCE_S)}
            now = time.monotonic()
            named |= {desktop for desktop, call in self._calls.items() if call.due_for_recheck(now)}
            if named:
                calls = self._read(conn, named)
                self._on_update(BoardUpdate(calls, frozenset(named - {c.desktop for c in calls}), full=False))

    def _read(self, conn, desktops: set[str] | None) -> tuple[LiveCall, ...]:
        if desktops is None:
            rows = conn.execute(_SELECT).fetchall()
            self._calls.clear()
        else:
            rows = conn.execute(_SELECT + " WHERE desktop = ANY(%s)", (sorted(desktops),)).fetchall()
            for desktop in desktops:
                self._calls.pop(desktop, None)
        now = time.monotonic()
        calls = tuple(LiveCall.from_row(row, now) for row in rows)
        self._calls.update((call.desktop, call) for call in calls)
        return calls


def acknowledge(dsn: str, desktop: str, call_id: str) -> bool:
    """The supervisor's "I'm coming" for that call; False if it is not (or no longer) theirs
    to answer. CallCoachError (one line) when the server cannot be reached."""
    from callcoach.central.connect import connect

    with connect(dsn, purpose="tell the agent you are coming") as db:
        return bool(db.execute("SELECT callcoach.acknowledge_v1(%s, %s)", (desktop, call_id)).fetchone()[0])

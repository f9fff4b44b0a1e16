"""The supervisor's live board at floor scale: 1,000 desktops sharing their calls' status with
one PostgreSQL, and the board of one team of 50 watching.

Every desktop is what a real one runs: its own client certificate (its identity on the
server) and the product's `LiveStatusPublisher` on one persistent connection, a status every
2 s and at once on a critical prompt, fed synthetic coach events (CoachState about once a
second; now and then a Prompt, cleared a few seconds later). The desktops live in
`--workers` processes (a thousand Python processes would not fit in this machine's memory).
The people are those of a floor: 20 teams of 50 agents, each with a lead; the first team's
board (the product's `BoardWindow`, offscreen Qt) runs in a process of its own as its lead.
The other teams' boards are not running, but their desktops notify their own channels.

Change to repaint: `--probes` desktops of the watched team change their talk share right
after each status has gone, so the next status (their heartbeat, 2 s later) carries a value
their tile has not shown. The time is taken from the moment that status leaves the desktop
(its live_v1 call starts) to the first paint of the tile's label showing it, in the board's
process (time.monotonic() is CLOCK_MONOTONIC: one clock for every process). Not from the
call's return: on a busy floor the desktop's thread may run again only after the board
has painted.
Meanwhile a 10 ms timer on the board's GUI thread measures its longest stall.

CPU over the measurement window, as % of one core: the PostgreSQL cluster (the postmaster,
its children, and what its reaped children used), the desktops' worker processes, the
board's process; and the whole machine's, since others may share it.

    .venv/bin/python -m benchmarks.live_board_scale [--desktops 1000] [--workers 20] [--probes 10]
        [--measure 120] [--board-apart] [--damon-off] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import logging
import multiprocessing as mp
import os
import platform
import random
import re
import resource
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks.live_latency import percentile
from callcoach.central.live_status import LiveStatus, LiveStatusPublisher
from callcoach.coach.events import CoachState, Prompt, PromptCleared
from tests.postgres import server_folder, start_server

DESKTOP_ROLE = "callcoach_desktop"
TEAM_SIZE = 50  # the board's tiles
WATCHED = "floor"
MAX_CONNECTIONS = 1200  # a persistent connection per desktop, and room for the board and the admin
FEED_EVERY_S = 1.0  # the coach's CoachState comes about once a second of call audio
START_SPACING_S = 0.5  # a worker's desktops connect one after another: 40 TLS handshakes a second in all (200 overran 2 cores: clients timed out, retried, and their half-made backends filled max_connections)
PROMPT_CHANCE = 1 / 60  # per desktop and second: a prompt about once a minute
CRITICAL_SHARE = 0.05  # of those, critical ones (an escalation): sent at once
DEAD_AIR_ODDS = (0.02, 0.85)  # per second: silence starts; it goes on (a few seconds, now and then over 10)
PROMPT_HELD_S = 8.0
SETTLE_S = 10.0
READY_TIMEOUT_S = 90.0  # then measure with the desktops on the server by then (and say how many), if the board is up
PAINT_GRACE_S = 5.0  # probe changes this close to the window's end are not counted: their paint may be after it
BOARD_COLUMNS, BOARD_ROWS = 10, 5  # a wall display: every tile on screen (a tile out of view is not painted)
NONE_REFS_LENT = 1 << 40  # see _board
SHARE = re.compile(r"agent talks (\d+)%")


def _desktop(i: int) -> str:
    return f"desktop-PC{i:05d}"


def _agent(i: int) -> str:
    return f"Agent {i:04d}"


def _team(i: int) -> str:
    return WATCHED if i < TEAM_SIZE else f"team{i // TEAM_SIZE:02d}"


def _lead(team: str) -> str:
    return f"lead.{team}"


# --------------------------------------------------------------------------- desktops

@dataclass
class SyntheticCall:
    """What the coach says about one call, drifting: mood wanders (and its state and trend
    follow), pace moves, someone talks each second (the agent's share of the talking is
    over the whole call, as the coach's is), dead air comes and goes, now and then a prompt
    shows and is cleared."""

    rng: random.Random
    began: float  # time.monotonic() when the call began: its call time keeps pace with the clock, as audio does
    t: float = 0.0
    mood: float = 0.2
    drift: float = 0.0  # per second: a customer calms down or gets worse for a while
    wpm: float = 150.0
    agent_odds: float = 0.45  # of the agent being the one talking, this second
    talk_s: list[float] = field(default_factory=lambda: [0.0, 0.0])  # agent, customer
    dead_air_s: float = 0.0
    prompt_id: int = 0
    prompt_until: float | None = None

    def __post_init__(self) -> None:
        so_far = max(0.0, time.monotonic() - self.began) * 0.85  # the call so far, some of it silence
        self.talk_s = [so_far * self.agent_odds, so_far * (1 - self.agent_odds)]

    def step(self, dt: float) -> list[object]:
        self.t = time.monotonic() - self.began
        if self.rng.random() < 0.1 * dt:
            self.drift = self.rng.gauss(0.0, 0.05)
        self.mood = min(1.0, max(-1.0, self.mood + self.drift * dt + self.rng.gauss(0.0, 0.02)))
        self.wpm = min(220.0, max(90.0, self.wpm + self.rng.gauss(0.0, 6.0)))
        self.dead_air_s = self.dead_air_s + dt if self.rng.random() < DEAD_AIR_ODDS[self.dead_air_s > 0] else 0.0
        if not self.dead_air_s:
            self.agent_odds = min(0.9, max(0.1, self.agent_odds + self.rng.gauss(0.0, 0.02)))
            self.talk_s[self.rng.random() >= self.agent_odds] += dt
        share = self.talk_s[0] / sum(self.talk_s) if sum(self.talk_s) > 1.0 else None
        trend = "worsening" if self.drift < -0.015 else "improving" if self.drift > 0.015 else "steady"
        state = "angry" if self.mood < -0.5 else "frustrated" if self.mood < -0.1 else "calm"
        events: list[object] = [CoachState(t=self.t, mood=self.mood, mood_state=state, mood_trend=trend,
                                           agent_wpm=self.wpm, agent_baseline=150.0, pace_band=(120.0, 175.0),
                                           agent_talk_share=share, dead_air_s=self.dead_air_s,
                                           talkovers=0, escalated=False)]
        if self.prompt_until is not None and self.t >= self.prompt_until:
            events.append(PromptCleared(id=self.prompt_id, t=self.t, reason="acted_on"))
            self.prompt_until = None
        elif self.prompt_until is None and self.rng.random() < PROMPT_CHANCE * dt:
            self.prompt_id += 1
            self.prompt_until = self.t + PROMPT_HELD_S
            events.append(_prompt(self.prompt_id, self.t, critical=self.rng.random() < CRITICAL_SHARE))
        return events


def _prompt(prompt_id: int, t: float, *, critical: bool) -> Prompt:
    kind, title = ("escalate", "Offer a supervisor") if critical else ("empathy", "Acknowledge the frustration")
    return Prompt(id=prompt_id, t=t, kind=kind, severity="critical" if critical else "warning", title=title,
                  message="", phrase="", tactic="", because="benchmark", rule="benchmark", priority=1, sticky=False)


class ProbePublisher(LiveStatusPublisher):
    """A watched desktop the board is timed on. `_heard` runs on the publisher's thread right
    after each live_v1 call returned (committed, and notified since the tile's value changed):
    the status it carried is noted with the moment the call started, and the next talk share
    is fed, so the following status (2 s later) carries a value the tile has not shown yet.
    The tile shows it in steps of 5 %: steps of 35 % over 17 values, none comes back for 34 s."""

    def __init__(self, dsn: str, status: LiveStatus, on_problem):
        self.committed: list[tuple[int, float]] = []  # (talk share %, monotonic time its status left)
        self._step = 0
        self._began = time.monotonic()
        self._pending: int | None = None
        self.sent_at = 0.0  # when its latest live_v1 call started (see _TimedConnection)
        super().__init__(dsn, status, send_notes=False, on_problem=on_problem)

    def _send_while_connected(self, db) -> None:
        super()._send_while_connected(_TimedConnection(db, self))

    def _heard(self, ack_by: str | None) -> None:
        if self._pending is not None:
            self.committed.append((self._pending, self.sent_at))
        self._step += 1
        self._pending = 10 + (self._step * 35) % 85
        self(CoachState(t=time.monotonic() - self._began, mood=0.2, mood_state="calm", mood_trend="steady", agent_wpm=None,
                        agent_baseline=None, pace_band=(120.0, 175.0), agent_talk_share=self._pending / 100,
                        dead_air_s=0.0, talkovers=0, escalated=False))
        super()._heard(ack_by)


class _TimedConnection:
    """The publisher's connection, noting on the probe when each statement starts."""

    def __init__(self, db, probe: ProbePublisher):
        self._db, self._probe = db, probe

    def execute(self, *args, **kwargs):
        self._probe.sent_at = time.monotonic()
        return self._db.execute(*args, **kwargs)


@dataclass
class WorkerReport:
    desktops: int = 0
    sent: int = 0
    problems: int = 0  # connection or send failures (the publisher drops the status and reconnects)
    problem_at: list[float] = field(default_factory=list)  # time.monotonic() of each: in the window or the ramp
    problem_examples: list[str] = field(default_factory=list)  # the first few distinct messages
    probes: list[tuple[str, int, float]] = field(default_factory=list)  # (desktop, share %, its status sent at)


def _worker(desktops: list[tuple[int, str]], probes: set[int], start_at: float, stop, reports) -> None:
    """Desktops [(number, dsn)] connect START_SPACING_S apart from `start_at` (time.time()),
    then the coach's events are fed every FEED_EVERY_S until `stop` is set."""
    logging.disable(logging.WARNING)  # a refused connection is counted, not printed a thousand times
    report = WorkerReport(desktops=len(desktops))

    def problem(message: str | None) -> None:  # publisher threads; += on an int is fine under the GIL
        report.problems += message is not None
        if message:
            report.problem_at.append(time.monotonic())
        if message and message not in report.problem_examples and len(report.problem_examples) < 3:
            report.problem_examples.append(message)

    started = datetime.now(UTC).isoformat()
    publishers: dict[int, LiveStatusPublisher] = {}
    calls: dict[int, SyntheticCall] = {}
    for k, (number, dsn) in enumerate(desktops):
        time.sleep(max(0.0, start_at + k * START_SPACING_S - time.time()))
        status = LiveStatus(call_id=f"call-{number:05d}", agent=_agent(number), started_at=started)
        if number in probes:
            publishers[number] = ProbePublisher(dsn, status, problem)
        else:
            publishers[number] = LiveStatusPublisher(dsn, status, send_notes=False, on_problem=problem)
            calls[number] = SyntheticCall(random.Random(number), began=time.monotonic() - random.Random(-number).uniform(0, 600))
    while not stop.wait(FEED_EVERY_S):
        for number, call in calls.items():
            for event in call.step(FEED_EVERY_S):
                publishers[number](event)
    for publisher in publishers.values():
        publisher.close(timeout=0.0)  # all stop at once; one still connecting is a daemon thread
    for number, publisher in publishers.items():
        report.sent += publisher.sent
        if isinstance(publisher, ProbePublisher):
            report.probes += [(_desktop(number), share, at) for share, at in publisher.committed]
    reports.put(asdict(report))


# --------------------------------------------------------------------------- the board

class BoardMessage(Enum):
    """Between the run and the board's process, over a pipe of their own. Not through
    multiprocessing Events: each is a lock shared by every process that uses it, so the
    board's GUI thread, checking one, would wait whenever a desktop process on the busy
    floor had been preempted holding it."""

    READY = "ready"  # board -> run: every tile is shown (its figures follow with STOP)
    MEASURE = "measure"  # run -> board: the window begins
    STOP = "stop"  # run -> board: send the figures, then quit


def _board(dsn: str, lead: str, expected: int, probes: list[str], pipe, cpus: set[int] | None) -> None:
    """The team's board as its lead, offscreen, until BoardMessage.STOP comes down `pipe`; it sends
    BoardMessage.READY once it shows `expected` tiles, and its figures at the end. Every paint of a
    probe tile's figures label that shows a new text is logged; the stall meter runs from
    BoardMessage.MEASURE. With `cpus`, only on those (see `_cpus_apart`)."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # PySide6 6.12 on CPython 3.11 drops a reference to None on every call of a method that
    # returns nothing (setText, setVisible, ...): the process aborts ("none_dealloc") once its
    # few thousand references are gone, seconds into a busy board. Lend None more, and count
    # the loss per second: how long the real board would last.
    none_refs = ctypes.c_ssize_t.from_address(id(None))
    none_refs.value += NONE_REFS_LENT
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from callcoach.gui.board import tile
    from callcoach.gui.board.window import GAP, BoardWindow
    from tests.widget_helpers import StallMeter

    refs_after_imports = none_refs.value - NONE_REFS_LENT
    app = QApplication([])
    window = BoardWindow(dsn, lead)
    window.resize(BOARD_COLUMNS * (tile.WIDTH + GAP) + 40, BOARD_ROWS * (tile.HEIGHT + GAP) + 70)
    window.show()
    window.start()
    meter = StallMeter()
    measuring = threading.Event()  # this process's own: the GC callback reads it
    gc_times: list[float] = []  # each of Python's garbage collections while measuring, in seconds
    gc.callbacks.append(_gc_timer(gc_times, measuring))
    paints: list[tuple[str, float, str]] = []
    watchers: list = []  # PaintLog filters, kept alive
    in_view: list[int] = []
    metering: list[tuple[float, int]] = []  # (when the window began, None's references then)

    def poll() -> None:  # every 100 ms on the GUI thread: reads the pipe only when it holds something
        if not watchers and all(p in window.tiles for p in probes) and len(window.tiles) >= expected:
            watchers.extend(_paint_log(p, window.tiles[p].figures, paints) for p in probes)
            in_view.append(sum(not t.visibleRegion().isEmpty() for t in window.tiles.values()))
            pipe.send(BoardMessage.READY)
        while pipe.poll():
            message = pipe.recv()
            if message is BoardMessage.MEASURE:
                measuring.set()
                metering.append((time.monotonic(), none_refs.value,
                                 resource.getrusage(resource.RUSAGE_SELF).ru_majflt))
                meter.start()
            elif message is BoardMessage.STOP:
                app.quit()

    poller = QTimer()
    poller.timeout.connect(poll)
    poller.start(100)
    app.exec()
    meter.stop()
    began, refs_then, faults_then = metering[0] if metering else (time.monotonic(), none_refs.value, 0)
    pipe.send({"none_refs_after_imports": refs_after_imports,
               "none_refs_lost_per_s": (refs_then - none_refs.value) / max(1e-9, time.monotonic() - began),
               "paints": paints, "max_stall_s": meter.max_gap_s, "stalls_over_50ms": meter.over(0.05),
               "longest_stalls_s": sorted(meter.gaps_s, reverse=True)[:5], "meter_ticks": meter.ticks,
               "longest_stalls_gui_cpu_s": [cpu for _, cpu in sorted(zip(meter.gaps_s, meter.gaps_cpu_s),
                                                                     reverse=True)[:5]],
               "gc_s": gc_times,
               # Page faults that read the disk: the kernel may page out a quiet process's memory.
               "major_faults": resource.getrusage(resource.RUSAGE_SELF).ru_majflt - faults_then,
               "tiles": len(window.tiles), "tiles_in_view": in_view[0] if in_view else 0,
               "status": window.status.text()})
    _close(app, window)


def _gc_timer(log: list[float], measuring):
    began: list[float] = []

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            began[:] = [time.perf_counter()]
        elif began and measuring.is_set():
            log.append(time.perf_counter() - began[0])
    return timed


def _paint_log(desktop: str, label, log: list):
    """An event filter on `label` logging (desktop, time.monotonic(), text) at each paint that
    shows a text it has not painted just before: the change is on screen."""
    from PySide6.QtCore import QEvent, QObject

    class PaintLog(QObject):
        last: str | None = None

        def eventFilter(self, watched, event) -> bool:
            if event.type() == QEvent.Type.Paint and watched.text() != self.last:
                self.last = watched.text()
                log.append((desktop, time.monotonic(), self.last))
            return False

    watcher = PaintLog()
    label.installEventFilter(watcher)
    return watcher


def _close(app, window) -> None:
    from callcoach.gui.bridge import running_threads

    window.close()
    deadline = time.monotonic() + 5.0
    while running_threads() and time.monotonic() < deadline:  # the feed ends within 0.2 s of the close
        app.processEvents()
        time.sleep(0.02)


# --------------------------------------------------------------------------- CPU

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _ticks(pid: int, children: bool = False) -> int:
    """utime+stime of a process (all its threads), and with `children` what its reaped children used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return sum(int(f) for f in fields[11:15 if children else 13])


def _server_ticks(server) -> int:
    """The cluster's CPU so far: every live process, plus the postmaster's reaped children (a
    backend that exits between two readings moves from the first term to the second)."""
    postmaster = server.pid()
    return sum(_ticks(pid) for pid in server.processes() if pid != postmaster) + _ticks(postmaster, children=True)


def _server_pss_mb(server) -> float:
    """The cluster's memory: each process's proportional share (shared buffers split among them)."""
    kb = 0
    for pid in server.processes():
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        kb += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return round(kb / 1024, 1)


DAMON = Path("/sys/kernel/mm/damon/admin/kdamonds")


def _damon_states() -> list[str]:
    """The kernel's DAMON monitors (this VM reclaims cold memory with one): each of its samples
    checks who touched a page by walking every mapping of it, and the server's shared memory
    is mapped by every backend. At 1,000 backends a walk holds a CPU for up to ~300 ms, which
    this kernel (PREEMPT_NONE) does not take from it: the board's GUI thread waits, runnable."""
    states = []
    for f in sorted(DAMON.glob("*/state")):
        try:
            states.append(f.read_text().strip())
        except OSError:  # readable by root only
            states.append("unknown (not root)")
    return states


@contextlib.contextmanager
def _damon_off(wanted: bool):
    """DAMON switched off for the run, and back as it was after (root only)."""
    switched: list[tuple[Path, str]] = []
    try:
        for f in sorted(DAMON.glob("*/state")) if wanted else []:
            try:
                switched.append((f, f.read_text().strip()))
                f.write_text("off")
            except OSError as exc:
                raise SystemExit(f"--damon-off needs root: {exc.strerror} ({exc.filename})") from None
        yield
    finally:
        for f, state in switched:
            with contextlib.suppress(OSError):  # the one that could not be switched off is as it was
                f.write_text(state)


def _kdamond_pids() -> list[int]:
    """The DAMON monitors' kernel threads (kdamond.N)."""
    pids = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "comm").read_text().startswith("kdamond"):
                pids.append(int(entry.name))
    return pids


def _machine_ticks() -> tuple[int, int, int]:
    """(busy, total, stolen) jiffies of the whole machine, from /proc/stat: stolen is the time
    the host ran something else on our virtual CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values), values[7]


@dataclass
class CpuReading:
    at: float
    server: int
    workers: int
    board: int
    monitor: int  # the kernel's DAMON threads
    machine: tuple[int, int, int]

    @classmethod
    def now(cls, server, workers: list[int], board: int) -> CpuReading:
        return cls(time.monotonic(), _server_ticks(server), sum(_ticks(p) for p in workers), _ticks(board),
                   sum(_ticks(p) for p in _kdamond_pids()), _machine_ticks())


def _percent_of_core(ticks: int, seconds: float) -> float:
    return round(100.0 * ticks / CLK_TCK / seconds, 1)


# --------------------------------------------------------------------------- the run

def _server_complaints(server) -> list[str]:
    """The server's distinct FATAL, ERROR and could-not lines (without their prefixes), at most five."""
    seen: list[str] = []
    for line in server.log_file.read_text(errors="replace").splitlines():
        for mark in ("FATAL:", "ERROR:", "could not"):
            if mark in line:
                text = line[line.index(mark):]
                if text not in seen:
                    seen.append(text)
                break
    return seen[:5]


class NotifyCounter:
    """The notifications of every team's channel, counted on a thread while `counting`: how
    many of the statuses reached the boards (live_v1 notifies only on a change a tile shows,
    and on a 5 s heartbeat)."""

    def __init__(self, admin_dsn: str, teams: int):
        self.count = 0
        self.counting = threading.Event()
        self._stop = threading.Event()
        self._conn = psycopg.connect(admin_dsn, autocommit=True)
        for i in range(teams):
            (channel,) = self._conn.execute("SELECT callcoach.live_channel(%s)", (_team(i * TEAM_SIZE),)).fetchone()
            self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        self._thread = threading.Thread(target=self._run, name="notify-counter", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for _ in self._conn.notifies(timeout=0.5):
                self.count += self.counting.is_set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()


def _live_rows(admin_dsn: str) -> int:
    """Desktops on the server; 0 while it takes no more connections (the ramp overran it)."""
    try:
        with psycopg.connect(admin_dsn) as db:
            return db.execute("SELECT count(*) FROM callcoach.live_calls").fetchone()[0]
    except psycopg.OperationalError:
        return 0


def _updates(admin_dsn: str) -> tuple[int, int]:
    """(rows written, of which HOT updates) to live_calls so far, from the statistics."""
    with psycopg.connect(admin_dsn) as db:
        db.execute("SELECT pg_stat_clear_snapshot()")
        return db.execute("SELECT n_tup_ins + n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
                          " WHERE relname = 'live_calls'").fetchone()


def run(args) -> dict:
    load = Path("/proc/loadavg").read_text().split()[:3]  # others share the machine
    with server_folder() as folder, _damon_off(args.damon_off):
        began = time.monotonic()
        server = start_server(folder)
        try:
            return {"load_average_before": load, "damon": _damon_states() or "absent", **_run_on(server, args, began)}
        finally:
            server.stop()


def _set_up(server, args) -> tuple[list[tuple[int, str]], str, dict]:
    """The schema, max_connections, the floor's people, and a certificate for every desktop."""
    from callcoach.central.admin import add_person, init

    init(server.admin_dsn)
    server.admin_sql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
    if args.async_commit:  # a live status is worthless after a crash: no need to wait for its WAL flush
        server.admin_sql(f"ALTER ROLE {DESKTOP_ROLE} SET synchronous_commit = off")
    server.restart()
    began = time.monotonic()
    teams = sorted({_team(i) for i in range(args.desktops)})
    for i in range(args.desktops):
        add_person(server.admin_dsn, f"agent{i:05d}", agent_name=_agent(i), team=_team(i), lead=False)
    for team in teams:
        add_person(server.admin_dsn, _lead(team), agent_name=None, team=team, lead=True)
    people_s = time.monotonic() - began
    began = time.monotonic()
    dsns = [(i, server.dsn(_desktop(i), DESKTOP_ROLE)) for i in range(args.desktops)]  # openssl, one by one
    lead_dsn = server.dsn(_lead(WATCHED), _lead(WATCHED))
    times = {"people_s": round(people_s, 1), "certificates_s": round(time.monotonic() - began, 1),
             "teams": len(teams), "server_version": server.admin_sql("SHOW server_version").split()[0]}
    return dsns, lead_dsn, times


def _cpus_apart(server) -> set[int]:
    """The board's CPU, as on the supervisor's own PC: the last one, for the board alone. The
    simulated floor (the server, whose backends inherit the postmaster's CPUs, this process
    and the desktops it forks; on a real floor all on other machines) keeps to the others."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--board-apart needs two CPUs: one for the board, the rest for the floor")
    floor = set(cpus[:-1])
    for pid in [*server.processes(), 0]:
        try:
            os.sched_setaffinity(pid, floor)
        except ProcessLookupError:  # a server process that has just exited
            pass
    return {cpus[-1]}


def _run_on(server, args, began: float) -> dict:
    dsns, lead_dsn, setup = _set_up(server, args)
    board_cpus = _cpus_apart(server) if args.board_apart else None
    setup_s = time.monotonic() - began
    probes = list(range(min(args.probes, TEAM_SIZE, args.desktops)))
    spawn, fork = mp.get_context("spawn"), mp.get_context("fork")
    stop, reports = fork.Event(), fork.Queue()  # the desktops' only (see BoardMessage)
    board_pipe, pipe = spawn.Pipe()
    start_at = time.time() + 1.0
    # Daemons: if this process fails, they go with it instead of waiting for `stop` forever.
    workers = [fork.Process(target=_worker, args=(dsns[w::args.workers], set(probes), start_at, stop, reports),
                            daemon=True) for w in range(args.workers)]
    for w in workers:
        w.start()
    board = spawn.Process(target=_board, args=(lead_dsn, _lead(WATCHED), min(TEAM_SIZE, args.desktops),
                                               [_desktop(p) for p in probes], board_pipe, board_cpus),
                          daemon=True)
    board.start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    ready = False
    while not (ready and _live_rows(server.admin_dsn) >= args.desktops):
        ready = ready or (pipe.poll() and pipe.recv() is BoardMessage.READY)
        if time.monotonic() > deadline:
            if ready:
                break
            stop.set()
            problems = [WorkerReport(**reports.get(timeout=120)).problem_examples for _ in workers]
            raise SystemExit(f"not ready after {READY_TIMEOUT_S:.0f} s: {_live_rows(server.admin_dsn)} desktops"
                             f" on the server, board ready: {ready}; desktops' problems: {problems};"
                             f" server: {_server_complaints(server)}")
        time.sleep(1.0)
    on_server = _live_rows(server.admin_dsn)
    ramp_s = time.monotonic() - began - setup_s
    time.sleep(SETTLE_S)
    notified = NotifyCounter(server.admin_dsn, setup["teams"])
    notified.counting.set()
    pipe.send(BoardMessage.MEASURE)
    pids = [w.pid for w in workers]
    written_before = _updates(server.admin_dsn)
    first = CpuReading.now(server, pids, board.pid)
    time.sleep(args.measure)
    last = CpuReading.now(server, pids, board.pid)
    written_after = _updates(server.admin_dsn)
    notified.counting.clear()
    notified.close()
    backends = len(server.processes())
    on_server_at_end = _live_rows(server.admin_dsn)
    server_mb = _server_pss_mb(server)
    complaints = _server_complaints(server)
    stop.set()
    pipe.send(BoardMessage.STOP)
    if not pipe.poll(120):
        raise SystemExit("the board did not send its figures within 120 s of the window's end")
    shown = pipe.recv()
    results = [WorkerReport(**reports.get(timeout=120)) for _ in workers]
    for process in [*workers, board]:
        process.join(60)
    setup |= {"desktops_on_server": (on_server, on_server_at_end), "server_complaints": complaints,
              "notified": notified.count}
    return _figures(args, setup, setup_s, ramp_s, (first, last), (written_before, written_after),
                    (backends, server_mb), len(probes), results, shown)


def _figures(args, setup: dict, setup_s: float, ramp_s: float, cpu: tuple[CpuReading, CpuReading],
             written: tuple[tuple[int, int], tuple[int, int]], server: tuple[int, float], probes: int,
             results: list[WorkerReport], shown: dict) -> dict:
    first, last = cpu
    window_s = last.at - first.at
    samples, missed = _change_to_paint(results, shown["paints"], first.at, last.at - PAINT_GRACE_S)
    rows, hot = written[1][0] - written[0][0], written[1][1] - written[0][1]
    machine_busy = last.machine[0] - first.machine[0]
    return {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}, PostgreSQL {setup['server_version']}",
        "synchronous_commit": "off (desktops)" if args.async_commit else "on",
        "board_apart": args.board_apart,
        "desktops": args.desktops, "workers": args.workers, "teams": setup["teams"], "probes": probes,
        "setup_s": round(setup_s, 1), "certificates_s": setup["certificates_s"], "people_s": setup["people_s"],
        "ramp_s": round(ramp_s, 1), "window_s": round(window_s, 1),
        "server_processes": server[0], "server_pss_mb": server[1],
        "statuses_per_s": round(rows / window_s, 1),
        "hot_update_share": round(hot / rows, 3) if rows else None,
        "notifications_per_s": round(setup["notified"] / window_s, 1),
        "server_cpu_pct_of_core": _percent_of_core(last.server - first.server, window_s),
        "workers_cpu_pct_of_core": _percent_of_core(last.workers - first.workers, window_s),
        "board_cpu_pct_of_core": _percent_of_core(last.board - first.board, window_s),
        "kdamond_cpu_pct_of_core": _percent_of_core(last.monitor - first.monitor, window_s),
        "machine_busy_pct": round(100.0 * machine_busy / (last.machine[1] - first.machine[1]), 1),
        "samples": len(samples), "not_painted": missed,
        "change_to_paint_p50_s": round(statistics.median(samples), 3) if samples else None,
        "change_to_paint_p95_s": round(percentile(samples, 0.95), 3) if samples else None,
        "change_to_paint_max_s": round(max(samples), 3) if samples else None,
        "board_max_stall_s": round(shown["max_stall_s"], 3), "board_stalls_over_50ms": shown["stalls_over_50ms"],
        "board_longest_stalls_s": [round(g, 3) for g in shown["longest_stalls_s"]],
        "board_longest_stalls_gui_cpu_s": [round(c, 3) for c in shown["longest_stalls_gui_cpu_s"]],
        "board_gc_longest_s": [round(g, 3) for g in sorted(shown["gc_s"], reverse=True)[:5]],
        "board_major_faults": shown["major_faults"],
        "machine_steal_pct": round(100.0 * (last.machine[2] - first.machine[2]) / (last.machine[1] - first.machine[1]), 1),
        "board_tiles": shown["tiles"], "board_tiles_in_view": shown["tiles_in_view"], "board_status": shown["status"],
        "board_none_refs_lost_per_s": round(shown["none_refs_lost_per_s"], 1),
        "board_none_refs_after_imports": shown["none_refs_after_imports"],
        "statuses_sent": sum(r.sent for r in results), "desktop_problems": sum(r.problems for r in results),
        "desktop_problems_in_window": sum(first.at <= at <= last.at for r in results for at in r.problem_at),
        "desktop_problem_examples": sorted({m for r in results for m in r.problem_examples})[:5],
        "desktops_on_server_at_start_and_end": setup["desktops_on_server"], "server_complaints": setup["server_complaints"],
    }


def _change_to_paint(reports: list[WorkerReport], paints: list, start: float, end: float) -> tuple[list[float], int]:
    """For each probe status sent in [start, end] (and committed): seconds to the first paint of its tile
    showing that value or a later one (a board that lags may skip a value; it still counts,
    until that later paint). Also how many were never painted."""
    shown: dict[str, list[tuple[float, int]]] = {}
    for desktop, at, text in paints:
        if match := SHARE.search(text):
            shown.setdefault(desktop, []).append((at, int(match.group(1))))
    committed: dict[str, list[tuple[int, float]]] = {}
    for report in reports:
        for desktop, share, at in report.probes:
            committed.setdefault(desktop, []).append((share, at))
    samples, missed = [], 0
    for desktop, values in committed.items():
        values.sort(key=lambda v: v[1])
        for k, (share, at) in enumerate(values):
            if not start <= at <= end:
                continue
            later = {s for s, _ in values[k:k + 5]}  # this value or one of the next few (values repeat after 17)
            painted = next((t for t, s in shown.get(desktop, []) if t > at and s in later), None)
            if painted is None:
                missed += 1
            else:
                samples.append(painted - at)
    return samples, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--desktops", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--probes", type=int, default=10, help="watched desktops whose changes are timed")
    parser.add_argument("--measure", type=float, default=120.0, help="seconds of steady state measured")
    parser.add_argument("--async-commit", action="store_true",
                        help="the desktops' role with synchronous_commit = off: NOTIFY's commit lock is then not"
                             " held through a WAL flush")
    parser.add_argument("--board-apart", action="store_true",
                        help="the board on a CPU of its own, the floor and the server on the others, as on"
                             " the supervisor's own PC")
    parser.add_argument("--damon-off", action="store_true",
                        help="switch the kernel's DAMON monitor off for the run (root; see _damon_states)")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    figures = run(args)
    print(json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()

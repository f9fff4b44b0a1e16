"""The team store at floor scale: many desktops uploading to one PostgreSQL, with an outage.

Each simulated desktop is what a real one runs: its own SessionStore file (SQLite), its own
client certificate (so its own identity on the server), and the product's `Uploader`
thread, woken as each of its calls ends. The desktops live in `--workers` processes (a
thousand Python processes would not fit in this machine's memory); every call ending
is the store's real `finish()` of a real session summary (the bundled demo call, analyzed
once here), so the outbox and the upload path are the product's own.

Calls end at random over `--spread` seconds. `--outage-at` seconds in, the server is killed
(SIGKILL, like a power cut) and started again `--outage` seconds later. Reported: whether
every session got there exactly once, failed sessions, how long after the server's return
the backlog was drained, the throughput while draining, and the p95 time of one batch
(an ingest_v1 call of up to 20 sessions). The backlog is read from the server afterwards:
the calls that ended before it was back and reached it after (their `received_at`); it
was drained when the last of them arrived.

    .venv/bin/python -m benchmarks.team_store_scale [--desktops 1000] [--calls 10] [--workers 20]
        [--spread 480] [--outage-at 210] [--outage 60] [--json OUT]

The defaults end the floor's 10,000 calls in 8 minutes (21 a second; a real floor of 1,000
agents with 5-minute calls ends about 3 a second), with the outage in the middle.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from benchmarks.live_latency import percentile
from tests.postgres import server_folder, start_server

DESKTOP_ROLE = "callcoach_desktop"


@dataclass
class WorkerReport:
    desktops: int = 0
    sessions: int = 0
    batch_s: list[float] = field(default_factory=list)
    passes_failed: int = 0  # upload passes that hit the outage (retried later)
    sessions_failed: int = 0  # sessions refused (must be 0)
    left_pending: int = 0


def _desktop_name(i: int) -> str:
    return f"desktop-PC{i:05d}"


def _worker(index: int, desktops: list[tuple[int, str]], folder: str, summary: dict, schedule: list[tuple],
            start_at: float, deadline: float, reports) -> None:
    """Desktops `desktops` [(number, dsn)]: each call of `schedule` [(t, desktop number)] ends at
    start_at + t; then wait until every outbox is empty or `deadline`."""
    from callcoach.central.uploader import Uploader
    from callcoach.store import SessionStore

    logging.disable(logging.WARNING)  # a thousand "server down" lines; the figures count them
    report = WorkerReport(desktops=len(desktops))

    def on_result(result) -> None:  # uploader threads; list.append and += on ints are fine under the GIL
        report.batch_s.extend(result.batch_s)
        report.passes_failed += result.error is not None
        report.sessions_failed += result.failed

    stores, uploaders = {}, {}
    for number, dsn in desktops:
        path = Path(folder) / _desktop_name(number) / "sessions.db"
        stores[number] = SessionStore(path)
        uploaders[number] = Uploader(path, dsn, on_result=on_result)
    for t, number in schedule:
        time.sleep(max(0.0, start_at + t - time.time()))  # a timeline, not synchronisation
        store = stores[number]
        ended = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        session_id = store.begin({"agent": f"Agent {number}", "source": "live", "redacted": True, "started_at": ended})
        store.finish(session_id, {**summary, "id": session_id, "started_at": ended})
        report.sessions += 1
        uploaders[number].wake()
    while time.time() < deadline and any(s.outbox_state().pending for s in stores.values()):
        time.sleep(0.5)
    report.left_pending = sum(s.outbox_state().pending for s in stores.values())
    for uploader in uploaders.values():
        uploader.close()
    for store in stores.values():
        store.close()
    reports.put(asdict(report))


def _demo_summary(folder: Path) -> dict:
    """The bundled demo call, analyzed once: a real session summary to store again and again."""
    out = folder / "demo.json"
    from callcoach.paths import asset_path

    demo = asset_path("demo_call.flac")
    subprocess.run([sys.executable, "-m", "callcoach", "analyze", str(demo), "--json", str(out), "--no-store"],
                   check=True, capture_output=True)
    return json.loads(out.read_text())


def _central_count(admin_dsn: str) -> int | None:
    try:
        with psycopg.connect(admin_dsn, connect_timeout=2) as db:
            return db.execute("SELECT count(*) FROM callcoach.sessions").fetchone()[0]
    except psycopg.Error:
        return None


def run(args) -> dict:
    from callcoach.central.admin import init

    with server_folder() as folder:
        began = time.monotonic()
        server = start_server(folder)
        try:
            return _run_on(server, folder, args, began, init)
        finally:
            server.stop()


def _run_on(server, folder: Path, args, began: float, init) -> dict:
    admin_dsn = server.admin_dsn  # the administrator in the callcoach database, on the private socket
    init(admin_dsn)
    dsns = [(i, server.dsn(_desktop_name(i), DESKTOP_ROLE)) for i in range(args.desktops)]
    summary = _demo_summary(folder.parent)
    setup_s = time.monotonic() - began
    total = args.desktops * args.calls
    rng = random.Random(7)
    schedule = sorted((rng.uniform(0, args.spread), i) for i in range(args.desktops) for _ in range(args.calls))
    start_at = time.time() + 10  # the workers open their stores meanwhile
    deadline = start_at + args.spread + args.outage + 300
    reports = mp.Queue()
    stores = Path(tempfile.mkdtemp(prefix="callcoach-floor-"))
    workers = [mp.Process(target=_worker, args=(w, dsns[w::args.workers], str(stores), summary,
                                                [s for s in schedule if s[1] % args.workers == w],
                                                start_at, deadline, reports))
               for w in range(args.workers)]
    for w in workers:
        w.start()
    time.sleep(max(0.0, start_at + args.outage_at - time.time()))
    server.kill()
    down_at = time.time()
    time.sleep(args.outage)
    server.start()
    back_at = time.time()
    while time.time() < deadline and _central_count(admin_dsn) != total:
        time.sleep(0.25)  # polling the server's count, with a deadline
    results = [WorkerReport(**reports.get(timeout=600)) for _ in workers]
    for w in workers:
        w.join(60)
    with psycopg.connect(admin_dsn) as db:
        stored, distinct, desktops = db.execute(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT desktop) FROM callcoach.sessions").fetchone()
        # The backlog: calls that ended before the server was back (a call is begun and
        # finished at once here, so its start is its end) and reached it only afterwards.
        backlog, last = db.execute(
            "SELECT count(*), extract(epoch FROM max(received_at)) FROM callcoach.sessions"
            " WHERE started_at < to_timestamp(%s) AND received_at >= to_timestamp(%s)", (back_at, back_at)).fetchone()
    batch_s = [b for r in results for b in r.batch_s]
    drained_s = None if last is None else float(last) - back_at
    return {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "desktops": args.desktops, "calls_each": args.calls, "workers": args.workers,
        "setup_s": round(setup_s, 1),
        "outage_s": round(back_at - down_at, 1),
        "sessions_made": sum(r.sessions for r in results),
        "on_server": stored, "distinct_ids": distinct, "desktops_on_server": desktops,
        "sessions_failed": sum(r.sessions_failed for r in results),
        "left_pending": sum(r.left_pending for r in results),
        "passes_hit_by_outage": sum(r.passes_failed for r in results),
        "backlog_at_return": backlog,
        "drained_after_return_s": None if drained_s is None else round(drained_s, 1),
        "drain_throughput_per_s": None if not drained_s else round(backlog / drained_s, 1),
        "batches": len(batch_s),
        "batch_p50_s": round(statistics.median(batch_s), 3) if batch_s else None,
        "batch_p95_s": round(percentile(batch_s, 0.95), 3) if batch_s else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--desktops", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--spread", type=float, default=480.0, help="calls end over this many seconds")
    parser.add_argument("--outage-at", type=float, default=210.0)
    parser.add_argument("--outage", type=float, default=60.0)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    figures = run(args)
    print(json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()

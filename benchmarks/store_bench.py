"""Session store benchmark: list 10,000 sessions in under a second.

    .venv/bin/python -m benchmarks.store_bench [--sessions 10000] [--utterances 40] [--db PATH]

Creates a store of synthetic sessions (summaries shaped like real ones: utterances with
word timings, prompts, metrics; ~40 utterances is a 4-5 minute call), then times
`SessionStore` opening, `recover()`, `count_sessions()` and `list_sessions()`: the full
list sorted by start time, filtered lists, and the first page of a sort by worst mood.
Warm: median of 5 runs on a freshly opened store, files in the OS page cache. Cold:
median of 3 runs of open + operation right after the store's files were dropped from the
page cache (posix_fadvise), like the first listing after a reboot.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from callcoach.store import SessionStore

AGENTS = ["sam", "alex", "jordan", "maria", "lee", "priya", "tom", "ana"]
WORDS = ("thank you for calling I can see the charge on your account and I will reverse it today "
         "my bill is higher than usual and nobody told me the discount was going to expire").split()


def synthetic_summary(rng: random.Random, session_id: str, started: str, n_utterances: int) -> dict:
    t, utterances = 0.5, []
    for i in range(n_utterances):
        n = rng.randint(5, 25)
        words, w_t = [], t
        for _ in range(n):
            words.append({"w": " " + rng.choice(WORDS), "s": round(w_t, 2), "e": round(w_t + 0.3, 2)})
            w_t += 0.35
        utterances.append({"speaker": "agent" if i % 2 == 0 else "customer", "start": round(t, 2),
                           "end": round(w_t, 2), "text": "".join(w["w"] for w in words).strip(),
                           "sentiment": round(rng.uniform(-1, 1), 3), "wpm": round(rng.uniform(110, 220), 1),
                           "latency_s": round(rng.uniform(0.3, 0.9), 2), "words": words,
                           "upset": rng.random() < 0.2, "cues": []})
        t = w_t + rng.uniform(0.3, 2.0)
    kinds = ["apologize", "acknowledge_feelings", "slow_down", "escalate", "positive_language", "follow_up"]
    prompts = []
    for p in range(rng.randint(0, 5)):
        prompts.append({"id": p, "t": round(rng.uniform(0, t), 2), "kind": rng.choice(kinds), "severity": "warning",
                        "title": "Acknowledge", "message": "Name the feeling", "phrase": "I understand",
                        "tactic": "Listen actively", "because": "heard: 'ridiculous'", "latency_s": 0.8,
                        "cleared": {"t": 1.0, "reason": rng.choice(["expired", "done", "acted_on"])},
                        "feedback": None})
    low = round(rng.uniform(-1, 0.3), 3)
    escalated = any(p["kind"] == "escalate" for p in prompts)
    return {"schema": "callcoach.session.v1", "id": session_id, "started_at": started, "duration_s": round(t, 2),
            "source": None, "utterances": utterances, "prompts": prompts,
            "metrics": {"agent_wpm": 160.0, "agent_talk_share": 0.5, "dead_air_s": 3.0, "overlaps": 1,
                        "customer_sentiment": {"start": 0.0, "end": low, "min": low}, "escalated": escalated},
            "handoff_note": None, "follow_up": ["Confirm the resolution"], "notices": []}


def populate(path: Path, sessions: int, n_utterances: int, seed: int = 0) -> float:
    rng = random.Random(seed)
    store = SessionStore(path)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    began = time.perf_counter()
    with store.batch():
        for i in range(sessions):
            minute = i * 365 * 24 * 60 // sessions + rng.randint(0, 5)  # a year of calls
            started = (start + timedelta(minutes=minute)).isoformat(timespec="seconds")
            sid = store.begin({"started_at": started, "agent": rng.choice(AGENTS), "source": "live"})
            store.finish(sid, synthetic_summary(rng, sid, started, n_utterances))
            if i % 50 == 0:
                store.set_qa(sid, "reviewed", rng.randint(1, 5), redact=False)
    elapsed = time.perf_counter() - began
    store.close()
    return elapsed


def evict(path: Path) -> bool:
    """Drop the store's files from the OS page cache (a cold start), where the OS allows it."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        f = path.parent / name
        if f.exists():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def timed(path: Path, action, runs: int = 5, with_open: bool = False, cold: bool = False) -> tuple[float, object]:
    """Median seconds of `action(store)` on a freshly opened store (cold: open included,
    after the files were dropped from the page cache)."""
    times, result = [], None
    for _ in range(runs):
        if cold:
            evict(path)
        began = time.perf_counter()
        store = SessionStore(path)
        if not (with_open or cold):
            began = time.perf_counter()
        result = action(store)
        times.append(time.perf_counter() - began)
        store.close()
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--utterances", type=int, default=40, help="per synthetic session")
    parser.add_argument("--db", help="keep the store here (default: a temporary folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "sessions.db"
        if not path.exists():
            created = populate(path, args.sessions, args.utterances)
            print(f"created {args.sessions} sessions in {created:.1f} s")
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        print(f"store: {size / 1e6:.0f} MB ({size / max(args.sessions, 1) / 1e3:.1f} kB per session)")

        figures = [
            ("open store (+ schema check)", None),
            ("recover()", lambda s: s.recover()),
            ("count_sessions()", lambda s: s.count_sessions()),
            ("list_sessions(), all, newest first", lambda s: s.list_sessions()),
            ("list_sessions(agent=, escalated=True), all", lambda s: s.list_sessions(agent="sam", escalated=True)),
            ("list_sessions(since=, until=) one month", lambda s: s.list_sessions(
                since="2025-02-01", until="2025-03-01")),
            ("list_sessions(sort=worst_mood, limit=50)", lambda s: s.list_sessions(
                sort="worst_mood", descending=False, limit=50)),
            ("list_sessions(limit=50, offset=5000)", lambda s: s.list_sessions(limit=50, offset=5000)),
            ("list_sessions(limit=1) + get(id)", lambda s: s.get(s.list_sessions(limit=1)[0]["id"])),
        ]
        can_evict = evict(path)
        print(f"{'operation':46s} {'warm':>9s} {'cold+open':>10s}  rows")
        for name, action in figures:
            seconds, result = timed(path, action or (lambda s: None), with_open=action is None)
            cold = f"{timed(path, action or (lambda s: None), runs=3, cold=True)[0] * 1000:7.1f} ms" if can_evict else "n/a"
            rows = len(result) if isinstance(result, list) else (result if isinstance(result, int) else "")
            print(f"{name:46s} {seconds * 1000:6.1f} ms {cold:>10s}  {rows}")
        print(f"machine: {os.cpu_count()} cores; python {'.'.join(map(str, os.sys.version_info[:3]))}")


if __name__ == "__main__":
    main()

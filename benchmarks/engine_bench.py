"""Speed, latency, idle CPU, memory and start-up time of the streaming engine.

Renders a generated two-speaker call (tests/callgen.py: agent left, customer right through
a phone line) and measures, each in a fresh Python process so memory and start-up figures
are clean:

  * offline speed of `analyze_call(call=path)`, with and without model loading;
  * final-text latency and partial-text lag while the call plays in real time;
  * CPU used while 30 s of digital silence, then of low hiss, play in real time;
  * peak RSS of the offline and the real-time process;
  * time from process spawn to the engine's ModelReady (median of 3).

    .venv/bin/python -m benchmarks.engine_bench [--call-seconds 130] [--json OUT] [--skip-realtime]

Workers are this same module run as `--worker MODE`; each prints one result line
(RESULT_TAG + JSON) on stdout for the parent to collect.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

# Only the standard library at module level: the `ready` worker imports this module
# before starting its clock-sensitive work, so heavy imports here would inflate it.

ROOT = Path(__file__).resolve().parents[1]
RESULT_TAG = "ENGINE-BENCH-RESULT "
IDLE_HISS_DB = -55.0
READY_RUNS = 3

# (key, target label, check) — key names a figure in the results dict.
TARGETS = {
    "latency_p50_s": ("≤ 0.8 s", lambda v: v <= 0.8),
    "latency_p95_s": ("≤ 1.3 s", lambda v: v <= 1.3),
    "offline_x_incl_load": ("≥ 15× RT", lambda v: v >= 15),
    "offline_x_excl_load": ("≥ 15× RT", lambda v: v >= 15),
    "idle_cpu_silence_pct": ("≤ 3 %", lambda v: v <= 3),
    "idle_cpu_hiss_pct": ("≤ 3 %", lambda v: v <= 3),
    "rss_offline_mb": ("≤ 400 MB", lambda v: v <= 400),
    "rss_realtime_mb": ("≤ 400 MB", lambda v: v <= 400),
    "ready_median_s": ("≤ 3 s", lambda v: v <= 3),
}


# ===================================================================== workers (child side)


def peak_rss_mb() -> float:
    """This process's peak resident memory, MB.

    Not getrusage().ru_maxrss: Linux carries the spawning process's high-water mark over
    exec (subprocess uses vfork), so every worker would report at least the parent's
    peak — ~420 MB after rendering the call with Piper. VmHWM belongs to this process's
    own address space only.
    """
    with open("/proc/self/status") as fh:
        kib = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    return kib / 1024


class Timed:
    """Wraps a method of a class so each call's wall and CPU time are recorded.

    Lets the offline worker call the real `analyze_call` (not a copy of it) and still
    separate model loading from the streaming run inside it.
    """

    def __init__(self, cls, name: str):
        self.cls, self.name = cls, name
        self.wall = self.cpu = 0.0
        self.instance = None

    def __enter__(self):
        original = self.original = getattr(self.cls, self.name)

        def wrapper(instance, *args, **kwargs):
            wall, cpu = time.monotonic(), time.process_time()
            try:
                return original(instance, *args, **kwargs)
            finally:
                self.wall += time.monotonic() - wall
                self.cpu += time.process_time() - cpu
                self.instance = instance

        setattr(self.cls, self.name, wrapper)
        return self

    def __exit__(self, *exc):
        setattr(self.cls, self.name, self.original)


def worker_offline(args) -> dict:
    """analyze_call in fast mode, exactly as `callcoach analyze CALL` runs it."""
    from callcoach.analyze import analyze_call
    from callcoach.engine.engine import Engine
    from callcoach.settings import Settings

    with Timed(Engine, "load") as load, Timed(Engine, "run") as run:
        started = time.monotonic()
        summary = analyze_call(call=args.call, settings=Settings())  # read as the command does
        total = time.monotonic() - started
    return {
        "audio_s": summary["duration_s"],
        "analyze_wall_s": total,  # decode + load + warm-up + run
        "load_s": load.wall,
        "run_wall_s": run.wall,
        "run_cpu_s": run.cpu,
        "utterances": len(summary["utterances"]),
        "stats": run.instance.stats,
        "rss_mb": peak_rss_mb(),
    }


def worker_realtime(args) -> dict:
    """The call paced at real time, both channels live, with latency measured.

    Built by hand rather than through analyze_call(realtime=True) (same settings) only
    so a listener can see the Partial events, which the session recorder drops.
    """
    from callcoach.audio.files import FileSource, read_call
    from callcoach.engine.engine import Engine, EngineSettings
    from callcoach.engine.events import Partial, Utterance

    engine = Engine(EngineSettings(partials=True), measure_latency=True)
    finals: list[Utterance] = []
    partials: list[Partial] = []
    engine.subscribe(lambda e: finals.append(e) if isinstance(e, Utterance)
                     else partials.append(e) if isinstance(e, Partial) else None)
    source = FileSource(read_call(args.call), realtime=True)
    engine.load()
    wall, cpu = time.monotonic(), time.process_time()
    duration = engine.run(source)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    return {
        "audio_s": duration,
        "run_wall_s": wall,
        "cpu_pct": 100 * cpu / wall,
        "finals": [{"role": u.role, "end": u.end, "latency_s": u.latency_s} for u in finals],
        "partials": [{"role": p.role, "start": p.start, "lag_s": p.lag_s} for p in partials],
        "stats": engine.stats,
        "rss_mb": peak_rss_mb(),
    }


def worker_idle(args) -> dict:
    """Silence or hiss on both channels at real time: what the engine costs between calls
    (or while nobody talks). Model loading is done before the clock starts."""
    import numpy as np

    from callcoach.audio.block import SAMPLE_RATE
    from callcoach.audio.files import FileSource
    from callcoach.engine.engine import Engine, EngineSettings
    from callcoach.engine.events import Partial, Utterance
    from tests import callgen

    n = int(args.idle_seconds * SAMPLE_RATE)
    if args.idle_kind == "silence":
        channels = {"agent": np.zeros(n, np.float32), "customer": np.zeros(n, np.float32)}
    else:  # independent noise per side, as two real lines would have
        channels = {"agent": callgen.hiss(args.idle_seconds, IDLE_HISS_DB, SAMPLE_RATE, seed=0),
                    "customer": callgen.hiss(args.idle_seconds, IDLE_HISS_DB, SAMPLE_RATE, seed=1)}
    engine = Engine(EngineSettings(partials=True), measure_latency=True)
    texts = []  # anything transcribed here is a hallucination
    engine.subscribe(lambda e: texts.append(e.text) if isinstance(e, (Utterance, Partial)) else None)
    engine.load()
    wall, cpu = time.monotonic(), time.process_time()
    engine.run(FileSource(channels, realtime=True))
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    return {"kind": args.idle_kind, "wall_s": wall, "cpu_s": cpu, "cpu_pct": 100 * cpu / wall,
            "texts": texts, "rss_mb": peak_rss_mb()}


def worker_ready(args) -> dict:
    """Imports + model load + warm-up, stamped on CLOCK_MONOTONIC, which on Linux is
    shared by all processes, so the parent can subtract its spawn time."""
    imports_started = time.monotonic()
    from callcoach.engine.engine import Engine, EngineSettings
    from callcoach.engine.events import ModelReady

    imported = time.monotonic()
    engine = Engine(EngineSettings())
    ready: dict = {}
    engine.subscribe(lambda e: ready.update(at=time.monotonic(), load_s=e.load_s)
                     if isinstance(e, ModelReady) else None)
    engine.load()
    model = engine._transcriber._whisper.model  # after the stamp: describes, not timed
    return {"imports_started": imports_started, "imported": imported, **ready,
            "model": engine.settings.model, "compute_type": model.compute_type,
            "device": model.device, "rss_mb": peak_rss_mb()}


WORKERS = {"offline": worker_offline, "realtime": worker_realtime, "idle": worker_idle,
           "ready": worker_ready}


# ===================================================================== parent side


def spawn(mode: str, *extra: str, timeout: float = 900) -> tuple[dict, float]:
    """Run one worker in a fresh interpreter; returns (its result, spawn monotonic time)."""
    cmd = [sys.executable, "-m", "benchmarks.engine_bench", "--worker", mode, *extra]
    spawned = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-20:])
        raise RuntimeError(f"worker {mode} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(lines[-1][len(RESULT_TAG):]), spawned


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def machine() -> dict:
    def cpuinfo(key: str) -> str:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
        return "?"

    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    versions = {pkg: metadata.version(pkg) for pkg in ("faster-whisper", "ctranslate2", "onnxruntime")}
    return {"cpu": cpuinfo("model name"), "cores": os.cpu_count(), "ram_gb": round(mem_kib / 2**20, 1),
            "python": platform.python_version(), **versions}


def render(call_seconds: float, folder: str) -> dict:
    from tests import callgen

    path = os.path.join(folder, "call.wav")
    truth = callgen.render_call(callgen.long_call(call_seconds, seed=1), path)
    if truth.duration < 120:
        print(f"warning: the call is only {truth.duration:.0f} s; raise --call-seconds", file=sys.stderr)
    return {"path": path, "duration_s": round(truth.duration, 1), "turns": len(truth.turns)}


def measure_offline(call: dict) -> dict:
    r, _ = spawn("offline", "--call", call["path"])
    return {
        "offline_x_incl_load": r["audio_s"] / r["analyze_wall_s"],
        "offline_x_excl_load": r["audio_s"] / r["run_wall_s"],
        "offline_analyze_wall_s": r["analyze_wall_s"],
        "offline_load_s": r["load_s"],
        "offline_run_wall_s": r["run_wall_s"],
        "offline_run_cores": r["run_cpu_s"] / r["run_wall_s"],  # how much of the 2 cores it used
        "offline_utterances": r["utterances"],
        "offline_stats": r["stats"],
        "rss_offline_mb": r["rss_mb"],
    }


def measure_realtime(call: dict) -> dict:
    r, _ = spawn("realtime", "--call", call["path"], timeout=call["duration_s"] * 3 + 300)
    latencies = [f["latency_s"] for f in r["finals"] if f["latency_s"] is not None]
    lags = [p["lag_s"] for p in r["partials"] if p["lag_s"] is not None]
    return {
        "latency_p50_s": percentile(latencies, 50),
        "latency_p95_s": percentile(latencies, 95),
        "latency_max_s": max(latencies, default=float("nan")),
        "latency_count": len(latencies),
        "partial_lag_p50_s": percentile(lags, 50),
        "partial_lag_p95_s": percentile(lags, 95),
        "partial_count": len(lags),
        "partials_per_utterance": len(r["partials"]) / max(1, len(r["finals"])),
        # Time after the last audio block until the last final text was out.
        "realtime_drain_s": r["run_wall_s"] - r["audio_s"],
        "realtime_cpu_pct": r["cpu_pct"],
        "realtime_stats": r["stats"],
        "rss_realtime_mb": r["rss_mb"],
        "realtime_finals": r["finals"],
    }


def measure_idle(seconds: float) -> dict:
    out = {}
    for kind in ("silence", "hiss"):
        r, _ = spawn("idle", "--idle-kind", kind, "--idle-seconds", str(seconds),
                     timeout=seconds * 3 + 300)
        out[f"idle_cpu_{kind}_pct"] = r["cpu_pct"]
        out[f"idle_{kind}_texts"] = r["texts"]
    return out


def measure_ready() -> dict:
    runs = []
    for _ in range(READY_RUNS):
        r, spawned = spawn("ready")
        runs.append({"ready_s": r["at"] - spawned, "to_imports_s": r["imports_started"] - spawned,
                     "imports_s": r["imported"] - r["imports_started"], "load_s": r["load_s"],
                     "rss_mb": r["rss_mb"]})
    median = lambda key: statistics.median(run[key] for run in runs)  # noqa: E731
    return {"ready_median_s": median("ready_s"), "ready_runs_s": [run["ready_s"] for run in runs],
            "ready_interpreter_s": median("to_imports_s"), "ready_imports_s": median("imports_s"),
            "ready_load_s": median("load_s"), "rss_load_only_mb": median("rss_mb"),
            "model": f"{r['model']} {r['compute_type']} ({r['device']})"}


# ------------------------------------------------------------------ report

ROWS = [  # (label, key, format)
    ("Final latency p50", "latency_p50_s", "{:.2f} s"),
    ("Final latency p95", "latency_p95_s", "{:.2f} s"),
    ("Final latency max", "latency_max_s", "{:.2f} s"),
    ("Finals measured", "latency_count", "{}"),
    ("Partial lag p50", "partial_lag_p50_s", "{:.2f} s"),
    ("Partial lag p95", "partial_lag_p95_s", "{:.2f} s"),
    ("Partials per utterance", "partials_per_utterance", "{:.1f}"),
    ("CPU during real-time call (both live)", "realtime_cpu_pct", "{:.0f} % of a core"),
    ("Drain after last audio", "realtime_drain_s", "{:.2f} s"),
    ("Offline, analyze wall incl. load", "offline_x_incl_load", "{:.1f}× RT"),
    ("Offline, engine.run excl. load", "offline_x_excl_load", "{:.1f}× RT"),
    ("Offline CPU use during run", "offline_run_cores", "{:.2f} cores"),
    ("Idle CPU, digital silence", "idle_cpu_silence_pct", "{:.2f} % of a core"),
    (f"Idle CPU, hiss {IDLE_HISS_DB:.0f} dBFS", "idle_cpu_hiss_pct", "{:.2f} % of a core"),
    ("Peak RSS, offline analyze", "rss_offline_mb", "{:.0f} MB"),
    ("Peak RSS, real-time run", "rss_realtime_mb", "{:.0f} MB"),
    ("Peak RSS, Engine.load only (ready runs)", "rss_load_only_mb", "{:.0f} MB"),
    ("Ready (spawn → ModelReady), median", "ready_median_s", "{:.2f} s"),
    ("  of which interpreter start", "ready_interpreter_s", "{:.2f} s"),
    ("  of which callcoach.engine imports", "ready_imports_s", "{:.2f} s"),
    ("  of which Engine.load (faster-whisper import, load, warm-up)", "ready_load_s", "{:.2f} s"),
]


def table(figures: dict) -> str:
    lines = ["| Metric | Target | Measured | Met |", "|---|---|---|---|"]
    for label, key, fmt in ROWS:
        if key not in figures:
            continue
        target, check = TARGETS.get(key, ("—", None))
        met = "" if check is None else ("yes" if check(figures[key]) else "**NO**")
        lines.append(f"| {label} | {target} | {fmt.format(figures[key])} | {met} |")
    return "\n".join(lines)


def report(info: dict, call: dict, figures: dict) -> None:
    print(f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, "
          f"Python {info['python']}, faster-whisper {info['faster-whisper']}, "
          f"ctranslate2 {info['ctranslate2']}, onnxruntime {info['onnxruntime']}, "
          f"model {figures.get('model', '?')}")
    print(f"Call: {call['duration_s']} s, {call['turns']} turns (long_call seed=1, customer phone-band)")
    print()
    print(table(figures))
    print()
    for key in ("offline_stats", "realtime_stats"):
        if key in figures:
            print(f"{key}: {figures[key]}")
    for kind in ("silence", "hiss"):
        texts = figures.get(f"idle_{kind}_texts")
        if texts:
            print(f"text transcribed from {kind}: {texts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--call-seconds", type=float, default=130, help="minimum call length (default 130)")
    parser.add_argument("--json", metavar="OUT", help="also write every figure as JSON")
    parser.add_argument("--skip-realtime", action="store_true",
                        help="skip the runs paced in real time (call replay and idle CPU)")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    # Worker-only options.
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--call", help=argparse.SUPPRESS)
    parser.add_argument("--idle-kind", choices=("silence", "hiss"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(RESULT_TAG + json.dumps(WORKERS[args.worker](args)), flush=True)
        return

    info = machine()
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmp:
        call = render(args.call_seconds, tmp)
        figures = {}
        # Sequential on purpose: parallel workers would fight over the cores.
        figures.update(measure_offline(call))
        figures.update(measure_ready())
        if not args.skip_realtime:
            figures.update(measure_realtime(call))
            figures.update(measure_idle(args.idle_seconds))
    report(info, call, figures)
    if args.json:
        checks = {key: {"target": TARGETS[key][0], "met": TARGETS[key][1](figures[key])}
                  for key in TARGETS if key in figures}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"machine": info, "call": {k: v for k, v in call.items() if k != "path"},
                       "figures": figures, "checks": checks}, fh, indent=1)


if __name__ == "__main__":
    main()

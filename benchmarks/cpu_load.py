"""What a live call costs, and whether the widget stays responsive when the PC is busy.

Two kinds of run, each in a fresh Python process, each on a quiet machine and again with
busy processes beside it (`python -c "while True: pass"`, two by default, like an agent's
softphone and browser on a 2-core PC; started before the worker, killed after it):

  * call: the generated two-speaker call (tests/callgen.py, the engine benchmark's call)
    through the engine paced at real time, as `callcoach analyze --realtime` plays it:
    process CPU time / call wall time (% of one core), final-text latency p50/p95, the
    word error rate of the final text against the script, and the nice value of every
    thread that worked during the call;
  * widget: the real widget (offscreen Qt) playing the bundled demo call through the live
    pipeline, as tests/test_widget_demo.py does: the longest the GUI event loop went
    without running (a 10 ms timer's longest gap) during the call and while it started,
    and the process's CPU during the call.

    .venv/bin/python -m benchmarks.cpu_load [--repeat 2] [--busy 2] [--only call|widget]
                                            [--nice N] [--json OUT]

`--nice 0` runs the model's threads at normal priority (as before engine/priority.py).
Each run also records the machine's load average and how busy its cores were meanwhile
(other people's jobs make the "quiet" runs less quiet than the name says).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.engine_bench import machine

ROOT = Path(__file__).resolve().parents[1]
RESULT_TAG = "CPU-LOAD-RESULT "
MAX_STALL_MS = 50.0
TARGET_CPU_PCT = 25.0


# ===================================================================== workers (child side)


def _set_nice(nice: int | None) -> None:
    if nice is not None:
        from callcoach.engine import priority

        priority.BACKGROUND_NICE = nice


def thread_nices() -> list[dict]:
    """Every thread of this process: its nice value and the CPU seconds it has used."""
    tick = os.sysconf("SC_CLK_TCK")
    out = []
    for tid in sorted(os.listdir("/proc/self/task"), key=int):
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        try:
            with open(f"/proc/self/task/{tid}/comm") as fh:
                name = fh.read().strip()
        except OSError:
            name = "?"
        out.append({"tid": int(tid), "name": name, "nice": int(fields[16]),
                    "cpu_s": round((int(fields[11]) + int(fields[12])) / tick, 2)})
    return out


def worker_call(args) -> dict:
    import numpy as np

    from callcoach.audio.files import FileSource, read_call
    from callcoach.engine.engine import Engine, EngineSettings
    from callcoach.engine.events import Utterance
    from tests import callgen

    _set_nice(args.nice)
    settings = EngineSettings(partials=True, cpu_threads=args.cpu_threads)
    engine = Engine(settings, measure_latency=True)
    finals: list[Utterance] = []
    engine.subscribe(lambda e: finals.append(e) if isinstance(e, Utterance) else None)
    source = FileSource(read_call(args.call), realtime=True)
    engine.load()
    threads_before = {t["tid"]: t["cpu_s"] for t in thread_nices()}
    wall, cpu = time.monotonic(), time.process_time()
    engine.run(source)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    latencies = [u.latency_s for u in finals if u.latency_s is not None]
    truth = json.loads(Path(args.truth).read_text())
    pairs = [(truth[role], " ".join(u.text for u in finals if u.role == role)) for role in ("agent", "customer")]
    worked = [{**t, "cpu_s": round(t["cpu_s"] - threads_before.get(t["tid"], 0.0), 2)} for t in thread_nices()]
    return {
        "wall_s": wall, "cpu_s": cpu, "cpu_pct": 100 * cpu / wall,
        "latency_p50_s": float(np.percentile(latencies, 50)), "latency_p95_s": float(np.percentile(latencies, 95)),
        "latency_max_s": max(latencies), "finals": len(finals), "wer": callgen.corpus_wer(pairs),
        "threads": [t for t in worked if t["cpu_s"] >= 0.5], "stats": engine.stats,
    }


def worker_widget(args) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from callcoach.engine.events import ModelReady
    from callcoach.gui.app import CoachApp, preload_model
    from callcoach.settings import Settings
    from tests.widget_helpers import StallMeter, shut_down

    _set_nice(args.nice)
    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="cpu-load-widget-"))
    settings = Settings(folder / "settings.json", folder / "policy.toml")
    preload_model(settings)  # as `callcoach demo` does, before its event loop runs
    coach = CoachApp(settings, mode="demo", store_path=str(folder / "sessions.db"))
    start_meter, call_meter = StallMeter(), StallMeter()
    result: dict = {"finished": False}
    loop = QEventLoop()

    def on_event(event):
        if isinstance(event, ModelReady):
            start_meter.stop()
            call_meter.start()
            result["call_started"] = (time.monotonic(), time.process_time())
            result["threads"] = thread_nices()

    def started():
        start_meter.start()
        coach.calls.runner.bridge.connect_to(on_event)

    def finished(summary):
        call_meter.stop()
        wall, cpu = result["call_started"]
        result.update(finished=summary is not None, wall_s=time.monotonic() - wall,
                      cpu_s=time.process_time() - cpu)
        before = {t["tid"]: t["cpu_s"] for t in result["threads"]}
        result["threads"] = [{**t, "cpu_s": round(t["cpu_s"] - before.get(t["tid"], 0.0), 2)}
                             for t in thread_nices()]
        loop.quit()

    coach.call_started.connect(started)
    coach.call_finished.connect(finished)
    QTimer.singleShot(int(args.timeout * 1000), loop.quit)
    coach.start()
    loop.exec()
    shut_down(coach)
    del app
    gui_tid = next(t for t in result["threads"] if t["tid"] == os.getpid())
    return {
        "finished": result["finished"], "call_stall_ms": 1000 * call_meter.max_gap_s,
        "start_stall_ms": 1000 * start_meter.max_gap_s, "ticks": call_meter.ticks,
        "wall_s": result.get("wall_s"), "cpu_pct": 100 * result["cpu_s"] / result["wall_s"],
        "gui_nice": gui_tid["nice"], "threads": result["threads"],
    }


WORKERS = {"call": worker_call, "widget": worker_widget}


# ===================================================================== parent side


class Busy:
    """`n` processes that keep a core busy each, as long as the block lasts."""

    def __init__(self, n: int):
        self.n = n
        self.procs: list[subprocess.Popen] = []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.n)]
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.kill()
            proc.wait()


def cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def spawn(mode: str, extra: list[str], env: dict, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.cpu_load", "--worker", mode, *extra]
    load_before = os.getloadavg()[0]
    busy0, total0 = cpu_busy()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    busy1, total1 = cpu_busy()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-20:])
        raise RuntimeError(f"worker {mode} failed (exit {proc.returncode}):\n{tail}")
    result = json.loads(lines[-1][len(RESULT_TAG):])
    result["loadavg_before"] = load_before
    result["machine_busy_cores"] = (os.cpu_count() or 1) * (busy1 - busy0) / max(1, total1 - total0)
    return result


def worker_env(folder: str) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for var, name in (("CALLCOACH_CONFIG_DIR", "config"), ("CALLCOACH_DATA_DIR", "data"),
                      ("CALLCOACH_LOG_DIR", "logs")):
        env[var] = os.path.join(folder, name)
    env["CALLCOACH_POLICY_FILE"] = os.path.join(folder, "config", "policy.toml")
    return env


def span(values: list[float], fmt: str) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def report(info: dict, runs: dict, busy: int) -> None:
    print(f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, Python {info['python']}, "
          f"faster-whisper {info['faster-whisper']}, ctranslate2 {info['ctranslate2']}, "
          f"onnxruntime {info['onnxruntime']}")
    print()
    print(f"| Run | Quiet | Beside {busy} busy processes |")
    print("|---|---|---|")
    rows = [
        ("call", "CPU during the real-time call, % of one core", "cpu_pct", "{:.1f} %"),
        ("call", "Final text latency p50", "latency_p50_s", "{:.2f} s"),
        ("call", "Final text latency p95", "latency_p95_s", "{:.2f} s"),
        ("call", "Word error rate of the final text", "wer", "{:.3f}"),
        ("widget", "Longest event-loop stall during the demo call", "call_stall_ms", "{:.0f} ms"),
        ("widget", "Longest event-loop stall while the call starts", "start_stall_ms", "{:.0f} ms"),
        ("widget", "CPU of the widget process during the demo call", "cpu_pct", "{:.1f} %"),
        ("call", "Machine load average before the run (1 min)", "loadavg_before", "{:.1f}"),
        ("call", "Cores busy meanwhile, whole machine (call run)", "machine_busy_cores", "{:.2f}"),
        ("widget", "Cores busy meanwhile, whole machine (widget run)", "machine_busy_cores", "{:.2f}"),
    ]
    for kind, label, key, fmt in rows:
        if not runs[kind]["quiet"] and not runs[kind]["loaded"]:
            continue
        quiet = span([r.get(key) for r in runs[kind]["quiet"]], fmt)
        loaded = span([r.get(key) for r in runs[kind]["loaded"]], fmt)
        print(f"| {label} | {quiet} | {loaded} |")
    print()
    for kind in ("call", "widget"):
        for scenario in ("quiet", "loaded"):
            for r in runs[kind][scenario]:
                threads = ", ".join(f"{t['tid']}: nice {t['nice']}" + (f", {t['cpu_s']} s" if kind == "call" else "")
                                    for t in r["threads"])
                print(f"{kind}/{scenario} threads ({'busy in the call' if kind == 'call' else 'at call start'}): "
                      f"{threads}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each kind per scenario (default 2)")
    parser.add_argument("--busy", type=int, default=2, help="busy processes in the loaded scenario (default 2)")
    parser.add_argument("--only", choices=sorted(WORKERS), help="one kind of run only")
    parser.add_argument("--scenarios", nargs="+", choices=("quiet", "loaded"), default=["quiet", "loaded"])
    parser.add_argument("--nice", type=int, help="nice added to the model's threads (default: the app's)")
    parser.add_argument("--cpu-threads", type=int, default=0, help="CTranslate2 threads in the call run (0: all)")
    parser.add_argument("--call-seconds", type=float, default=130)
    parser.add_argument("--json", metavar="OUT", help="also write every figure as JSON")
    # Worker-only options.
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--call", help=argparse.SUPPRESS)
    parser.add_argument("--truth", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=400, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(RESULT_TAG + json.dumps(WORKERS[args.worker](args)), flush=True)
        return

    info = machine()
    kinds = [args.only] if args.only else ["call", "widget"]
    runs = {kind: {"quiet": [], "loaded": []} for kind in ("call", "widget")}
    common = ["--cpu-threads", str(args.cpu_threads)] + (["--nice", str(args.nice)] if args.nice is not None else [])
    with tempfile.TemporaryDirectory(prefix="cpu-load-") as tmp:
        call_path, truth_path = os.path.join(tmp, "call.wav"), os.path.join(tmp, "truth.json")
        if "call" in kinds:  # the engine benchmark's call
            from tests import callgen

            truth = callgen.render_call(callgen.long_call(args.call_seconds, seed=1), call_path)
            Path(truth_path).write_text(json.dumps({role: truth.transcript(role) for role in ("agent", "customer")}))
            print(f"call: {truth.duration:.1f} s, {len(truth.turns)} turns", file=sys.stderr)
        # Interleaved (quiet, loaded, quiet, ...) so a change in the machine's other work
        # shows in both columns rather than in one.
        for i in range(args.repeat):
            for kind in kinds:
                for scenario in args.scenarios:
                    extra = common + (["--call", call_path, "--truth", truth_path] if kind == "call" else [])
                    with Busy(args.busy if scenario == "loaded" else 0):
                        r = spawn(kind, extra, worker_env(os.path.join(tmp, f"{kind}-{scenario}-{i}")), 900)
                    runs[kind][scenario].append(r)
                    summary = {k: round(v, 3) for k, v in r.items() if isinstance(v, float)}
                    print(f"[{kind} {scenario} {i + 1}/{args.repeat}] {summary}", file=sys.stderr, flush=True)
    report(info, runs, args.busy)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"machine": info, "busy": args.busy, "nice": args.nice, "runs": runs}, fh, indent=1)


if __name__ == "__main__":
    main()

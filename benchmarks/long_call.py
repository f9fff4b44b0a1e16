"""A two-hour call in fast mode: does memory stay flat and does processing keep its speed?

    .venv/bin/python -m benchmarks.long_call [--minutes 120] [--gap 20] [--sample-every 1] [--json OUT]

The call is the bundled demo call (`assets/demo_call.flac`, 2 min 5 s, both speakers)
followed by `--gap` seconds of silence, played over and over until `--minutes` of call
audio have gone by. Nothing is written as audio: a `FileSource` (realtime=False) replays
the decoded tile and its blocks are renumbered onto one call clock. The call goes through
the real `CallPipeline` (engine, model, coach, session recorder) with a `StoreWriter`
journaling it into a session store in a temporary folder, as `callcoach analyze` does.

Every `--sample-every` minutes of call audio (when the engine's Watermark passes it: all
text before that point has been delivered and coached) the process's current RSS, the
bytes its C heap holds in use (glibc `mallinfo2`: every native library's live memory and
every large Python object, numpy arrays included), wall and CPU time, and the sizes of the
per-call structures are recorded. Results:

  * memory growth, as the median over minutes 10-20 against the median over the last 10
    minutes (target < 30 MB), for RSS and for the heap in use. Single RSS samples swing by
    tens of MB with the model's working memory, and glibc may keep freed buffers after a
    busy moment; the heap in use moves only with what is really held, so a leak shows
    there first;
  * speed per 10-minute stretch, in wall time (real time / wall) and CPU seconds per
    10 minutes of audio; "no slowdown" compares the CPU of the last stretch with the first
    (CPU, because the machine is shared and wall time moves with other people's load).

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

GROWTH_LIMIT_MB = 30.0
SLOWDOWN_LIMIT = 1.15  # last stretch's CPU per audio minute against the first's (CPU time itself moves ~10 % with the other users of a shared machine)
STRETCH_MIN = 10
WINDOW_MIN = 10  # memory is compared as the median over this many minutes of samples


def rss_mb() -> float:
    """Current resident memory of this process (not the peak)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def heap_mb() -> float | None:
    """Bytes the C heap holds in use (glibc), MB; None where mallinfo2 is not available."""
    try:
        import ctypes

        class MallInfo2(ctypes.Structure):
            _fields_ = [(name, ctypes.c_size_t) for name in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                "keepcost")]

        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return None
    return (info.uordblks + info.hblkhd) / 2**20  # in use in the arenas + in mmapped chunks


class TiledSource:
    """The same call tile replayed back to back, on one call clock, through FileSource."""

    def __init__(self, channels: dict, total_s: float, gap_s: float):
        import numpy as np

        from callcoach.audio.block import SAMPLE_RATE
        from callcoach.audio.files import FileSource

        gap = np.zeros(int(gap_s * SAMPLE_RATE), np.float32)
        tile = {role: np.concatenate([x, gap]) for role, x in channels.items()}
        self._tile = FileSource(tile, realtime=False)
        self._tile_len = max(len(x) for x in tile.values())
        self._total = int(total_s * SAMPLE_RATE)
        self.laps = 0

    def blocks(self):
        from callcoach.audio.block import AudioBlock

        offset = 0
        while offset < self._total:
            self.laps += 1
            for block in self._tile.blocks():
                if offset + block.start >= self._total:
                    return
                yield AudioBlock(block.role, offset + block.start, block.samples)
            offset += self._tile_len

    def stop(self) -> None:
        self._tile.stop()
        self._total = 0


def structure_sizes(pipeline, writer) -> dict:
    """Lengths of everything a call keeps per utterance, tick or event."""
    coach, d = pipeline.coach, pipeline.coach.dynamics
    sizes = {
        "utterances_recorded": len(pipeline.recorder._utterances),
        "notices": len(pipeline.recorder._notices),
        "coach_heap": len(coach._heap),
        "prompts": len(coach.prompts),
        **{f"history_{k}": n for k, n in coach.history.sizes().items()},
        "talkovers_kept": len(d.talkovers),
    }
    if writer is not None:
        sizes["store_recorder_utterances"] = len(writer.recorder._utterances)
    return sizes


class Sampler:
    """A pipeline listener: a sample each time the Watermark passes the next mark."""

    def __init__(self, every_s: float):
        self.every_s = every_s
        self.next_t = 0.0
        self.samples: list[dict] = []
        self.pipeline = self.writer = None

    def __call__(self, event) -> None:
        while type(event).__name__ == "Watermark" and event.t >= self.next_t:  # each mark passed
            self.take(self.next_t)
            self.next_t += self.every_s

    def take(self, t: float) -> None:
        self.samples.append({"audio_min": round(t / 60, 1), "wall_s": time.monotonic(),
                             "cpu_s": time.process_time(), "rss_mb": round(rss_mb(), 1),
                             "heap_mb": _round(heap_mb()),
                             "sizes": structure_sizes(self.pipeline, self.writer)})


def run(minutes: float, gap_s: float, sample_every_min: float) -> dict:
    from callcoach.audio.files import read_call
    from callcoach.engine.engine import EngineSettings
    from callcoach.paths import asset_path
    from callcoach.pipeline import CallPipeline
    from callcoach.settings import Settings
    from callcoach.store import StoreWriter, default_store_path

    channels = read_call(asset_path("demo_call.flac"))
    source = TiledSource(channels, minutes * 60, gap_s)
    pipeline = CallPipeline(EngineSettings(partials=False), source_name="long_call")  # as analyze, fast mode
    writer = StoreWriter.attach(pipeline, default_store_path(Settings()), redact=True)
    sampler = Sampler(sample_every_min * 60)
    sampler.pipeline, sampler.writer = pipeline, writer
    pipeline.subscribe(sampler)
    pipeline.load()
    started_wall, started_cpu = time.monotonic(), time.process_time()
    summary = pipeline.run(source)
    writer.close()
    end_wall, end_cpu = time.monotonic(), time.process_time()
    after = {"rss_mb": round(rss_mb(), 1), "sizes": structure_sizes(pipeline, writer)}
    for s in sampler.samples:
        s["wall_s"] = round(s["wall_s"] - started_wall, 2)
        s["cpu_s"] = round(s["cpu_s"] - started_cpu, 2)
    return {
        "minutes": minutes, "gap_s": gap_s, "laps": source.laps,
        "duration_s": summary["duration_s"], "utterances": len(summary["utterances"]),
        "prompts": len(summary["prompts"]), "wall_s": round(end_wall - started_wall, 1),
        "cpu_s": round(end_cpu - started_cpu, 1), "samples": sampler.samples, "after_end": after,
        "writer_errors": list(writer.errors), "engine": summary["engine"],
    }


def stretches(samples: list[dict]) -> list[dict]:
    """Wall and CPU per STRETCH_MIN minutes of audio, from the samples on its boundaries."""
    at = {s["audio_min"]: s for s in samples}
    out = []
    start = 0.0
    while start + STRETCH_MIN in at and start in at:
        a, b = at[start], at[start + STRETCH_MIN]
        wall, cpu = b["wall_s"] - a["wall_s"], b["cpu_s"] - a["cpu_s"]
        out.append({"from_min": start, "to_min": start + STRETCH_MIN, "wall_s": round(wall, 1),
                    "cpu_s": round(cpu, 1), "x_realtime": round(STRETCH_MIN * 60 / wall, 1) if wall else None,
                    "rss_mb": b["rss_mb"]})
        start += STRETCH_MIN
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def _growth(samples: list[dict], key: str, end: float) -> tuple[float | None, float | None, float | None]:
    """(median early, median late, growth) of `key`: minutes 10-20 against the last 10."""
    early = [s[key] for s in samples if STRETCH_MIN <= s["audio_min"] <= STRETCH_MIN + WINDOW_MIN and s[key]]
    late = [s[key] for s in samples if s["audio_min"] >= end - WINDOW_MIN and s[key]]
    if not early or not late or end < STRETCH_MIN + 2 * WINDOW_MIN:
        return None, None, None
    a, b = statistics.median(early), statistics.median(late)
    return round(a, 1), round(b, 1), round(b - a, 1)


def verdict(result: dict) -> dict:
    """Memory: medians over minutes 10-20 and over the last 10 minutes, RSS and heap in use.
    Speed: the last stretch's CPU against the first's."""
    samples = result["samples"]
    end = samples[-1]["audio_min"]
    rss_early, rss_late, rss_growth = _growth(samples, "rss_mb", end)
    heap_early, heap_late, heap_growth = _growth(samples, "heap_mb", end)
    parts = stretches(samples)
    slowdown = parts[-1]["cpu_s"] / parts[0]["cpu_s"] if len(parts) >= 2 and parts[0]["cpu_s"] else None
    wall_slowdown = parts[-1]["wall_s"] / parts[0]["wall_s"] if len(parts) >= 2 and parts[0]["wall_s"] else None
    return {
        "stretches": parts,
        "rss_early_mb": rss_early, "rss_late_mb": rss_late, "growth_mb": rss_growth,
        "heap_early_mb": heap_early, "heap_late_mb": heap_late, "heap_growth_mb": heap_growth,
        "rss_max_mb": max(s["rss_mb"] for s in samples),
        "rss_after_summary_mb": result["after_end"]["rss_mb"],
        "cpu_last_over_first": _round(slowdown and round(slowdown, 3)),
        "wall_last_over_first": _round(wall_slowdown and round(wall_slowdown, 3)),
        "growth_ok": rss_growth is not None and rss_growth < GROWTH_LIMIT_MB
        and (heap_growth is None or heap_growth < GROWTH_LIMIT_MB),
        "speed_ok": slowdown is not None and slowdown <= SLOWDOWN_LIMIT,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}"


def report(result: dict, v: dict) -> str:
    every = max(1, round(5 / (result["samples"][1]["audio_min"] - result["samples"][0]["audio_min"])))
    lines = [f"Machine: {machine()}",
             f"Call: {result['duration_s'] / 60:.1f} min ({result['laps']} laps of the demo call + "
             f"{result['gap_s']:g} s silence), {result['utterances']} utterances, {result['prompts']} prompts; "
             f"{result['wall_s']:.0f} s wall, {result['cpu_s']:.0f} s CPU",
             "", "| Audio minutes | RSS MB | heap MB | wall s | CPU s | sizes |", "| --- | --- | --- | --- | --- | --- |"]
    for s in result["samples"][::every]:  # every 5 minutes
        sizes = ", ".join(f"{k}={n}" for k, n in s["sizes"].items())
        lines.append(f"| {s['audio_min']:g} | {s['rss_mb']:.1f} | {s['heap_mb']} | {s['wall_s']:.1f} | {s['cpu_s']:.1f} | "
                     f"{sizes} |")
    lines += ["", "| Stretch (min) | wall s | × real time | CPU s | RSS at end MB |", "| --- | --- | --- | --- | --- |"]
    for p in v["stretches"]:
        lines.append(f"| {p['from_min']:g}–{p['to_min']:g} | {p['wall_s']} | {p['x_realtime']} | {p['cpu_s']} | "
                     f"{p['rss_mb']} |")
    lines += ["", f"Median RSS over minutes {STRETCH_MIN}-{STRETCH_MIN + WINDOW_MIN}: {v['rss_early_mb']} MB, over the "
              f"last {WINDOW_MIN}: {v['rss_late_mb']} MB: growth {v['growth_mb']} MB (highest sample {v['rss_max_mb']} MB; "
              f"after the summary and the store's finish {v['rss_after_summary_mb']} MB)",
              f"Median heap in use, same windows: {v['heap_early_mb']} MB -> {v['heap_late_mb']} MB: growth "
              f"{v['heap_growth_mb']} MB",
              f"Memory growth limit {GROWTH_LIMIT_MB:g} MB -> {'ok' if v['growth_ok'] else 'FAIL'}",
              f"Last stretch against the first: CPU ×{v['cpu_last_over_first']}, wall ×{v['wall_last_over_first']} "
              f"(limit ×{SLOWDOWN_LIMIT:g} CPU) -> {'ok' if v['speed_ok'] else 'FAIL'}"]
    if result["writer_errors"]:
        lines.append(f"Store writer errors: {result['writer_errors']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=120.0, help="call length in minutes of audio")
    parser.add_argument("--gap", type=float, default=20.0, help="seconds of silence after each lap")
    parser.add_argument("--sample-every", type=float, default=1.0, help="audio minutes between samples")
    parser.add_argument("--json", help="write the raw results here")
    args = parser.parse_args()
    if STRETCH_MIN % args.sample_every:
        parser.error(f"--sample-every must divide {STRETCH_MIN}")
    # Private folders for the session store, logs and settings: never the user's own.
    base = Path(tempfile.mkdtemp(prefix="callcoach-long-call-"))
    for var, name in (("CALLCOACH_CONFIG_DIR", "config"), ("CALLCOACH_DATA_DIR", "data"),
                      ("CALLCOACH_LOG_DIR", "logs")):
        os.environ.setdefault(var, str(base / name))
    os.environ.setdefault("CALLCOACH_POLICY_FILE", str(base / "config" / "policy.toml"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    result = run(args.minutes, args.gap, args.sample_every)
    v = verdict(result)
    print(report(result, v))
    if args.json:
        Path(args.json).write_text(json.dumps({"result": result, "verdict": v, "machine": machine()}, indent=1))
    sys.exit(0 if v["growth_ok"] and v["speed_ok"] else 1)


if __name__ == "__main__":
    main()

"""Speakers instead of a headset: the customer's words on the agent channel, without and
with the echo stage, at each echo level.

Renders generated calls (tests/callgen.py), mixes the customer channel into the agent's
microphone 60 ms late at -25..-10 dB (tests/bleed.py), and runs each through the real
pipeline and model (fast, as `analyze` does) with the echo stage off and on. Prints per
level: agent words spoken where only the customer talks, customer-only words anywhere in
the agent's text, the agent's word error rate, what the stage found (delay, level), and
its CPU time per call second, in the pipeline (0.1 s blocks) and alone on 20 ms blocks
(a live device's smallest). `--latency` adds a real-time run of one call.

    .venv/bin/python -m benchmarks.speaker_bleed
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import soundfile as sf

from callcoach.audio.block import SAMPLE_RATE, AudioBlock
from callcoach.audio.files import FileSource, read_call
from callcoach.engine.echo import EchoCanceller, EchoSettings
from callcoach.engine.engine import EngineSettings
from callcoach.pipeline import CallPipeline
from tests import bleed, callgen
from tests.bleed import EchoPath

CALLS = {
    "double-talk": lambda: bleed.DOUBLE_TALK_CALL,
    "long": lambda: callgen.long_call(120, seed=1),
}
PATHS = [EchoPath(db) for db in (-25, -20, -15, -12, -10)] + [EchoPath(-12, room=True), EchoPath(-10, 0.2, room=True)]


def analyze(path: Path, echo: EchoSettings, realtime: bool = False):
    pipeline = CallPipeline(EngineSettings(partials=realtime, echo=echo), measure_latency=realtime)
    pipeline.load()
    summary = pipeline.run(FileSource(read_call(str(path)), realtime=realtime))
    return summary, pipeline.engine.echo.figures


def stage_alone_cpu(path: Path, block_s: float = 0.02) -> float:
    """The echo stage's thread CPU seconds per call second, fed 20 ms blocks."""
    stereo, _ = sf.read(str(path), dtype="float32")
    size = round(block_s * SAMPLE_RATE)
    canceller = EchoCanceller()
    for s in range(0, len(stereo), size):
        canceller.push(AudioBlock("agent", s, stereo[s : s + size, 0]))
        canceller.push(AudioBlock("customer", s, stereo[s : s + size, 1]))
    return canceller.figures.cpu_s / (len(stereo) / SAMPLE_RATE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", nargs="*", default=list(CALLS))
    parser.add_argument("--latency", action="store_true", help="also a real-time run of the -12 dB double-talk call")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rendered = {name: bleed.render_bleed_call(CALLS[name](), _folder(tmp, name), PATHS) for name in args.calls}
    print(f"{'path':18} {'leaked off/on':>13} {'cust. words off/on':>18} {'agent WER off/on':>16} "
          f"{'delay':>6} {'level':>6} {'CPU ms/s':>8} {'alone 20ms':>10}")
    for path in [None, *PATHS]:
        off = {"leaked": 0, "words": 0, "pairs": []}
        on = {"leaked": 0, "words": 0, "pairs": []}
        cpu = seconds = alone = 0.0
        found = []
        for truth, files in rendered.values():
            _score(off, truth, analyze(files[path], EchoSettings(enabled=False))[0])
            summary, figures = analyze(files[path], EchoSettings())
            _score(on, truth, summary)
            cpu += figures.cpu_s
            seconds += truth.duration
            alone += stage_alone_cpu(files[path]) * truth.duration
            found.append(figures)
        delay = "/".join("-" if f.delay_ms is None else f"{f.delay_ms:.0f}" for f in found)
        level = "/".join("-" if f.coupling_db is None else f"{f.coupling_db:.0f}" for f in found)
        print(f"{'headset' if path is None else path.name:18} {off['leaked']:>6}/{on['leaked']:<6} "
              f"{off['words']:>9}/{on['words']:<8} {callgen.corpus_wer(off['pairs']):>8.3f}/"
              f"{callgen.corpus_wer(on['pairs']):<7.3f} {delay:>6} {level:>6} {1000 * cpu / seconds:8.1f} "
              f"{1000 * alone / seconds:10.1f}")
    if args.latency:
        _latency(tmp)


def _score(totals: dict, truth: callgen.CallTruth, summary: dict) -> None:
    totals["leaked"] += len(bleed.leaked_words(summary, truth))
    totals["words"] += len(bleed.customer_words(summary, truth))
    totals["pairs"].append((truth.transcript("agent"), bleed.agent_text(summary)))


def _latency(tmp: Path) -> None:
    """Agent text latency (end of speech to final text) at real time, stage off and on."""
    path = EchoPath(-12)
    _, files = bleed.render_bleed_call(bleed.DOUBLE_TALK_CALL, _folder(tmp, "latency"), [path])
    for name, echo in (("off", EchoSettings(enabled=False)), ("on", EchoSettings())):
        started = time.process_time()
        summary, figures = analyze(files[path], echo, realtime=True)
        lags = [u["latency_s"] for u in summary["utterances"] if u["speaker"] == "agent"]
        print(f"real time, {path.name}, stage {name}: agent latency p50 {statistics.median(lags):.2f} s, "
              f"max {max(lags):.2f} s over {len(lags)} utterances; microphone held at most "
              f"{figures.max_held_s * 1000:.0f} ms; process CPU {time.process_time() - started:.1f} s")


def _folder(tmp: Path, name: str) -> Path:
    folder = tmp / name
    folder.mkdir()
    return folder


if __name__ == "__main__":
    main()

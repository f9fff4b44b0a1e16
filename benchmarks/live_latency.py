"""The live path, measured with an outside clock: generated calls played into virtual devices,
`callcoach listen --events` in its own process, each line it prints stamped by this process.

For every turn of every call: the latency from the moment the turn's last word was played
(paplay started, with 20 ms of buffering like a softphone, + the turn's end in the file) to the moment its final text line appeared.
And the CPU the listen process used during the call (its user + system time over the wall
time of the call, in % of one core).

    .venv/bin/python -m benchmarks.live_latency [--server pulseaudio|pipewire] [--calls 3] [--json OUT]

Runs on a private sound server (tests/sound_servers.py) with a "Test Headset" (the earpiece
the customer is played into) and a "Test Microphone" (fed by its own sink).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests import callgen as cg
from tests.listen_harness import Line, Listen
from tests.sound_servers import STARTERS, TEST_HEADSET, TEST_MIC_FEED

A, C = cg.AGENT, cg.CUSTOMER
CALLS = [
    [cg.Turn(A, "Thank you for calling, this is Sam. How can I help you today?"),
     cg.Turn(C, "I have been waiting three weeks for my refund and nobody has called me back."),
     cg.Turn(A, "I am sorry about that. Let me look into the refund for you."),
     cg.Turn(C, "It was supposed to be back in my account ten days ago."),
     cg.Turn(A, "I can see it here. It was sent yesterday, so it should arrive by Friday."),
     cg.Turn(C, "Fine. Please send me an email when it goes through.")],
    [cg.Turn(C, "Hi, I would like to move my internet to a new address at the end of the month."),
     cg.Turn(A, "Sure, I can set that up for you. What is the new address?"),
     cg.Turn(C, "It is number twelve, Station Road, and we move in on the thirtieth."),
     cg.Turn(A, "Thank you. I have booked the move for the thirtieth, between eight and noon."),
     cg.Turn(C, "Great, thanks for your help.")],
    [cg.Turn(A, "Good morning, billing department, this is Alex speaking."),
     cg.Turn(C, "Why was I charged twice this month? This is the second time it has happened."),
     cg.Turn(A, "I understand how frustrating that is. Let me check your last two bills."),
     cg.Turn(C, "I want the extra charge refunded today, not next week."),
     cg.Turn(A, "I have refunded the second charge now. You will see it within three days.")],
]
MATCH_SLACK_S = 1.0  # an utterance belongs to a turn it overlaps within this much


@dataclass(frozen=True)
class TurnLatency:
    call: int
    speaker: str
    latency_s: float | None  # None: no text line for this turn


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def turn_latencies(index: int, truth: cg.CallTruth, lines: list[Line], played_at: float,
                   call_zero: float) -> list[TurnLatency]:
    """Match each turn to the final text lines that overlap it, by call time: the call
    clock starts about when `ready` is printed (`call_zero`), the file at `played_at`."""
    offset = played_at - call_zero
    out = []
    for turn in truth.turns:
        start, end = offset + turn.start, offset + turn.end
        mine = [line for line in lines if line.event.get("type") == "utterance" and line.event["speaker"] ==
                turn.speaker and line.event["start"] < end + MATCH_SLACK_S and line.event["end"] > start - MATCH_SLACK_S]
        heard = max((line.at for line in mine), default=None)
        out.append(TurnLatency(index, turn.speaker, None if heard is None else heard - (played_at + turn.end)))
    return out


def run_call(server, index: int, script, folder: Path) -> tuple[list[TurnLatency], float]:
    truth = cg.render_call(script, folder / f"call{index}.wav", trailing_silence=1.0)
    (folder / f"call{index}").mkdir()
    wavs = cg.split_for_sinks(truth.path, folder / f"call{index}")
    listen = Listen("--mic", "Test Microphone", "--call-output", "Test Headset", "--no-store",
                    env=server.client_env())
    try:
        ready_at = listen.ready(120)
        cpu_before, wall_before = cpu_seconds(listen.proc.pid), time.monotonic()
        played_at = time.monotonic()
        players = [play(server, wavs[A], TEST_MIC_FEED), play(server, wavs[C], TEST_HEADSET)]
        for player in players:
            player.wait(120)
        # Every turn's text, or 10 s past the end of the call.
        n_turns = len(truth.turns)
        listen.wait_for(lambda lines: len(turn_latencies(index, truth, lines, played_at, ready_at)) == n_turns
                        and all(t.latency_s is not None
                                for t in turn_latencies(index, truth, lines, played_at, ready_at)), 10)
        cpu = (cpu_seconds(listen.proc.pid) - cpu_before) / (time.monotonic() - wall_before)
    finally:
        listen.stop()
    return turn_latencies(index, truth, listen.lines, played_at, ready_at), cpu


def play(server, path: Path, sink: str) -> subprocess.Popen:
    """paplay with 20 ms of buffering, like a softphone: paplay's default (about 2 s) would
    put the sound on the output seconds after we stamped it as played."""
    return subprocess.Popen(["paplay", "--latency-msec=20", f"--device={sink}", str(path)], env=server.client_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=sorted(STARTERS), default="pulseaudio")
    parser.add_argument("--calls", type=int, default=len(CALLS))
    parser.add_argument("--json", metavar="OUT")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="live-latency-") as tmp:
        folder = Path(tmp)
        server = STARTERS[args.server](folder / "server")
        try:
            server.add_test_devices()
            results, cpus = [], []
            for index in range(args.calls):
                turns, cpu = run_call(server, index, CALLS[index % len(CALLS)], folder)
                results += turns
                cpus.append(cpu)
                heard = [t.latency_s for t in turns if t.latency_s is not None]
                print(f"call {index}: {len(heard)}/{len(turns)} turns heard, latency "
                      + ", ".join(f"{x:.2f}" for x in heard) + f" s; CPU {100 * cpu:.0f} % of one core", flush=True)
        finally:
            server.stop()
    latencies = [t.latency_s for t in results if t.latency_s is not None]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "server": args.server, "calls": args.calls, "turns": len(results), "turns_heard": len(latencies),
        "latency_p50_s": round(statistics.median(latencies), 2), "latency_p95_s": round(percentile(latencies, 0.95), 2),
        "latency_max_s": round(max(latencies), 2), "cpu_percent_of_one_core": round(100 * statistics.mean(cpus), 1),
    }
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({**report, "turn_latencies": [t.__dict__ for t in results]}, indent=1))


if __name__ == "__main__":
    main()

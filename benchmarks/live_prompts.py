"""Prompts live, measured with an outside clock: generated calls played into virtual devices,
`callcoach listen --events` in its own process, each prompt line stamped by this process.

Each call holds one measured moment, the evidence for one prompt, and the latency is from
the moment that evidence happens in the played audio (paplay started, with 20 ms of
buffering like a softphone, + its time in the file) to the moment the prompt line appears:

* let_them_finish (talk-over): the rule wants the agent's second talk-over in a minute, and
  an overlap counts once it has lasted the backchannel time (1 s; shorter is "uh-huh"). The
  evidence is the second overlap's start + 1 s; its latency from the overlap's own start is
  reported too.
* update_progress (dead air after "one moment"): the end of the agent's hold line + the
  rule's silence threshold.
* stay_calm (raised voice): the start of the customer's loud turn (16 dB over the earlier
  ones) + 1.28 s, the ten levels (one per 128 ms) the rule takes the median of.
* escalate and set_boundary (critical cues: a manager demand, a cancellation threat, abuse):
  the end of the cue's words. The turn is rendered as two pieces 0.1 s apart (one utterance
  to the engine), so the cue's end is known; some calls end the utterance with the cue,
  others go on for seconds after it, where partial text is what can be early.
* slow_down (the customer asks) and positive_language (the agent's refusal): the end of the
  request or refusal, which ends the utterance: these rules go by final text.

Every measured prompt is the first of its call that the scheduler could hold back (nothing
else in the call raises a prompt before it, and critical prompts always show at once), so
the spacing between non-critical prompts never delays it.

    .venv/bin/python -m benchmarks.live_prompts [--server pulseaudio|pipewire] [--repeat 1]
                                                [--only NAME] [--json OUT]

Runs on a private sound server (tests/sound_servers.py) with a "Test Headset" (the earpiece
the customer is played into) and a "Test Microphone" (fed by its own sink).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.live_latency import percentile, play
from callcoach.coach.dynamics import Dynamics
from callcoach.coach.playbook import load_playbook
from tests import callgen as cg
from tests.listen_harness import Listen
from tests.sound_servers import STARTERS, TEST_HEADSET, TEST_MIC_FEED

A, C = cg.AGENT, cg.CUSTOMER
Turn = cg.Turn
BACKCHANNEL_S = Dynamics().backchannel_s
# Dynamics.raised_voice needs 10 Level events of the turn; one comes per 4 VAD chunks (128 ms).
RAISED_WINDOW_S = 1.28
LOUDER_DB = 16.0  # clearly over the rule's 6 dB: the latency measured is not a borderline level's
QUIET_DB = -32.0  # calls with a raised voice are rendered quieter, so the loud turn does not clip
AGENT_WPM = 160.0
WAIT_AFTER_S = 5.0  # after the call ends, for a late prompt
CUE_GAP_S = 0.1  # between a cue's words and what follows: one utterance to the engine


@dataclass(frozen=True)
class Case:
    """A call and where its measured evidence is: turn `turn`'s start or end + `after_s`."""

    name: str
    kind: str  # the prompt kind it must raise
    turns: tuple[Turn, ...]
    turn: int
    at: str  # "start" | "end"
    after_s: float = 0.0
    louder: bool = False  # turn `turn` is played LOUDER_DB louder than the rest


def _hold_threshold() -> float:
    rule = next(r for r in load_playbook()[0].rules if r.id == "progress-after-hold")
    return dict(rule.conditions)["dead_air_at_least_s"]


def _agent(text: str, **kw) -> Turn:
    """The agent at an unhurried pace: espeak's own rate can be over the pace band, and a
    pace prompt would come first and hold the measured one back."""
    return Turn(A, text, wpm=AGENT_WPM, **kw)


OPENING = (_agent("Thank you for calling, this is Sam. How can I help you today?"),)

TALK_OVER = Case("talk_over", "let_them_finish", OPENING + (
    Turn(C, "Hi, I am calling about the internet at my flat. It drops out every evening around seven, "
            "and comes back after about twenty minutes."),
    _agent("Okay, so it drops every evening, I can check the line for that.", overlap=2.5),
    Turn(C, "Yes, and I already restarted the router twice, and I also changed the cable to the wall "
            "socket, but it drops at the same time every evening, even at the weekend.", gap_before=0.6),
    _agent("Right, right, I understand, let me just run a test on the line and see what the signal "
            "looks like.", overlap=4.0),
    Turn(C, "Okay.", gap_before=1.0),
), turn=4, at="start", after_s=BACKCHANNEL_S)

CASES = [
    TALK_OVER,
    Case("talk_over_short_turns", "let_them_finish", (
        Turn(C, "Hello, I would like to change the date of my engineer visit, it is booked for Tuesday "
                "morning but I will be at work then."),
        _agent("Sure, what day would suit you better?", overlap=1.8),
        Turn(C, "Thursday or Friday would be fine, any time after two in the afternoon, because I finish "
                "work early on those days.", gap_before=0.5),
        _agent("Okay, Thursday afternoon, I can see a slot at three.", overlap=2.2),
        Turn(C, "Three is fine, thank you.", gap_before=0.8),
    ), turn=3, at="start", after_s=BACKCHANNEL_S),
    Case("dead_air_after_one_moment", "update_progress", OPENING + (
        Turn(C, "Hi, could you tell me when my new router will be delivered?"),
        _agent("Sure, let me check that for you, one moment please."),
        Turn(C, "Okay, thank you.", gap_before=_hold_threshold() + 4.0),
    ), turn=2, at="end", after_s=_hold_threshold()),
    Case("dead_air_let_me_check", "update_progress", (
        Turn(C, "Hello, I paid my bill on Monday but the website still shows it as open."),
        _agent("Let me pull up your account, just a moment please."),
        Turn(C, "Sure.", gap_before=_hold_threshold() + 4.0),
    ), turn=1, at="end", after_s=_hold_threshold()),
    Case("raised_voice", "stay_calm", OPENING + (
        Turn(C, "Hello, I am calling about my broadband contract, I would like to know when it ends."),
        _agent("Of course, can I have your account number please?"),
        Turn(C, "Yes, it is four five six seven eight nine, and the account is in my name, Daniel Brown."),
        _agent("Thank you, Daniel. Can you tell me where the router is?"),
        Turn(C, "The router is in the living room, next to the television, and all the lights on it are red."),
    ), turn=5, at="start", after_s=RAISED_WINDOW_S, louder=True),
    Case("manager_demand_at_the_end", "escalate", OPENING + (
        Turn(C, "This is the second time I am calling about the same bill, and I want to speak to your manager."),
        _agent("Of course.", gap_before=3.0),
    ), turn=1, at="end"),
    Case("manager_demand_then_2_s", "escalate", OPENING + (
        Turn(C, "This is the second time I am calling about the same bill, and I want to speak to your manager"),
        Turn(C, "right now, please, because nobody has fixed it.", gap_before=CUE_GAP_S),
        _agent("Of course.", gap_before=3.0),
    ), turn=1, at="end"),
    Case("manager_demand_then_5_s", "escalate", OPENING + (
        Turn(C, "Get me your supervisor"),
        Turn(C, "on the phone, because I have explained this three times now and every time somebody "
                "promises to call me back and nobody ever does.", gap_before=CUE_GAP_S),
        _agent("I understand.", gap_before=3.0),
    ), turn=1, at="end"),
    Case("cancel_threat_then_4_s", "escalate", OPENING + (
        Turn(C, "If this is not sorted out by Friday I am going to cancel"),
        Turn(C, "my contract and move everything to another provider, the phone line and the television too.",
             gap_before=CUE_GAP_S),
        _agent("I understand, let me see what I can do.", gap_before=3.0),
    ), turn=1, at="end"),
    Case("legal_threat_then_3_s", "escalate", OPENING + (
        Turn(C, "I will be talking to my lawyer"),
        Turn(C, "about this, because you took the money twice and you still have not paid it back.",
             gap_before=CUE_GAP_S),
        _agent("I understand.", gap_before=3.0),
    ), turn=1, at="end"),
    Case("abuse_then_3_s", "set_boundary", OPENING + (
        Turn(C, "You people are useless"),
        Turn(C, "and I do not know why I even bother calling this number any more.", gap_before=CUE_GAP_S),
        _agent("I am sorry you feel that way.", gap_before=3.0),
    ), turn=1, at="end"),
    Case("slow_down_request", "slow_down", OPENING + (
        Turn(C, "Hi, I would like to know why my bill is higher this month."),
        _agent("I can see that your discount ended last month, so the plan went back to the standard "
                "price, and the router rental was added on the same bill."),
        Turn(C, "Sorry, could you slow down a little, please?"),
        _agent("Of course.", gap_before=3.0),
    ), turn=3, at="end"),
    Case("positive_language", "positive_language", (
        Turn(C, "Hello, I would like a refund for the phone I returned last week."),
        _agent("I have checked your account, and the refund was declined. Unfortunately that is our "
                "policy, there is nothing I can do."),
        Turn(C, "Oh. Okay.", gap_before=3.0),
    ), turn=1, at="end"),
]


@dataclass(frozen=True)
class Measured:
    case: str
    kind: str
    evidence_s: float  # call time of the evidence in the file
    latency_s: float | None  # None: no such prompt line
    from_partial: bool | None
    before: tuple[str, ...]  # prompt kinds shown earlier in the call (none expected)
    heard: tuple[str, ...]  # the final text lines, "speaker: text"
    from_overlap_start_s: float | None = None  # talk-over only
    title: str | None = None  # the prompt's title: which rule of its kind fired
    prompt_t_s: float | None = None  # the call time the coach stamped it with


@dataclass(frozen=True)
class Rendered:
    truth: cg.CallTruth
    evidence: float  # call time of the evidence in the file
    wavs: dict[str, Path]  # each side, for its sink


def render(case: Case, folder: Path) -> Rendered:
    level = QUIET_DB if case.louder else cg.DEFAULT_SPEECH_DB
    truth = cg.render_call(case.turns, folder / "call.wav", trailing_silence=1.0, speech_db=level)
    turn = truth.turns[case.turn]
    if case.louder:
        _louder(truth.path, C, turn.start, turn.end)
    evidence = (turn.start if case.at == "start" else turn.end) + case.after_s
    return Rendered(truth, evidence, cg.split_for_sinks(truth.path, folder))


def _louder(path: str, role: str, start: float, end: float) -> None:
    audio, rate = sf.read(path, dtype="float32")
    column = 0 if role == A else 1
    audio[int(start * rate):int(end * rate), column] *= 10 ** (LOUDER_DB / 20)
    sf.write(path, np.clip(audio, -1, 1), rate, subtype="PCM_16")


def run_case(server, case: Case, folder: Path) -> Measured:
    call = render(case, folder)
    evidence, wavs = call.evidence, call.wavs
    listen = Listen("--mic", "Test Microphone", "--call-output", "Test Headset", "--no-store",
                    env=server.client_env())
    try:
        listen.ready(120)
        played_at = time.monotonic()
        players = [play(server, wavs[A], TEST_MIC_FEED), play(server, wavs[C], TEST_HEADSET)]
        listen.wait_for(lambda lines: any(_is(line, case.kind) for line in lines),
                        call.truth.duration + WAIT_AFTER_S)
        for player in players:
            player.wait(120)
    finally:
        listen.stop()
    prompts = [line for line in listen.lines if line.event.get("type") == "prompt"]
    hit = next((line for line in prompts if line.event["kind"] == case.kind), None)
    before = tuple(line.event["kind"] for line in prompts[:prompts.index(hit) if hit else len(prompts)])
    latency = None if hit is None else round(hit.at - (played_at + evidence), 3)
    overlap = round(latency + case.after_s, 3) if hit and case.kind == "let_them_finish" else None
    heard = tuple(f'{line.event["speaker"]}: {line.event["text"]}' for line in listen.of("utterance"))
    return Measured(case.name, case.kind, round(evidence, 3), latency,
                    hit.event.get("from_partial") if hit else None, before, heard, overlap,
                    hit.event["title"] if hit else None, hit.event["t"] if hit else None)


def _is(line, kind: str) -> bool:
    return line.event.get("type") == "prompt" and line.event.get("kind") == kind


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50_s": round(statistics.median(values), 2),
            "p95_s": round(percentile(values, 0.95), 2), "max_s": round(max(values), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=sorted(STARTERS), default="pulseaudio")
    parser.add_argument("--repeat", type=int, default=1, help="play every call this many times")
    parser.add_argument("--only", action="append", help="only this call (by name; may be repeated)")
    parser.add_argument("--json", metavar="OUT")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c.name in args.only]
    results: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="live-prompts-") as tmp:
        server = STARTERS[args.server](Path(tmp) / "server")
        try:
            server.add_test_devices()
            for round_ in range(args.repeat):
                for case in cases:
                    folder = Path(tmp) / f"{case.name}-{round_}"
                    folder.mkdir()
                    m = run_case(server, case, folder)
                    results.append(m)
                    print(f"{m.case}: {m.kind} " + ("never shown" if m.latency_s is None else
                          f"{m.latency_s:+.2f} s, {m.title!r}" + (" (from partial text)" if m.from_partial else ""))
                          + (f"; shown before it: {', '.join(m.before)}" if m.before else ""), flush=True)
        finally:
            server.stop()
    heard = [m for m in results if m.latency_s is not None]
    by_kind = {kind: summary([m.latency_s for m in heard if m.kind == kind])
               for kind in dict.fromkeys(m.kind for m in results)}
    overlaps = [m.from_overlap_start_s for m in heard if m.from_overlap_start_s is not None]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "server": args.server, "calls": len(results), "prompts_shown": len(heard),
        "all": summary([m.latency_s for m in heard]), "by_kind": by_kind,
        "talk_over_from_overlap_start": summary(overlaps),
        "from_partial": sum(bool(m.from_partial) for m in heard),
    }
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({**report, "calls_measured": [asdict(m) for m in results]}, indent=1))


if __name__ == "__main__":
    main()

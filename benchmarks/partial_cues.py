"""Critical cues from partial text: how often the final text takes them back.

Every generated call with a customer (the scenario tests', the alert-fatigue benchmark's, the
live benchmarks', the demo call, three written here full of cues in mid-sentence and of
near misses that a partial cut just after the cue would get wrong: "speak to the manager |
of the Leeds branch", "cancel | the appointment", and `--generated` more made of such
lines at random, half of them in an espeak voice) is run through the real pipeline at real
time, so partial text comes as on a live call. The partials the coach saw are replayed
through `EarlyCues`; each cue it would act on (two consecutive partials agree) is checked
against the final text of its utterance: contradicted when the final text lacks the cue (or
the utterance has no final text). The final text can be the one that is wrong (tiny.en
mishears a threat the partials had right), so each is also checked against the script: the
line the customer was saying, scored the same way (wrong when it lacks the cue; the demo
call has no script). Also counted: the prompts raised from partials, and, for comparison,
every single partial holding a critical cue (what acting on one partial would do).

    .venv/bin/python -m benchmarks.partial_cues [--generated 10] [--seed 0] [--only NAME] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.alert_fatigue import CALLS as DIFFICULT_CALLS
from benchmarks.live_latency import CALLS as LIVE_CALLS
from benchmarks.live_prompts import CASES
from callcoach.audio.files import FileSource, read_call
from callcoach.coach.early_cues import EarlyCues
from callcoach.coach.events import Prompt
from callcoach.coach.playbook import load_playbook
from callcoach.coach.sentiment import score
from callcoach.engine.engine import EngineSettings
from callcoach.engine.events import Partial, Utterance
from callcoach.paths import asset_path
from callcoach.pipeline import CallPipeline
from tests import callgen
from tests.callgen import Turn, TurnTruth
from tests.test_coaching_scenarios import SLOW_DOWN_REQUEST

A, C = callgen.AGENT, callgen.CUSTOMER


def _exchange(lines: list[str], replies=("I see.", "Okay.", "I understand.", "Right.")) -> list[Turn]:
    turns = [Turn(A, "Thank you for calling, how can I help?", wpm=160)]
    for i, line in enumerate(lines):
        turns += [Turn(C, line), Turn(A, replies[i % len(replies)], wpm=160, gap_before=0.8)]
    return turns


# Written for this benchmark: cues in mid-sentence, and near misses the final text clears.
MID_SENTENCE = _exchange([
    "I want to speak to your manager right now, because nobody here seems to know what is going on.",
    "Can I speak to the manager of the Leeds branch, or do you not have a number for them?",
    "If this is not fixed by Monday I am going to cancel my contract and go to another provider.",
    "If the engineer does not come on Friday I am going to cancel the appointment and rebook it myself.",
    "Put me through to a supervisor, please, I have explained this too many times already.",
    "I need a manager for my account, someone who knows the history of all of this.",
    "I am going to take you to court over this, I have kept every letter you sent me.",
    "I want to talk to a manager about the job you advertised last week, is that possible?",
])
NEAR_MISSES = _exchange([
    "You people are useless, I have never had service this bad from any company in my life.",
    "Can I speak to the supervisor at your Manchester office, please, they know my case.",
    "I will be speaking to my solicitor tomorrow morning about the money you took from me.",
    "If nobody calls me back I am going to cancel the order and buy the phone somewhere else.",
    "Is there anyone in charge I can talk to, because this conversation is going nowhere.",
    "Get me your supervisor on the line, I am not repeating the whole story again.",
    "I need a supervisor for the installation team, the last one never turned up.",
    "Then get me someone else who can actually help, I am not going through this again.",
])
LONG_COMPLAINT = _exchange([
    "I have been a customer for twelve years and if you do not sort this out today I am going to "
    "switch to another provider, and I will tell everyone I know why.",
    "I want to speak to your supervisor about the charges on my last three bills, which nobody "
    "has been able to explain to me.",
    "Honestly, you are incompetent, all of you, I have called four times and every time I get a "
    "different answer.",
    "I am going to talk to my lawyer about this if the money is not back in my account by Friday.",
    "Can I talk to the manager in charge of billing, because the last person said she would call "
    "me back and she never did.",
])


CUES = ["I want to speak to your manager", "Put me through to a supervisor", "Let me speak to your boss",
        "I need to talk to someone in charge", "Can I speak to someone else", "I am going to cancel my contract",
        "If this is not fixed today I am going to switch to another provider", "I will be talking to my lawyer",
        "I am going to take you to court", "You people are useless", "You are completely incompetent"]
NEAR = ["Can I speak to the manager of the Leeds branch", "I need a manager for my account",
        "Can I talk to the supervisor at your Manchester office", "I would like to speak to the manager in the shop",
        "If the engineer does not come I am going to cancel the appointment",
        "If the parcel is late again I will cancel the order", "I want to talk to a manager about the job you advertised",
        "My manager at work told me to call", "I spoke to a supervisor yesterday"]
AFTER = ["because nobody has been able to help me so far", "and I want it sorted out today",
         "since this is the third time I have called about the same problem", "before the end of the week, please",
         "because the bill is wrong again this month", "I have explained everything twice already"]


def generated(n: int, lines: int = 12, seed: int = 0) -> dict[str, list[Turn]]:
    """Calls of cue and near-miss lines, each going on after the cue, at random."""
    rng = random.Random(seed)
    made = {}
    for i in range(n):
        voice = None if i % 2 == 0 else "espeak:en-us+f3"
        said = [f"{rng.choice(CUES if rng.random() < 0.6 else NEAR)}, {rng.choice(AFTER)}." for _ in range(lines)]
        made[f"generated_{i}"] = [Turn(t.speaker, t.text, t.gap_before, t.wpm, voice if t.speaker == C else None)
                                  for t in _exchange(said)]
    return made


def calls(n_generated: int, seed: int = 0) -> dict[str, list[Turn] | Path]:
    found: dict[str, list[Turn] | Path] = {"mid_sentence": MID_SENTENCE, "near_misses": NEAR_MISSES,
                                          "long_complaint": LONG_COMPLAINT, "slow_down_request": SLOW_DOWN_REQUEST,
                                          "demo_call": asset_path("demo_call.flac")}
    found.update(DIFFICULT_CALLS)
    found.update({f"live_latency_{i}": script for i, script in enumerate(LIVE_CALLS)})
    found.update({f"live_prompts_{case.name}": list(case.turns) for case in CASES})
    found.update(generated(n_generated, seed=seed))
    return found


@dataclass(frozen=True)
class Check:
    call: str
    partial: str  # the partial text that held the cue (the second of two, for a stable cue)
    cues: tuple[str, ...]
    final: str | None  # the utterance's final text (None: it had none)
    contradicted: bool  # the final text lacks the cues
    said: str | None  # the script's line the customer was saying (None: no script)
    wrong: bool | None  # the script's line lacks the cues: the customer never said them (None: no script)


def run(path: Path) -> tuple[list[Partial], list[Utterance], list[Prompt]]:
    """The call at real time through the pipeline, as `analyze --realtime` runs it."""
    pipeline = CallPipeline(EngineSettings(partials=True), measure_latency=True)
    events: list = []
    pipeline.subscribe(events.append)
    pipeline.load()
    pipeline.run(FileSource(read_call(str(path)), realtime=True))
    return ([e for e in events if isinstance(e, Partial)], [e for e in events if isinstance(e, Utterance)],
            [e for e in events if isinstance(e, Prompt)])


def checks(name: str, partials: list[Partial], finals: list[Utterance], prompts: list[Prompt],
           script: list[TurnTruth] | None):
    """(stable cues, prompts from partials, single partials with a cue), each checked against
    the final text and the customer's lines in the `script`."""
    early = EarlyCues(load_playbook()[0].rules)
    watched = {c for r in early.rules for key, v in r.conditions if key == "customer_cues_any" for c in v}
    customer = [u for u in finals if u.role == C]
    stable, single = [], []
    for p in partials:  # in the order the coach got them
        cue = early.partial(p)
        final = _final_of(p.start, customer)
        said = _said_at(p.start, script)
        if cue is not None:
            stable.append(_check(name, p.text, cue.cues, final, said))
        seen = set(score(p.text, C).cues) & watched if p.role == C else set()
        if seen:
            single.append(_check(name, p.text, seen, final, said))
    rules = {r.id: r for r in early.rules}
    raised = []
    for p in prompts:
        if p.from_partial:
            final = _final_at(p.t, customer)
            said = _said_at(final.start if final else p.t, script)
            raised.append(_check(name, p.because, _cues_of(rules[p.rule]), final, said, any_of=True))
    return stable, raised, single


def _cues_of(rule) -> set[str]:
    return {c for key, v in rule.conditions if key == "customer_cues_any" for c in v}


def _final_of(onset: float, finals: list[Utterance]) -> Utterance | None:
    return next((u for u in finals if u.start <= onset + 1e-6 < u.end), None)


def _final_at(t: float, finals: list[Utterance]) -> Utterance | None:
    """The customer's utterance a partial prompt at `t` came from (t is up to a hangover past its end)."""
    return next((u for u in finals if u.start <= t <= u.end + 1.0), None)


def _said_at(onset: float, script: list[TurnTruth] | None) -> TurnTruth | None:
    """The customer's line being said at `onset` (voice activity may start a little before it)."""
    if script is None:
        return None
    return min((t for t in script if t.start - 0.5 <= onset <= t.end), key=lambda t: abs(t.start - onset),
               default=None)


def _check(name: str, text: str, cues, final: Utterance | None, said: TurnTruth | None,
           any_of: bool = False) -> Check:
    """Contradicted unless the final text has the cues (`any_of`: one of them, as a rule needs);
    wrong unless the script's line has them."""
    def has(words: str | None) -> bool:
        found = set(score(words, C).cues) if words else set()
        return bool(set(cues) & found) if any_of else set(cues) <= found

    return Check(name, text, tuple(sorted(cues)), final.text if final else None, not has(final and final.text),
                 said.text if said else None, None if said is None else not has(said.text))


def rate(items: list[Check]) -> dict:
    """Taken back by the final text; and, where there is a script, wrong against it."""
    bad = sum(c.contradicted for c in items)
    scripted = [c for c in items if c.wrong is not None]
    wrong = sum(c.wrong for c in scripted)
    return {"n": len(items), "contradicted": bad, "rate": round(bad / len(items), 4) if items else None,
            "with_script": len(scripted), "wrong": wrong,
            "wrong_rate": round(wrong / len(scripted), 4) if scripted else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=10, help="calls of random cue lines (12 each)")
    parser.add_argument("--seed", type=int, default=0, help="of the random calls: another seed, other calls")
    parser.add_argument("--only", action="append", help="only this call (by name; may be repeated)")
    parser.add_argument("--json", metavar="OUT")
    args = parser.parse_args()
    stable, raised, single = [], [], []
    with tempfile.TemporaryDirectory(prefix="partial-cues-") as tmp:
        for name, call in calls(args.generated, args.seed).items():
            if args.only and name not in args.only:
                continue
            path, script = call, None
            if not isinstance(call, Path):
                path = Path(tmp) / f"{name}.wav"
                script = callgen.render_call(call, path).for_speaker(C)
            s, r, one = checks(name, *run(path), script)
            stable, raised, single = stable + s, raised + r, single + one
            print(f"{name}: {len(s)} stable cues ({sum(c.contradicted for c in s)} contradicted, "
                  f"{sum(bool(c.wrong) for c in s)} wrong), {len(r)} prompts from partials "
                  f"({sum(c.contradicted for c in r)} contradicted), {len(one)} single partials with a cue "
                  f"({sum(c.contradicted for c in one)} contradicted)", flush=True)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "stable_cues": rate(stable), "prompts_from_partials": rate(raised), "single_partials": rate(single),
        "contradicted_or_wrong": [asdict(c) for c in stable + raised if c.contradicted or c.wrong],
        "single_contradicted": [asdict(c) for c in single if c.contradicted],
    }
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({**report, "stable": [asdict(c) for c in stable]}, indent=1))


if __name__ == "__main__":
    main()

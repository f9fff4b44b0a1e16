"""Alert fatigue: how often the coach prompts on difficult calls, and what it held back.

Every generated difficult call (the scenario tests' and three more written for this
benchmark, which no rule was tuned on) is rendered with the test voices and run through
`analyze` with the real model. Per call and over all of them: non-critical and critical
prompts shown, prompts per minute, the shortest and the mean gap between non-critical
prompts (median too), and how many prompts the scheduler held back (then shown late) or dropped.

    .venv/bin/python -m benchmarks.alert_fatigue [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
from pathlib import Path

from callcoach.analyze import analyze_call
from callcoach.settings import Settings
from tests import callgen
from tests.callgen import Turn
from tests.test_coaching_scenarios import (DIFFICULT_CALL, MANAGER_DEMAND, POLICY_LINE_SOON_AFTER_A_PROMPT,
                                           SILENCE_SOON_AFTER_A_PROMPT)

A, C = callgen.AGENT, callgen.CUSTOMER

# Written for this benchmark after the scheduler was built; no rule was tuned on them.
BROADBAND_CANCELLATION = [
    Turn(A, "Good afternoon, you are through to broadband support, my name is Priya."),
    Turn(C, "My internet has dropped out every evening for two weeks and I work from home."),
    Turn(A, "I am sorry to hear that. Can you tell me when it started exactly?"),
    Turn(C, "I told the last person all of this. Do you not keep notes?"),
    Turn(A, "I can see a note from last Tuesday. They booked a line test that came back clear."),
    Turn(C, "Clear? It is not clear, it drops every single night at eight."),
    Turn(A, "Let me run another test on the line now, it takes a minute.", gap_before=1.0),
    Turn(A, "The test shows a fault outside your home, so an engineer needs to visit.", gap_before=15.0),
    Turn(C, "The earliest you offered last time was in ten days. That is useless to me."),
    Turn(A, "That is the first slot we have, there is nothing else available.", wpm=215),
    Turn(C, "Then I want to cancel my contract. I am not paying for a service that does not work."),
    Turn(A, "I understand. Before you do that, let me see what I can offer you today."),
    Turn(C, "Fine, but be quick."),
    Turn(A, "I can book a priority visit for Thursday and credit you for the two weeks."),
    Turn(C, "Thursday is better. Okay, do that.", gap_before=1.0),
]
BILLING_ABUSE = [
    Turn(C, "You have charged me forty pounds for calls I never made."),
    Turn(A, "I am sorry about that, let me look at the bill with you."),
    Turn(C, "You people are useless, absolutely useless, every month it is something."),
    Turn(A, "I can see three calls to an international number on the fifth.", overlap=1.5),
    Turn(C, "I did not make them! Are you even listening to me?"),
    Turn(A, "I am listening. Those calls were made from your line, so I have to ask.", overlap=1.0),
    Turn(C, "Stop interrupting me. This is the third time I have called about this."),
    Turn(A, "You are right, I am sorry. Please go on.", gap_before=1.0),
    Turn(C, "I want the charge removed, and I want it in writing."),
    Turn(A, "I have removed the forty pounds and I will email you the confirmation now."),
    Turn(C, "Thank you. That is all I wanted.", gap_before=1.0),
]
DELAYED_DELIVERY = [
    Turn(A, "Thanks for calling, this is Leo. How can I help?"),
    Turn(C, "My sofa was supposed to arrive on Saturday. I took the day off and nobody came."),
    Turn(A, "I am really sorry. Let me find your order, one moment.", gap_before=0.8),
    Turn(A, "I have found it. The van broke down and the delivery was moved.", gap_before=12.0),
    Turn(C, "Nobody told me. I waited in all day. I am really angry about this."),
    Turn(A, "Unfortunately I can't change the delivery date myself, that is our policy.", wpm=220),
    Turn(C, "So you can't do anything? Then let me speak to someone who can."),
    Turn(A, "Of course. I will get my supervisor and explain everything to them.", gap_before=1.0),
    Turn(C, "Thank you.", gap_before=1.0),
]
CALLS = {
    "difficult_refund": DIFFICULT_CALL,
    "manager_demand": MANAGER_DEMAND,
    "policy_line_after_prompt": POLICY_LINE_SOON_AFTER_A_PROMPT,
    "silence_after_prompt": SILENCE_SOON_AFTER_A_PROMPT,
    "broadband_cancellation": BROADBAND_CANCELLATION,
    "billing_abuse": BILLING_ABUSE,
    "delayed_delivery": DELAYED_DELIVERY,
}


def call_figures(name: str, summary: dict) -> dict:
    prompts = [p for p in summary["prompts"] if p["kind"] != "follow_up"]
    routine = [p for p in prompts if p["severity"] != "critical"]
    gaps = [b["t"] - a["t"] for a, b in zip(routine, routine[1:])]
    minutes = summary["duration_s"] / 60
    return {
        "call": name, "duration_s": summary["duration_s"],
        "non_critical": len(routine), "critical": len(prompts) - len(routine),
        "prompts_per_minute": round(len(prompts) / minutes, 2),
        "non_critical_per_minute": round(len(routine) / minutes, 2),
        "shortest_gap_s": round(min(gaps), 1) if gaps else None,
        "mean_gap_s": round(statistics.mean(gaps), 1) if gaps else None,
        "median_gap_s": round(statistics.median(gaps), 1) if gaps else None,
        "held_then_shown": sum(1 for p in prompts if p.get("held_s")),
        "dropped": len(summary.get("withheld", [])),
        "dropped_by_reason": _count(w["reason"] for w in summary.get("withheld", [])),
        "kinds": [p["kind"] for p in prompts],
    }


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="OUT")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="alert-fatigue-") as tmp:
        for name, turns in CALLS.items():
            path = Path(tmp) / f"{name}.wav"
            callgen.render_call(turns, path)
            row = call_figures(name, analyze_call(call=str(path), settings=Settings()))
            rows.append(row)
            print(f"{name}: {row['duration_s']:.0f} s, {row['non_critical']} non-critical + {row['critical']} "
                  f"critical, shortest gap {row['shortest_gap_s']} s, held then shown {row['held_then_shown']}, "
                  f"dropped {row['dropped']} {row['dropped_by_reason']}; {row['kinds']}", flush=True)
    minutes = sum(r["duration_s"] for r in rows) / 60
    gaps = [r["shortest_gap_s"] for r in rows if r["shortest_gap_s"] is not None]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "calls": len(rows), "minutes": round(minutes, 1),
        "prompts_per_minute": round(sum(r["non_critical"] + r["critical"] for r in rows) / minutes, 2),
        "non_critical_per_minute": round(sum(r["non_critical"] for r in rows) / minutes, 2),
        "shortest_gap_s": min(gaps) if gaps else None,
        "held_then_shown": sum(r["held_then_shown"] for r in rows),
        "dropped": sum(r["dropped"] for r in rows),
        "dropped_by_reason": _count(reason for r in rows for reason, n in r["dropped_by_reason"].items()
                                    for _ in range(n)),
    }
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({**report, "per_call": rows}, indent=1))


if __name__ == "__main__":
    main()

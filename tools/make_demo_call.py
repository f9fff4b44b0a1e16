"""Render the bundled demo call: assets/demo_call.flac + assets/demo_call.json.

    .venv/bin/python tools/make_demo_call.py [--out-dir assets] [--cache DIR]

`callcoach demo` plays this call through the whole live pipeline so the widget comes
alive. It is a difficult call a contact-center trainer will recognise: a customer whose
internet has been down for days and who has called before, a hold with dead air, an agent
who rushes and then hides behind "policy", a manager demand, and a calmer handoff. The
script is laid out so the coach shows a variety of prompts, spaced the way the prompt
policy spaces them (30 s between non-critical prompts; escalate shows at once):

    0:13  apologize          repeat caller, down for three days, nobody called back
    0:43  update_progress    "let me check ..., one moment please", then ~14 s of silence
    1:16  slow_down          the agent rattles off the explanation at ~220-230 wpm
    1:48  positive_language  "there is nothing I can do about that, it is our policy"
    1:53  escalate           "I want to speak to a manager" (critical, with a handoff note)
    end   follow_up          the end-of-call checklist

(the times `callcoach analyze` gives for the committed file, which is about 125 s long. Each
trigger line ends about two seconds after the 30 s gap has opened, and the hold silence runs
on for two seconds after its prompt, so no prompt hangs on sub-second timing.)

Stereo 16 kHz FLAC, LEFT = agent (espeak-ng), RIGHT = customer (Piper "joe", through a
G.711-like phone line), synthesized with tests/callgen.py.

Reproducibility: Piper's generator is random, so a cold render differs slightly from run
to run (espeak-ng is deterministic). The committed FLAC is the artifact; re-run this only
to change the script, then check it with `callcoach analyze` and tests/test_demo_call.py
(a changed line can shift every later prompt: they are chained by the 30 s gap).
By default turns are synthesized into a fresh temporary cache (your own TTS cache is not
read or written); `--cache DIR` keeps the per-turn renders in DIR, so re-running after
editing a few lines re-synthesizes only those.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

A, C = "agent", "customer"
FAST = 230.0  # the agent rushing: well above the coach's 190 wpm pace band
SAMPLE_RATE = 16000

# (speaker, text, Turn options, prompt kind the line is meant to raise, note). Options are
# tests.callgen.Turn fields (gap_before defaults to 0.6 s). No digits: the TTS reads the text
# as written. An "update_progress" on the hold line means: in the silence after it.
# Changing a text or wpm re-synthesizes that turn; gaps are free to tune.
SCRIPT: list[tuple[str, str, dict, str | None, str]] = [
    (A, "Customer support, this is Jordan. How can I help you today?", dict(wpm=175), None, "greeting"),
    (C, "Yeah, hi. My internet has been down for three days, and this is the third time I have "
        "called. Nobody ever calls me back.",
     dict(wpm=190), "apologize", "waiting, repeat contact, broken promise"),
    (A, "I am so sorry about that. Can I have the name and address on the account, please?",
     dict(wpm=175), None, "the agent apologizes and verifies"),
    (C, "Mark Davis, forty two Maple Avenue. I already gave you all of this the last two times.",
     dict(wpm=185), None, "still upset, but inside the 30 s gap: no prompt"),
    (A, "Thank you, Mark. Let me check the line from our side, one moment please.",
     dict(wpm=165, gap_before=0.8), "update_progress", "hold announced, then about fourteen seconds of silence"),
    (A, "Thanks for holding, Mark. I can see a network fault in your area. The engineers are "
        "already on site, and the current estimate is that your service will be back by tomorrow evening.",
     dict(wpm=FAST, gap_before=14.0), None, "the agent comes back and rushes"),
    (C, "Tomorrow evening? I work from home. I have already lost three days of work because of this.",
     dict(wpm=185, gap_before=1.2), None, ""),
    (A, "I understand, and I know the timing is not great. The repair crew has to replace a damaged "
        "cable at the street cabinet, and once that is done, your modem should reconnect by itself "
        "a few minutes after the repair, so you will not need to do anything at all on your end.",
     dict(wpm=FAST, gap_before=1.5), "slow_down", "still rushing, about two hundred and twenty wpm"),
    (C, "Okay. So will I get some money back for the days I had no service?", dict(wpm=175), None, ""),
    (A, "Credits for outages are handled by our billing team, and they are reviewed at the end of "
        "the month.",
     dict(wpm=190), None, ""),
    (C, "The end of the month? I want it sorted on this call.", dict(wpm=185), None, ""),
    (A, "I understand, but the billing team has to approve every credit.", dict(wpm=180), None, ""),
    (C, "So you cannot do anything at all?", dict(wpm=170), None, ""),
    (A, "No, there is nothing I can do about that, it is our policy. We only give credits for "
        "outages longer than a week.",
     dict(wpm=185, gap_before=1.0), "positive_language", "a flat refusal behind policy"),
    (C, "That is ridiculous. I want to speak to a manager right now, or I will cancel my account.",
     dict(wpm=195, gap_before=0.4), "escalate", "manager request and a cancel threat: critical, with a handoff note"),
    (A, "I understand. I will bring in my supervisor now and explain everything, so you will not "
        "have to repeat yourself.",
     dict(wpm=165, gap_before=0.9), None, "the agent escalates, which clears the sticky escalate prompt"),
    (C, "Okay. Thank you.", dict(wpm=165, gap_before=0.7), None, "calmer close"),
]


def turns():
    from tests.callgen import Turn

    return [Turn(speaker, text, **options) for speaker, text, options, _, _ in SCRIPT]


def render(out_dir: Path, cache: str | None) -> dict:
    from tests import callgen

    out_dir.mkdir(parents=True, exist_ok=True)
    flac = out_dir / "demo_call.flac"
    before = os.environ.get("CALLCOACH_TTS_CACHE")
    with tempfile.TemporaryDirectory(prefix="callcoach-demo-tts-") as fresh:
        os.environ["CALLCOACH_TTS_CACHE"] = cache or fresh
        try:
            truth = callgen.render_call(turns(), flac, sample_rate=SAMPLE_RATE, leading_silence=0.8,
                                        trailing_silence=1.5, subtype="PCM_16")
        finally:
            if before is None:
                os.environ.pop("CALLCOACH_TTS_CACHE", None)
            else:
                os.environ["CALLCOACH_TTS_CACHE"] = before
    script = {
        "title": "Internet down for three days, repeat caller, manager demand",
        "file": flac.name,
        "sample_rate": truth.sample_rate,
        "channels": {"left": A, "right": C},
        "duration_s": round(truth.duration, 3),
        "voices": {A: callgen.DEFAULT_VOICES[A], C: callgen.DEFAULT_VOICES[C] + " (joe), phone line"},
        "made_by": "tools/make_demo_call.py",
        "turns": [
            {"speaker": t.speaker, "text": t.text, "start": round(t.start, 3), "end": round(t.end, 3),
             "wpm": options.get("wpm"), "expect": expect, "note": note}
            for t, (_, _, options, expect, note) in zip(truth.turns, SCRIPT)
        ],
    }
    (out_dir / "demo_call.json").write_text(json.dumps(script, indent=1) + "\n", encoding="utf-8")
    return script


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "assets")
    parser.add_argument("--cache", help="keep per-turn TTS renders here (default: a fresh temp dir)")
    args = parser.parse_args(argv)
    script = render(args.out_dir, args.cache)
    flac = args.out_dir / script["file"]
    print(f"{flac}: {script['duration_s']:.1f} s, {flac.stat().st_size / 1e6:.2f} MB, "
          f"{len(script['turns'])} turns")
    for t in script["turns"]:
        print(f"  {t['start']:6.1f}-{t['end']:6.1f} {t['speaker']:<8} {t['text']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

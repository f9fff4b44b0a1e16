"""Word error rate: CallCoach's streaming engine vs one-pass faster-whisper per channel.

Renders the test calls (tests/callgen.py), runs each through `analyze_call` (the same
streaming path as a live call) and through `WhisperModel.transcribe` over each whole
channel with the same model, and prints both WERs against the script.

    .venv/bin/python -m benchmarks.accuracy
"""

from __future__ import annotations

import argparse
import os
import tempfile

from callcoach.analyze import analyze_call
from callcoach.audio.files import read_call
from callcoach.engine.transcriber import resolve_model
from callcoach.settings import Settings
from tests import callgen

CALLS = {
    "billing": lambda: callgen.BILLING_CALL,
    "angry": lambda: callgen.ANGRY_CALL,
    "long": lambda: callgen.long_call(120, seed=1),
}


def one_pass(path: str) -> dict[str, str]:
    from faster_whisper import WhisperModel

    model = WhisperModel(resolve_model(None), device="cpu", compute_type="int8")
    out = {}
    for role, audio in read_call(path).items():
        segments, _ = model.transcribe(audio, language="en")
        out[role] = " ".join(s.text for s in segments)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", nargs="*", default=list(CALLS))
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    ours_pairs, base_pairs = [], []
    print(f"{'call':10} {'speaker':9} {'engine WER':>10} {'one-pass WER':>13}")
    for name in args.calls:
        path = os.path.join(tmp, f"{name}.wav")
        truth = callgen.render_call(CALLS[name](), path)
        summary = analyze_call(call=path, settings=Settings())
        base = one_pass(path)
        for role in ("agent", "customer"):
            ref = truth.transcript(role)
            hyp = " ".join(u["text"] for u in summary["utterances"] if u["speaker"] == role)
            ours_pairs.append((ref, hyp))
            base_pairs.append((ref, base[role]))
            print(f"{name:10} {role:9} {callgen.word_error_rate(ref, hyp):10.3f} "
                  f"{callgen.word_error_rate(ref, base[role]):13.3f}")
    print(f"{'all':10} {'':9} {callgen.corpus_wer(ours_pairs):10.3f} {callgen.corpus_wer(base_pairs):13.3f}")


if __name__ == "__main__":
    main()

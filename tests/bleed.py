"""Calls heard on speakers: the agent's microphone also picks up the call audio.

Shared by tests/test_speaker_bleed.py and benchmarks/speaker_bleed.py. A call is rendered
with `callgen.render_call` (agent left, customer right through a phone line); the
microphone channel then gets the customer channel mixed in, late and attenuated, as
speakers on a desk or an open headset would put it there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soundfile as sf

from tests import callgen

A, C = callgen.AGENT, callgen.CUSTOMER

# Turns alternate, and twice the two talk at once: the agent over the customer's long
# complaint, then the customer over the agent's answer.
DOUBLE_TALK_CALL: list[callgen.Turn] = [
    callgen.Turn(A, "Thank you for calling customer support, this is Sam. How can I help you today?", wpm=170),
    callgen.Turn(C, "Hi Sam. I have been waiting three weeks for my refund, and nobody has called me back "
                    "about it, so I would like to know what is going on.", wpm=180),
    callgen.Turn(A, "I understand, let me look into that for you right away.", overlap=2.5, wpm=170),
    callgen.Turn(C, "The order number is four five seven two, and it was a pair of headphones.", wpm=175),
    callgen.Turn(A, "Thank you. I can see the return arrived at our warehouse last Tuesday, and the refund "
                    "was approved this morning.", wpm=170),
    callgen.Turn(C, "Really? Nobody told me anything.", overlap=1.5, wpm=170),
    callgen.Turn(A, "You should see the money back on your card within three business days.", gap_before=0.8,
                 wpm=170),
    callgen.Turn(C, "Perfect, thank you so much for your help today.", wpm=170),
]


@dataclass(frozen=True)
class EchoPath:
    """How the call audio reaches the microphone."""

    level_db: float  # echo level relative to the call audio
    delay_s: float = 0.06
    room: bool = False  # a desk's colouring: low-pass and a short reverberant tail

    @property
    def name(self) -> str:
        return f"{self.level_db:+.0f}dB-{self.delay_s * 1000:.0f}ms{'-room' if self.room else ''}"


def mic_with_bleed(agent: np.ndarray, customer: np.ndarray, path: EchoPath, sr: int = 16000) -> np.ndarray:
    """The microphone: the agent's speech plus the call audio along `path`."""
    shift = int(round(path.delay_s * sr))
    echo = np.zeros(len(customer), np.float64)
    echo[shift:] = customer[: len(customer) - shift]
    if path.room:
        level = callgen.rms(echo)
        echo = _room(echo, sr)
        echo *= level / max(callgen.rms(echo), 1e-12)
    return (agent + callgen.db_to_amp(path.level_db) * echo).astype(np.float32)


def _room(x: np.ndarray, sr: int) -> np.ndarray:
    """A one-pole low-pass at ~2.5 kHz, then a direct path plus an exponentially decaying
    diffuse tail (RT60 ~0.25 s, 10 dB under the direct sound)."""
    rng = np.random.default_rng(7)
    n = int(0.25 * sr)
    tail = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    tail *= callgen.db_to_amp(-10) / np.sqrt(np.sum(tail**2))
    tail[0] = 1.0  # the direct sound
    # The low-pass as a truncated impulse response, so the whole path is one FFT convolution.
    a = np.exp(-2 * np.pi * 2500 / sr)
    h = np.convolve(tail, (1 - a) * a ** np.arange(64))
    size = 1 << int(np.ceil(np.log2(len(x) + len(h))))
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: len(x)]


def render_bleed_call(turns, folder, paths: list[EchoPath]) -> tuple[callgen.CallTruth, dict]:
    """Render `turns` once and write one stereo call per echo path (plus the clean call
    under the key None); returns the truth and {path or None: wav path}."""
    clean = folder / "clean.wav"
    truth = callgen.render_call(turns, clean)
    stereo, sr = sf.read(clean, dtype="float32")
    files = {None: clean}
    for p in paths:
        files[p] = folder / f"bleed{p.name}.wav"
        callgen.write_channels(files[p], mic_with_bleed(stereo[:, 0], stereo[:, 1], p, sr), stereo[:, 1], sr)
    return truth, files


def leaked_words(summary: dict, truth: callgen.CallTruth, margin: float = 0.3) -> list[str]:
    """Agent-channel words spoken where the agent was not talking (only the customer was)."""
    turns = truth.for_speaker(A)
    out = []
    for u in summary["utterances"]:
        if u["speaker"] != A:
            continue
        for w in u["words"]:
            mid = (w["s"] + w["e"]) / 2
            if not any(t.start - margin <= mid <= t.end + margin for t in turns):
                out.append(w["w"].strip())
    return out


def customer_words(summary: dict, truth: callgen.CallTruth) -> list[str]:
    """Agent-channel words found in the customer's lines and in none of the agent's: the
    customer's words wherever they land, over the agent's own speech too."""
    theirs = set(callgen.normalize_text(truth.transcript(C))) - set(callgen.normalize_text(truth.transcript(A)))
    return [w for w in callgen.normalize_text(agent_text(summary)) if w in theirs]


def agent_text(summary: dict) -> str:
    return " ".join(u["text"] for u in summary["utterances"] if u["speaker"] == A)


def agent_wer(summary: dict, truth: callgen.CallTruth) -> float:
    return callgen.word_error_rate(truth.transcript(A), agent_text(summary))

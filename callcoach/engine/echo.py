"""The call audio that leaks into the agent's microphone (speakers, an open headset).

On speakers the microphone also hears the customer: the call audio, tens of ms late,
10-25 dB down, a little coloured by the room. The engine has the call audio itself, so
that copy is recognisable; this stage removes it from the agent channel before the
agent's VAD, segmenter and transcription see it. It runs on the intake thread, fed every
block of both channels; the call audio passes unchanged, the microphone comes out
cleaned 16-32 ms late (its frames), and held at most `max_hold_s` more for call audio
that lags.

Why this design, not a textbook echo canceller (NLMS subtraction):
* Delay: GCC-PHAT between microphone and call audio over the last second, every half
  second while the customer talks, accumulated across windows. Phase weighting gives a
  sharp peak whatever the voice's spectrum; accumulating keeps it through double talk.
* Echo spectrum: per frequency bin, the transfer H = <M X*> / <|X|^2> from the call audio,
  aligned at that delay, to the microphone, averaged over seconds. The agent's speech is
  uncorrelated with the customer's: it adds variance, not bias, so adaptation needs no
  double-talk detector, and an echo that goes away (headset back on) fades out of H.
  One complex tap per bin absorbs a few samples of delay error or drift as a phase ramp.
* Suppression, not subtraction: per bin, the expected echo power |H X|^2 (with a margin,
  and a decaying memory for the room's tail) is taken out of the microphone's power.
  Subtraction would keep more of the agent in double talk, but it needs sample-exact phase,
  breaks with clock drift between two devices and loudspeaker distortion, and would still
  need this suppressor after it; the recogniser needs the agent's words without the
  customer's, not a pristine signal.
* Gate (the double-talk decision): a frame whose power the expected echo explains is
  silenced whole, so what is left of the echo between bins never reaches the VAD. When
  the agent talks over the customer, their speech exceeds the echo in most bins and keeps
  the frame.
* Until the path is known (the first second or two the customer talks) the expected echo
  is the loudest call audio of the last `max_delay_s` at `unknown_coupling_db`: safe, at
  some cost to the agent's double talk then. If no echo is found after `learn_s` of the
  customer talking (a headset), nothing is suppressed; an echo that appears later is
  found again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from callcoach.audio.block import SAMPLE_RATE, AudioBlock, DeviceBack, DeviceLost

log = logging.getLogger(__name__)

FRAME = 512  # samples per analysis frame (32 ms)
HOP = FRAME // 2  # 50 % overlap: the square-root Hann windows below add up to one
_WINDOW = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / FRAME)).astype(np.float32)
_BINS = np.fft.rfftfreq(FRAME, 1 / SAMPLE_RATE)
# Bins below speech (DC offsets, hum) take no part in finding or judging the echo: the same
# DC offset on both channels would look like a perfect echo. The microphone keeps them.
_SPEECH = _BINS >= 80.0
_ACTIVE_RMS = 10 ** (-50 / 20)  # call audio above this (dBFS) counts as the customer talking
_KEEP_S = 4.0  # recent audio kept per channel: the delay search and refits read it


class PathState(Enum):
    LEARNING = "learning"  # the customer has not talked long enough to tell
    FOUND = "found"  # an echo path with a delay and a spectrum
    NONE = "none"  # no echo (a headset): the microphone passes as it is


@dataclass(frozen=True)
class EchoSettings:
    enabled: bool = True  # False: the microphone passes as it is
    max_delay_s: float = 0.25  # longest call-audio-to-microphone path looked for
    max_hold_s: float = 0.1  # longest the microphone waits for call audio running late
    update_every_s: float = 0.5  # delay and spectrum re-estimated this often
    search_window_s: float = 1.0  # audio per delay estimate
    confidence: float = 12.0  # delay peak over the correlation's spread that means "an echo"
    learn_s: float = 3.0  # customer speech after which no peak means no echo
    path_memory_s: float = 4.0  # time constant of the echo spectrum's average
    unknown_coupling_db: float = -6.0  # the echo assumed while the path is being learned
    margin_db: float = 3.0  # the expected echo is over-estimated by this much
    tail_s: float = 0.3  # the room's decay (60 dB) remembered after the call audio
    floor_db: float = -20.0  # deepest per-bin suppression in frames that pass
    gate: float = 0.15  # a frame of which the agent adds less than this share of the power is silenced


@dataclass
class EchoFigures:
    """What the stage found and did, for logs, benchmarks and tests."""

    state: PathState = PathState.LEARNING
    delay_ms: float | None = None
    coupling_db: float | None = None  # echo power relative to the call audio, speech band
    frames: int = 0
    gated: int = 0  # frames silenced as echo only
    cpu_s: float = 0.0  # thread CPU time spent in this stage
    max_held_s: float = 0.0  # the most microphone audio held back at once (frames, late call audio)


class _Recent:
    """The last few seconds of one channel, addressed by sample position on its clock."""

    def __init__(self, keep: int):
        self._keep = keep
        self.start = 0
        self.samples = np.zeros(0, np.float32)

    @property
    def end(self) -> int:
        return self.start + len(self.samples)

    def append(self, start: int, samples: np.ndarray) -> None:
        gap = np.zeros(max(0, start - self.end), np.float32)  # missing audio is silence
        joined = np.concatenate([self.samples, gap, samples])
        drop = max(0, len(joined) - self._keep)
        self.samples = joined[drop:]
        self.start = start + len(samples) - len(self.samples)

    def take(self, start: int, end: int) -> np.ndarray:
        """Samples [start, end), silence where nothing is kept."""
        out = np.zeros(end - start, np.float32)
        lo, hi = max(start, self.start), min(end, self.end)
        if hi > lo:
            out[lo - start : hi - start] = self.samples[lo - self.start : hi - self.start]
        return out

    def spectra(self, start: int, count: int) -> np.ndarray:
        """Windowed spectra of `count` frames every HOP from `start`: (count, bins)."""
        hops = self.take(start, start + (count + 1) * HOP).reshape(count + 1, HOP)
        return np.fft.rfft(np.concatenate([hops[:-1], hops[1:]], axis=1) * _WINDOW, axis=1)


class _Path:
    """The echo path: its delay (GCC-PHAT) and per-bin transfer, re-estimated as audio comes."""

    def __init__(self, s: EchoSettings):
        self.s = s
        self.state = PathState.LEARNING
        self.delay: int | None = None
        self.max_delay = round(s.max_delay_s * SAMPLE_RATE)
        self._window = round(s.search_window_s * SAMPLE_RATE)
        self._nfft = 1 << int(np.ceil(np.log2(self._window + self.max_delay)))
        freqs = np.fft.rfftfreq(self._nfft, 1 / SAMPLE_RATE)
        self._band = (freqs >= 200) & (freqs <= 3800)  # where call audio has speech
        self._phat = np.zeros(len(freqs), np.complex128)
        self._talked_s = 0.0
        self._sxm = np.zeros(len(_BINS), np.complex128)
        self._sxx = np.zeros(len(_BINS))
        self._fit_at = 0  # next mic frame position the transfer has not seen
        self._forget = np.exp(-s.update_every_s / s.path_memory_s)

    def coupling(self) -> np.ndarray | None:
        """Echo power over call-audio power per bin (smoothed over neighbours); None = unknown."""
        if self.state is PathState.LEARNING:
            return None
        if self.state is PathState.NONE:
            return np.zeros(len(_BINS))
        power = np.abs(self._sxm) ** 2 / np.maximum(self._sxx, 1e-12) ** 2
        # Louder than the call audio is no loudspeaker's echo: it would be the agent's own voice
        # in the call audio (sidetone), which must not silence the agent.
        return np.minimum(np.convolve(power, np.ones(3) / 3, mode="same"), 1.0)

    def coupling_db(self) -> float | None:
        if self.state is not PathState.FOUND or self._sxx.sum() <= 0:
            return None
        echo = np.sum(np.abs(self._sxm) ** 2 / np.maximum(self._sxx, 1e-12))
        return float(10 * np.log10(max(echo, 1e-12) / self._sxx.sum()))

    def update(self, mic: _Recent, ref: _Recent, end: int) -> None:
        """Re-estimate from the audio before `end` (both channels have it)."""
        if (talking := self._talking(ref, end)) >= 0.25:
            self._talked_s += talking * self.s.update_every_s
            self._search(mic, ref, end)
        if self.delay is not None:
            self._fit(mic, ref, end)

    def _talking(self, ref: _Recent, end: int) -> float:
        """Share of the search window in which the customer talks: call audio 10 dB over
        its quietest tenth (the line's hiss, which must not count as talk)."""
        kept = ref.take(end - round(_KEEP_S * SAMPLE_RATE), end)
        chunks = kept[len(kept) % FRAME :].reshape(-1, FRAME)
        rms = np.std(chunks, axis=1)  # without its mean: a DC offset is not talk
        threshold = max(_ACTIVE_RMS, 3.16 * float(np.percentile(rms, 10)))
        return float(np.mean(rms[-((self._window + self.max_delay) // FRAME) :] > threshold))

    def _search(self, mic: _Recent, ref: _Recent, end: int) -> None:
        mic_win = mic.take(end - self._window, end)
        ref_win = ref.take(end - self._window - self.max_delay, end)
        cross = np.conj(np.fft.rfft(mic_win, self._nfft)) * np.fft.rfft(ref_win, self._nfft)
        fresh = np.where(self._band, cross / (np.abs(cross) + 1e-12), 0)
        self._phat = 0.7 * self._phat + fresh
        delay, score = self._peak(self._phat)
        moved, moved_score = self._peak(fresh)
        if moved_score >= self.s.confidence and abs(moved - delay) > HOP // 8:
            # This window alone is sure of another delay: the path changed; forget the old one.
            self._phat, delay, score = fresh, moved, moved_score
        if score >= self.s.confidence:
            if self.delay is None or abs(delay - self.delay) > HOP // 8:
                log.info("echo path: %.0f ms late (score %.1f)", delay * 1000 / SAMPLE_RATE, score)
                self.delay = delay
                self._sxm[:] = 0
                self._sxx[:] = 0
                self._fit_at = end - self._window  # refit on the window that found it
            self.state = PathState.FOUND
        elif self.state is PathState.LEARNING and self._talked_s >= self.s.learn_s:
            log.info("no echo path found after %.1f s of call audio", self._talked_s)
            self.state = PathState.NONE

    def _peak(self, phat: np.ndarray) -> tuple[int, float]:
        """(delay, score) of the cross-correlation's highest peak in 0..max_delay; the score
        is its height over the correlation's spread."""
        # r[k] correlates mic(n) with ref_win(n + k): an echo delayed d peaks at k = max_delay - d.
        r = np.fft.irfft(phat, self._nfft)[: self.max_delay + 1]
        peak = int(np.argmax(r))
        return self.max_delay - peak, float((r[peak] - np.median(r)) / (np.std(r) + 1e-12))

    def _fit(self, mic: _Recent, ref: _Recent, end: int) -> None:
        start = max(self._fit_at, mic.start, ref.start + self.delay)
        count = (end - start - FRAME) // HOP + 1
        if count <= 0:
            return
        m = mic.spectra(start, count)
        x = ref.spectra(start - self.delay, count)
        self._sxm = self._forget * self._sxm + np.sum(m * np.conj(x), axis=0) * _SPEECH
        self._sxx = self._forget * self._sxx + np.sum(np.abs(x) ** 2, axis=0) * _SPEECH
        self._fit_at = start + count * HOP


class EchoCanceller:
    """Takes every block of the call in order; returns the blocks ready for the engine."""

    def __init__(self, settings: EchoSettings = EchoSettings()):
        self.s = settings
        self.figures = EchoFigures()
        keep = round(_KEEP_S * SAMPLE_RATE)
        self._mic = _Recent(keep)
        self._ref = _Recent(keep)
        self._path = _Path(settings)
        self._ref_live = True  # False while the call-audio device is lost: the mic passes as it is
        self._frame_at: int | None = None  # next frame to process; None when not cleaning
        self._out_at = 0  # next output sample
        self._tail = np.zeros(FRAME - HOP, np.float32)  # overlap-add carried to the next frame
        self._memory = np.zeros(len(_BINS))  # the expected echo of the last frame (room tail)
        self._next_update = 0
        self._hold = round(settings.max_hold_s * SAMPLE_RATE)
        self._margin = 10 ** (settings.margin_db / 10)
        self._unknown = 10 ** (settings.unknown_coupling_db / 10)
        self._decay = 10 ** (-6 * HOP / SAMPLE_RATE / settings.tail_s)  # 60 dB over tail_s
        self._floor = 10 ** (settings.floor_db / 10)
        self._lag_frames = self._path.max_delay // HOP + 1

    # -- the engine's side ------------------------------------------------------------

    def push(self, block: AudioBlock) -> list[AudioBlock]:
        if not self.s.enabled:
            return [block]
        started = time.thread_time()
        if block.role == "agent":
            out = self._mic_block(block)
        else:
            self._ref.append(block.start, block.samples)
            out = [block, *self._clean(self._limit())]
        held = (self._mic.end - self._out_at) / SAMPLE_RATE if self._frame_at is not None else 0.0
        self.figures.max_held_s = max(self.figures.max_held_s, held)
        self.figures.cpu_s += time.thread_time() - started
        return out

    def source_event(self, event: object) -> list[AudioBlock]:
        """Microphone audio to hand on before `event` takes effect."""
        handler = self._SOURCE_EVENTS.get(type(event)) if self.s.enabled else None
        return handler(self, event) if handler else []

    def _device_lost(self, event: DeviceLost) -> list[AudioBlock]:
        if event.role == "customer":
            self._ref_live = False
        return self.flush()

    def _device_back(self, event: DeviceBack) -> list[AudioBlock]:
        if event.role == "customer":
            self._ref_live = True  # cleaning restarts with the next microphone block
        return []

    _SOURCE_EVENTS = {DeviceLost: _device_lost, DeviceBack: _device_back}

    def flush(self) -> list[AudioBlock]:
        """Everything still held (end of call, a device lost), cleaned as well as it can be."""
        if self._frame_at is None:
            return []
        out = self._clean(self._mic.end, pad=True)
        self._frame_at = None
        return out

    # -- microphone -------------------------------------------------------------------

    def _mic_block(self, block: AudioBlock) -> list[AudioBlock]:
        out = self.flush() if block.start != self._mic.end else []  # a gap: start afresh after it
        self._mic.append(block.start, block.samples)
        if not self._ref_live:
            return [*out, block]
        if self._frame_at is None:
            # The first frame reaches a hop back (audio already passed, or silence), so the
            # first new sample gets both overlapping frames; that hop's output is dropped.
            self._frame_at, self._out_at = block.start - HOP, block.start
            self._tail[:] = 0
            self._next_update = max(self._next_update, block.start)
        return [*out, *self._clean(self._limit())]

    def _limit(self) -> int:
        """Microphone audio up to here can be cleaned now: the call audio is there, or it
        is later than the microphone may wait."""
        if not self._ref_live or self._ref.end >= self._mic.end:
            return self._mic.end
        return max(self._ref.end, self._mic.end - self._hold)

    def _clean(self, limit: int, pad: bool = False) -> list[AudioBlock]:
        if self._frame_at is None:
            return []
        f0 = self._frame_at
        count = -(-(limit - f0) // HOP) if pad else (limit - f0 - FRAME) // HOP + 1
        if count <= 0:
            return []
        spectra = self._mic.spectra(f0, count)
        gains = self._gains(f0, count, np.abs(spectra) ** 2)
        frames = np.fft.irfft(spectra * gains, FRAME, axis=1).astype(np.float32) * _WINDOW
        # Overlap-add: each output hop is the second half of one frame plus the first of the next.
        audio = np.zeros((count + 1) * HOP, np.float32)
        audio[:HOP] = self._tail
        audio[: count * HOP] += frames[:, :HOP].reshape(-1)
        audio[HOP:] += frames[:, HOP:].reshape(-1)
        self._tail = audio[count * HOP :].copy()
        self._frame_at = f0 + count * HOP
        skip, end = self._out_at - f0, min(self._frame_at, self._mic.end)
        self._out_at = end
        self._maybe_update()
        return [AudioBlock("agent", f0 + skip, audio[skip : end - f0])] if end > f0 + skip else []

    # -- the echo ---------------------------------------------------------------------

    def _gains(self, f0: int, count: int, power: np.ndarray) -> np.ndarray:
        """Per frame and bin: how much of the microphone to keep."""
        echo = self._expected_echo(f0, count) * _SPEECH
        power = power * _SPEECH
        keep = np.maximum(1 - echo / np.maximum(power, 1e-20), self._floor)
        # The share of each frame's power the echo explains; what is left is the agent's.
        explained = np.sum(np.minimum(power, echo), axis=1) / np.maximum(np.sum(power, axis=1), 1e-20)
        gated = explained > 1 - self.s.gate
        self.figures.frames += count
        self.figures.gated += int(gated.sum())
        return np.sqrt(keep) * ~gated[:, None]

    def _expected_echo(self, f0: int, count: int) -> np.ndarray:
        """Echo power per frame and bin: the call audio through the path, with margin and
        the room's tail; the loudest recent call audio where the path or audio is unknown."""
        coupling = self._path.coupling()
        if coupling is not None and not coupling.any():  # no echo path: no echo, nor a tail of one
            self._memory = np.zeros(len(_BINS))
            return np.zeros((count, len(_BINS)))
        delay = self._path.delay
        if coupling is not None and f0 + (count - 1) * HOP + FRAME - delay <= self._ref.end:
            echo = coupling * np.abs(self._ref.spectra(f0 - delay, count)) ** 2
        else:
            recent = np.abs(self._ref.spectra(f0 - self._lag_frames * HOP, count + self._lag_frames)) ** 2
            loudest = sliding_window_view(recent, self._lag_frames + 1, axis=0).max(axis=-1)
            echo = (self._unknown if coupling is None else coupling) * loudest
        echo *= self._margin
        # Decaying memory, vectorised: max over earlier frames i of echo[i] * decay^(j - i).
        steps = np.arange(count + 1)[:, None]
        logged = np.log(np.vstack([self._memory, echo]) + 1e-30) - steps * np.log(self._decay)
        echo = np.exp(np.maximum.accumulate(logged, axis=0) + steps * np.log(self._decay))[1:]
        self._memory = echo[-1]
        return echo

    def _maybe_update(self) -> None:
        every = round(self.s.update_every_s * SAMPLE_RATE)
        end = min(self._frame_at, self._ref.end)
        if end < self._next_update + every:
            return
        self._next_update = end
        self._path.update(self._mic, self._ref, end)
        self.figures.state = self._path.state
        d = self._path.delay
        self.figures.delay_ms = None if d is None else d * 1000 / SAMPLE_RATE
        self.figures.coupling_db = self._path.coupling_db()

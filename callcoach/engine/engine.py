"""The streaming engine: audio blocks in, voice activity and transcribed utterances out.

Every caller (the widget, `callcoach analyze`, the tests) drives this same path: a source
yields `AudioBlock`s, `feed` runs voice activity detection and segmentation per channel on
the intake thread, and one worker thread turns segments into text. Listeners receive events
one at a time, from either thread, so they must only hand them on (the Qt bridge posts them
to the GUI thread).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from callcoach.audio.block import SAMPLE_RATE, AudioBlock, AudioDropped, DeviceBack, DeviceLost, Source
from callcoach.engine.echo import EchoCanceller, EchoSettings
from callcoach.engine.events import (Activity, CallEnded, DeviceGap, Level, ModelReady, Notice, Partial, Utterance,
                                     Watermark)
from callcoach.engine.segmenter import Segment, Segmenter, SegmenterOutput, SegmenterSettings
from callcoach.engine.transcriber import Job, Transcript, WhisperTranscriber, shared_transcriber
from callcoach.engine.vad import CHUNK, SileroVad, VadStream
from callcoach.engine.work_queue import WorkQueue
from callcoach.roles import DEVICE_WORD, ROLES

log = logging.getLogger(__name__)

Listener = Callable[[object], None]
_LEVEL_EVERY = SAMPLE_RATE // 10  # one Level event per 100 ms per channel
# While a device is gone, the watermark may pass its (stopped) clock up to this far behind
# the channels still live: the other speaker is coached meanwhile, and a device coming
# back is stamped at real call time, which is later.
_ABSENT_LAG = SAMPLE_RATE
_ROUNDING = SAMPLE_RATE // 500  # 2 ms: event times and the watermark are rounded to the ms
_DROP_NOTICE_EVERY_S = 10.0  # at most one "audio dropped" notice per channel this often


@dataclass(frozen=True)
class EngineSettings:
    model: str = "tiny.en"
    device: str = "cpu"  # "cuda" when present and chosen
    compute_type: str | None = None  # int8 on CPU
    cpu_threads: int = 0  # 0: half the cores, at least one (transcriber.default_cpu_threads)
    language: str = "en"
    segmenter: SegmenterSettings = field(default_factory=SegmenterSettings)
    echo: EchoSettings = field(default_factory=EchoSettings)  # the call audio heard by the mic
    partials: bool = True
    # Whose partials are transcribed: the widget shows both speakers' live text; without a
    # window only the coach's early cues read them (CallPipeline, live_text=False).
    partial_roles: frozenset[str] = frozenset(ROLES)
    partial_every_s: float = 1.0  # audio between partial updates of one utterance
    max_batch: int = 4  # beam search over 4 windows at once: ~+110 MB peak; 8 costs ~+180 MB
    max_backlog: int = 16


@dataclass(eq=False)
class _Speculation:
    """A final transcription started when a pause began, before the pause is confirmed."""

    key: tuple[int, int]  # (start, end) of the segment it transcribes
    job: Job
    done: bool = False
    result: Transcript | None = None
    confirmed: bool = False  # the pause lasted: deliver as soon as done
    cancelled: bool = False  # not this utterance after all: throw the result away
    resumed: bool = False  # the speaker went on: the result is the text so far, a partial


class _Channel:
    """Per-speaker state on the intake thread."""

    def __init__(self, vad: SileroVad, settings: SegmenterSettings):
        self.vad: VadStream = vad.stream()
        self.segmenter = Segmenter(settings)
        self.clock = 0  # samples seen
        self.entered: deque[tuple[int, float]] = deque(maxlen=2000)  # (block end, wall time)
        self.level_acc: list[float] = []
        self.level_start = 0
        self.last_partial_at = 0  # sample position of the last partial request
        self.confirm = False  # a listener wants the next partial as soon as there is new audio
        self.speculation: _Speculation | None = None
        self.pending: set[int] = set()  # ends of segments awaiting their final text
        self.absent: tuple[float, str] | None = None  # (since, reason) while its device is gone
        self.explained_to = 0  # a jump of the clock up to here was already reported
        self.dropped_blocks = 0
        self.dropped_s = 0.0
        self.drop_noticed_at: float | None = None

    def entry_time(self, sample: int) -> float | None:
        """Wall time at which audio sample `sample` entered the engine."""
        for end, wall in self.entered:
            if end >= sample:
                return wall
        return None


class Engine:
    def __init__(self, settings: EngineSettings = EngineSettings(), measure_latency: bool = False):
        self.settings = settings
        self.measure_latency = measure_latency
        self._listeners: list[Listener] = []
        self._emit_lock = threading.Lock()
        self._vad: SileroVad | None = None
        self._transcriber: WhisperTranscriber | None = None
        self._queue: WorkQueue | None = None
        self._worker: threading.Thread | None = None
        self._channels: dict[str, _Channel] = {}
        self.echo = EchoCanceller(settings.echo)
        self._spec_lock = threading.Lock()
        self._lock = threading.Lock()  # pending finals and the watermark, across both threads
        self._watermark = 0.0
        self.stats = {"partials": 0, "partials_skipped": 0, "batches": 0, "finals": 0, "rejected": 0,
                      "speculative_hits": 0, "speculative_misses": 0, "max_backlog": 0,
                      "dropped_blocks": 0, "device_gaps": 0}

    # -- wiring --------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: object) -> None:
        with self._emit_lock:
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:  # one broken listener must not stop the call
                    log.exception("listener %r failed on %s", listener, type(event).__name__)

    # -- lifecycle -----------------------------------------------------------------------

    def load(self) -> None:
        """Load VAD and model (slow, once). Raises CallCoachError with a one-line reason."""
        if self._transcriber is not None:
            return
        started = time.monotonic()
        s = self.settings
        self._vad = SileroVad()
        self._transcriber = load_model(s)  # loaded and warmed up once per process
        self._emit(ModelReady(time.monotonic() - started))

    def begin(self) -> None:
        """Start a call: fresh channel state and a transcription worker."""
        self.load()
        self._channels = {role: _Channel(self._vad, self.settings.segmenter) for role in ROLES}
        self.echo = EchoCanceller(self.settings.echo)
        self._queue = WorkQueue(self.settings.max_batch, self.settings.max_backlog)
        self._worker = threading.Thread(target=self._work, name="callcoach-transcriber", daemon=True)
        self._worker.start()

    def end(self) -> float:
        """End the call: close open utterances, wait for every final text, stop the worker."""
        for block in self.echo.flush():
            self._intake(block)
        duration = max(ch.clock for ch in self._channels.values()) / SAMPLE_RATE
        for role, ch in self._channels.items():
            self._handle(role, ch, ch.segmenter.flush())
            if ch.absent is not None:  # the device never came back
                since, reason = ch.absent
                ch.absent = None
                self._gap(role, since, max(since, duration), f"{reason}; not back before the call ended")
        self._queue.wait_idle()
        self._queue.close()
        self._worker.join()
        self.stats["max_backlog"] = self._queue.max_waiting
        self._emit(Watermark(duration))  # all text is in
        self._emit(CallEnded(duration))
        return duration

    def run(self, source: Source) -> float:
        """Drive a whole call from `source` on the calling thread; returns its duration."""
        self.begin()
        stream = getattr(source, "stream", None)
        try:
            for item in (stream() if stream is not None else source.blocks()):
                if isinstance(item, AudioBlock):
                    self.feed(item)
                else:
                    self.source_event(item)
        finally:
            duration = self.end()
        return duration

    @property
    def backlog(self) -> tuple[int, int]:
        """(finals waiting now, the most that have waited) in the transcription queue."""
        q = self._queue
        return (q.finals_waiting, q.max_waiting) if q is not None else (0, 0)

    # -- intake (one thread) -------------------------------------------------------------

    def feed(self, block: AudioBlock) -> None:
        if self.measure_latency:
            self._channels[block.role].entered.append((block.end, time.monotonic()))
        # The microphone comes out of the echo stage cleaned, up to a few blocks later.
        for ready in self.echo.push(block):
            self._intake(ready)

    def _intake(self, block: AudioBlock) -> None:
        ch = self._channels[block.role]
        if block.start > max(ch.clock, ch.explained_to):
            gap = (block.start - ch.clock) / SAMPLE_RATE
            self._emit(Notice("warning", f"{block.role} audio gap of {gap:.1f} s", ch.clock / SAMPLE_RATE,
                              kind="audio_gap", role=block.role))
        ch.clock = block.end
        probs, rms = ch.vad.process(block.samples)
        self._levels(block.role, ch, block.end - ch.vad.pending, rms)
        out = ch.segmenter.push(block.start, block.samples, probs, block.end - ch.vad.pending)
        self._handle(block.role, ch, out)
        self._maybe_partial(block.role, ch)
        self._advance_watermark()

    # -- what the source says besides audio (intake thread) ----------------------------------

    def source_event(self, event: object) -> None:
        """A device lost or back, or audio dropped, in order with the audio blocks."""
        for ready in self.echo.source_event(event):  # microphone audio it held comes first
            self._intake(ready)
        handler = self._SOURCE_EVENTS.get(type(event))
        if handler:
            handler(self, event)

    def _device_lost(self, e: DeviceLost) -> None:
        ch = self._channels[e.role]
        if ch.absent is not None:
            return
        self._handle(e.role, ch, ch.segmenter.flush())  # the utterance it was in ends here
        ch.vad = self._vad.stream()  # nothing carries over the gap
        since = ch.clock / SAMPLE_RATE
        ch.absent = (since, f"{DEVICE_WORD[e.role]} lost: {e.reason}")
        log.warning("%s device %r lost at %.2f s: %s", e.role, e.device, since, e.reason)
        self._emit(Notice("warning", f"{DEVICE_WORD[e.role]} lost – reconnecting", round(since, 3),
                          kind="device_lost", role=e.role))
        self._advance_watermark()

    def _device_back(self, e: DeviceBack) -> None:
        ch = self._channels[e.role]
        if ch.absent is None:
            return
        since, reason = ch.absent
        ch.absent = None
        end = max(since, e.t)
        ch.explained_to = max(ch.explained_to, round(end * SAMPLE_RATE))
        log.warning("%s device %r back at %.2f s after %.1f s", e.role, e.device, end, end - since)
        self._gap(e.role, since, end, reason)
        self._emit(Notice("info", f"{DEVICE_WORD[e.role]} back after a {end - since:.1f} s gap", round(end, 3),
                          kind="device_back", role=e.role))

    def _gap(self, role: str, start: float, end: float, reason: str) -> None:
        self.stats["device_gaps"] += 1
        self._emit(DeviceGap(role, round(start, 3), round(end, 3), reason))

    def _audio_dropped(self, e: AudioDropped) -> None:
        ch = self._channels[e.role]
        ch.explained_to = max(ch.explained_to, round((e.t + e.seconds) * SAMPLE_RATE))
        ch.dropped_blocks += e.blocks
        ch.dropped_s += e.seconds
        self.stats["dropped_blocks"] += e.blocks
        self._emit(e)
        if ch.drop_noticed_at is None or e.t - ch.drop_noticed_at >= _DROP_NOTICE_EVERY_S:
            ch.drop_noticed_at = e.t
            self._emit(Notice("warning", f"{DEVICE_WORD[e.role]}: {ch.dropped_s:.1f} s of audio dropped so far "
                              f"({e.reason}; the computer is too busy)", round(e.t, 3),
                              kind="audio_dropped", role=e.role))

    _SOURCE_EVENTS = {DeviceLost: _device_lost, DeviceBack: _device_back, AudioDropped: _audio_dropped}

    def _advance_watermark(self) -> None:
        """Emit a Watermark when the audio time before which every event is out moves on.

        Listeners order events by when they happened: voice activity and levels by their
        time, an utterance by its end. So the watermark waits for what could still come
        stamped earlier: the end of each utterance being transcribed, and for one still
        being spoken its earliest possible end, not its start. A talk-over is then coached
        while both still talk.

        Intake thread only: it alone changes segmenter state and adds pending segments,
        so it sees them consistently; the worker only removes delivered ones."""
        live = [ch.clock for ch in self._channels.values() if ch.absent is None]
        with self._lock:
            horizon = []
            for ch in self._channels.values():
                # A new onset or level can only come from audio the VAD has not scored yet.
                clock = ch.clock - ch.vad.pending
                if ch.absent is not None and live:  # gone: do not hold the other speaker back
                    clock = max(clock, min(live) - _ABSENT_LAG)
                held = [clock, *ch.pending]
                if ch.segmenter.earliest_event is not None:
                    held.append(ch.segmenter.earliest_event)
                horizon.append(min(held))
            t = max(0, min(horizon) - _ROUNDING) / SAMPLE_RATE
            if t - self._watermark < 0.05:
                return
            self._watermark = t
            self._emit(Watermark(round(t, 3)))

    def _handle(self, role: str, ch: _Channel, out: SegmenterOutput) -> None:
        for change in out.changes:
            self._emit(Activity(role, change.sample / SAMPLE_RATE, change.speaking))
        for seg in out.segments:
            ch.last_partial_at = 0
            ch.confirm = False
            self._finish_segment(role, ch, seg)
        spec = ch.speculation
        if spec and ch.segmenter.last_speech is not None and ch.segmenter.last_speech > spec.key[1]:
            self._resume(role, ch, spec)  # the pause was only a breath: the speaker went on
            ch.speculation = None
        if out.candidate:
            self._cancel(ch.speculation)
            job = self._final_job(role, ch, out.candidate)
            ch.speculation = _Speculation(out.candidate.key, job)
            job.meta["speculation"] = ch.speculation
            self._queue.put_final(job)

    def _final_job(self, role: str, ch: _Channel, seg: Segment) -> Job:
        entered = ch.entry_time(seg.end) if self.measure_latency else None
        return Job(role, seg.audio, seg.audio_start / SAMPLE_RATE, True, seg.mean_prob,
                   {"start": seg.start, "end": seg.end, "t": seg.audio_start + len(seg.audio), "entered": entered})

    def _finish_segment(self, role: str, ch: _Channel, seg: Segment) -> None:
        spec, ch.speculation = ch.speculation, None
        if spec is not None and spec.key == seg.key:
            self.stats["speculative_hits"] += 1
            with self._lock:
                ch.pending.add(seg.end)
            with self._spec_lock:
                spec.confirmed = True
                ready = spec.done
            if ready:  # the text was ready before the pause was confirmed
                self._deliver(spec.job, spec.result)
            return
        self._cancel(spec)
        with self._lock:
            ch.pending.add(seg.end)
        self._queue.put_final(self._final_job(role, ch, seg))

    def _cancel(self, spec: _Speculation | None) -> None:
        """Throw away a speculative final: withdraw it, or ignore its result."""
        if spec is None:
            return
        self.stats["speculative_misses"] += 1
        with self._spec_lock:
            spec.cancelled = True
        if self._queue.withdraw(spec.job):  # it never reaches the worker: break the job <-> spec cycle,
            spec.job.meta.pop("speculation", None)  # which would keep its audio until a full gc

    def _resume(self, role: str, ch: _Channel, spec: _Speculation) -> None:
        """The speaker went on after the pause. A speculative final the model has started on is
        the utterance's text so far, beam-decoded: it is delivered as the next partial instead
        of transcribing one more (two in five candidates on the live benchmark's calls)."""
        if not self.settings.partials or role not in self.settings.partial_roles:
            self._cancel(spec)
            return
        self.stats["speculative_misses"] += 1
        if self._queue.withdraw(spec.job):  # not started: nothing to reuse
            spec.job.meta.pop("speculation", None)
            return
        with self._spec_lock:
            spec.resumed = True
            ready = spec.done
        ch.last_partial_at = max(ch.last_partial_at, spec.job.meta["t"])  # the next one a second on
        if ready:  # transcribed during the pause
            self._deliver(spec.job, spec.result, as_partial=True)

    def _levels(self, role: str, ch: _Channel, last_chunk_end: int, rms: np.ndarray) -> None:
        # Chunk by chunk, not block by block: a Level every 4 chunks (128 ms) whatever the
        # source's block size (a file's 0.1 s blocks made one every ~0.2 s, so the coach's
        # ten levels of a raised voice were 2 s of speech there and 1.3 s live).
        for i, r in enumerate(rms):
            ch.level_acc.append(float(r))
            chunk_end = last_chunk_end - (len(rms) - 1 - i) * CHUNK
            if chunk_end - ch.level_start >= _LEVEL_EVERY:
                power = float(np.mean(np.square(ch.level_acc)))
                db = 10 * math.log10(power) if power > 1e-12 else -120.0
                self._emit(Level(role, chunk_end / SAMPLE_RATE, round(db, 1)))
                ch.level_acc.clear()
                ch.level_start = chunk_end

    def _maybe_partial(self, role: str, ch: _Channel) -> None:
        if not self.settings.partials or role not in self.settings.partial_roles:
            return
        open_utt = ch.segmenter.open_utterance()
        if open_utt is None:
            return
        onset, audio_start, audio = open_utt
        wait = CHUNK if ch.confirm else int(self.settings.partial_every_s * SAMPLE_RATE)
        due = max(onset, ch.last_partial_at) + wait
        if ch.clock < due or self._queue.partial_waiting(role):
            return
        # Not in a pause: it may be the end of the utterance, whose final text starts at 0.2 s
        # of it and would wait for the model behind this partial. Due when the speaker goes on.
        if ch.clock - ch.vad.pending - ch.segmenter.last_speech >= CHUNK:
            return
        entered = ch.entry_time(ch.clock) if self.measure_latency else None
        job = Job(role, audio, audio_start / SAMPLE_RATE, False,
                  meta={"start": onset, "t": audio_start + len(audio), "entered": entered}, beam=ch.confirm)
        ch.last_partial_at, ch.confirm = ch.clock, False
        if not self._queue.offer_partial(job):
            self.stats["partials_skipped"] += 1

    def confirm_partial(self, role: str) -> None:
        """Transcribe `role`'s next partial from the next audio, not a second later, and with
        the final text's beam search: a listener heard something in the last one that it will
        act on once it is heard again, and greedy partials share mishearings the final text
        does not ("switch to another provider" for "wish to have a reminder"). Any thread;
        costs one partial."""
        ch = self._channels.get(role)
        if ch is not None:
            ch.confirm = True

    # -- transcription worker ------------------------------------------------------------

    def _work(self) -> None:
        queue = self._queue
        while (batch := queue.take()) is not None:
            try:
                results = self._transcriber.transcribe(batch)
            except Exception as exc:  # keep the call alive; say what happened
                log.exception("transcription failed")
                self._emit(Notice("error", f"transcription failed: {exc}"))
                results = [None] * len(batch)
            self.stats["batches"] += 1
            for job, result in zip(batch, results):
                spec = job.meta.pop("speculation", None)  # pop: no job <-> spec cycle holding audio
                if spec is not None:
                    with self._spec_lock:
                        spec.done, spec.result = True, result
                        resumed, confirmed = spec.resumed, spec.confirmed and not spec.cancelled
                    if resumed:
                        self._deliver(job, result, as_partial=True)
                    if not confirmed:
                        continue  # delivered on confirmation, or as a partial, or never
                self._deliver(job, result)
            queue.done()

    def _deliver(self, job: Job, result: Transcript | None, as_partial: bool = False) -> None:
        meta = job.meta
        entered = meta.get("entered")
        lag = round(time.monotonic() - entered, 3) if entered is not None else None
        if job.final and not as_partial:
            self._finalised(job, result, lag)
        elif result is not None:
            self.stats["partials"] += 1
            self._emit(Partial(job.role, meta["start"] / SAMPLE_RATE, meta["t"] / SAMPLE_RATE, result.text, lag,
                               job.beam or job.final))

    def _finalised(self, job: Job, result: Transcript | None, lag: float | None) -> None:
        meta = job.meta
        if result is None:
            self.stats["rejected"] += 1
        else:
            self.stats["finals"] += 1
            start, end = meta["start"] / SAMPLE_RATE, meta["end"] / SAMPLE_RATE
            if result.words:  # word times are tighter than the VAD's chunk grid
                start = max(start - 0.1, min(start, result.words[0].start))
            self._emit(Utterance(job.role, round(start, 3), round(end, 3), result.text, result.words,
                                 words_per_minute(result.words), lag))
        # Only now may the watermark pass this utterance.
        with self._lock:
            self._channels[job.role].pending.discard(meta["end"])


def load_model(s: EngineSettings) -> WhisperTranscriber:
    """The process's loaded model for these settings (loaded on first use)."""
    return shared_transcriber(s.model, s.device, s.compute_type, s.cpu_threads, s.language)


def words_per_minute(words) -> float | None:
    """Speaking rate of one utterance: words over the span from first word start to last
    word end (pauses inside the utterance count, silence around it does not).
    None when the utterance is too short for a rate to mean anything."""
    if len(words) < 3:
        return None
    span = words[-1].end - words[0].start
    if span < 1.0:
        return None
    return round(60.0 * len(words) / span, 1)

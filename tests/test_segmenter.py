"""Segmentation and the load policy, driven with speech probabilities we control."""

from __future__ import annotations

import threading

import numpy as np

from callcoach.audio.block import SAMPLE_RATE
from callcoach.engine.segmenter import Segmenter, SegmenterSettings
from callcoach.engine.transcriber import Job, collapse_repeats, is_believable
from callcoach.engine.vad import CHUNK
from callcoach.engine.work_queue import WorkQueue


def _run(segmenter: Segmenter, pattern: list[float], block_chunks: int = 3):
    """Feed a probability per chunk (audio = the chunk index, to check what is kept)."""
    changes, segments, candidates = [], [], []
    for i in range(0, len(pattern), block_chunks):
        probs = np.array(pattern[i : i + block_chunks], np.float32)
        audio = np.repeat(np.arange(i, i + len(probs), dtype=np.float32), CHUNK)
        out = segmenter.push(i * CHUNK, audio, probs, (i + len(probs)) * CHUNK)
        changes += out.changes
        segments += out.segments
        candidates += [out.candidate] if out.candidate else []
    out = segmenter.flush()
    return changes + out.changes, segments + out.segments, candidates


def _chunks(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE / CHUNK)


def test_utterance_with_pre_roll_tail_and_hangover():
    s = SegmenterSettings()
    pattern = [0.0] * _chunks(1) + [0.9] * _chunks(2) + [0.0] * _chunks(1)
    changes, segments, _ = _run(Segmenter(s), pattern)
    assert len(segments) == 1
    seg = segments[0]
    assert seg.start == _chunks(1) * CHUNK
    assert seg.end == (_chunks(1) + _chunks(2)) * CHUNK
    # The audio starts a pre-roll before the onset and runs a tail past the end.
    assert seg.audio_start == seg.start - int(s.pre_roll_s * SAMPLE_RATE)
    assert len(seg.audio) == seg.end + int(s.tail_s * SAMPLE_RATE) - seg.audio_start
    assert [(c.sample, c.speaking) for c in changes] == [(seg.start, True), (seg.end, False)]


def test_short_pause_does_not_split_and_long_pause_does():
    s = SegmenterSettings(hangover_s=0.5)
    short_gap = [0.9] * _chunks(1) + [0.05] * _chunks(0.3) + [0.9] * _chunks(1)
    _, segments, candidates = _run(Segmenter(s), [0.0] * 5 + short_gap + [0.0] * _chunks(1))
    assert len(segments) == 1
    # A candidate was offered at the breath and another at the real end; only the last matches.
    assert len(candidates) == 2 and candidates[-1].key == segments[0].key
    long_gap = [0.9] * _chunks(1) + [0.05] * _chunks(0.8) + [0.9] * _chunks(1)
    _, segments, _ = _run(Segmenter(s), [0.0] * 5 + long_gap + [0.0] * _chunks(1))
    assert len(segments) == 2


def test_clicks_are_not_speech():
    pattern = [0.0] * 10 + [0.9] * 3 + [0.0] * _chunks(1)  # ~0.1 s burst
    changes, segments, candidates = _run(Segmenter(), pattern)
    assert not changes and not segments and not candidates


def test_long_speech_is_cut_at_its_quietest_point():
    s = SegmenterSettings(max_utterance_s=5.0)
    pattern = [0.9] * _chunks(3.5) + [0.25] + [0.9] * _chunks(4) + [0.0] * _chunks(1)
    changes, segments, _ = _run(Segmenter(s), pattern)
    assert len(segments) == 2
    assert segments[0].end == _chunks(3.5) * CHUNK  # the dip, not the 5 s mark
    assert segments[1].start == segments[0].end
    assert [c.speaking for c in changes] == [True, False], "a cut is not a stop in talking"


def test_hallucination_filters():
    assert not is_believable("Thank you.", avg_logprob=-0.9, no_speech_prob=0.5, speech_prob=0.5)
    assert is_believable("Thank you.", avg_logprob=-0.2, no_speech_prob=0.01, speech_prob=0.9)
    assert not is_believable("you", avg_logprob=-0.7, no_speech_prob=0.1, speech_prob=0.9)
    assert not is_believable("I'm sorry. " * 12, avg_logprob=-0.2, no_speech_prob=0.0, speech_prob=0.9)
    assert collapse_repeats("no no no no no no way") == "no no way"
    assert collapse_repeats("I said no no to that") == "I said no no to that"
    twice = "Let me check your account right now. Let me check your account right now."
    assert collapse_repeats(twice) == "Let me check your account right now."
    assert collapse_repeats("I want a refund. I want a refund.") == "I want a refund. I want a refund."


def _job(role: str, final: bool) -> Job:
    return Job(role, np.zeros(1600, np.float32), 0.0, final)


def test_policy_finals_first_and_one_partial_per_speaker():
    q = WorkQueue(max_batch=2, max_backlog=10)
    old, new = _job("agent", False), _job("agent", False)
    assert q.offer_partial(old) and q.offer_partial(new)
    assert q.take() == [new], "an older partial is replaced by the newer one"
    q.done()
    finals = [_job("agent", True), _job("customer", True), _job("agent", True)]
    for job in finals:
        q.put_final(job)
    assert not q.offer_partial(_job("customer", False)), "no partial while finals wait"
    assert q.take() == finals[:2], "waiting finals go in one batch"
    q.done()
    assert q.take() == finals[2:]
    q.done()


def test_policy_backlog_blocks_intake_until_worker_catches_up():
    q = WorkQueue(max_batch=1, max_backlog=2)
    q.put_final(_job("agent", True))
    q.put_final(_job("agent", True))
    third_in = threading.Event()
    t = threading.Thread(target=lambda: (q.put_final(_job("agent", True)), third_in.set()))
    t.start()
    assert not third_in.wait(0.3), "intake must wait while the backlog is full"
    q.take()
    assert third_in.wait(5), "intake resumes once the worker took a job"
    t.join()


def test_withdrawn_speculative_final_is_never_transcribed():
    q = WorkQueue()
    spec = _job("agent", True)
    q.put_final(spec)
    assert q.withdraw(spec)
    q.put_final(keep := _job("agent", True))
    assert q.take() == [keep]


def test_no_event_comes_stamped_before_the_earliest_event_it_promised():
    """The engine's watermark trusts `earliest_event`: no later change or segment may come
    stamped before it, whether speech goes on, pauses, is a click, or is cut at the cap."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        pattern = []
        while len(pattern) < _chunks(60):
            seconds = float(rng.choice([0.05, 0.3, 1.0, 4.0, 20.0]))
            pattern += list(rng.uniform(0.5, 1.0, _chunks(seconds)))  # speech, as long as 20 s
            pattern += list(rng.uniform(0.0, 0.3, _chunks(float(rng.choice([0.1, 0.3, 0.6, 2.0])))))
        seg = Segmenter(SegmenterSettings())
        promised = None
        for i in range(0, len(pattern), 3):
            probs = np.array(pattern[i : i + 3], np.float32)
            out = seg.push(i * CHUNK, np.zeros(len(probs) * CHUNK, np.float32), probs, (i + len(probs)) * CHUNK)
            stamps = [c.sample for c in out.changes] + [s.end for s in out.segments]
            if promised is not None:
                assert all(t >= promised for t in stamps), (i, promised, stamps)
            promised = seg.earliest_event

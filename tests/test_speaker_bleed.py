"""Speakers instead of a headset: the call audio the microphone hears is not the agent's.

Generated calls whose microphone channel also carries the customer channel, late and
attenuated (tests/bleed.py). Through the real pipeline and model none of the customer's
words may land on the agent, whose own lines, over the customer's too, are still
transcribed. The fast tests drive the echo stage alone on the same generated speech.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from callcoach.audio.block import SAMPLE_RATE, AudioBlock, DeviceBack, DeviceLost
from callcoach.audio.files import FileSource, read_call
from callcoach.engine.echo import FRAME, EchoCanceller, EchoFigures, EchoSettings, PathState
from callcoach.engine.engine import EngineSettings
from callcoach.pipeline import CallPipeline
from tests import bleed, callgen
from tests.bleed import EchoPath

LEVELS = (-25, -20, -15, -12, -10)
PATHS = [EchoPath(db) for db in LEVELS] + [EchoPath(-12, room=True)]


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    return bleed.render_bleed_call(bleed.DOUBLE_TALK_CALL, tmp_path_factory.mktemp("bleed"), PATHS)


def _stereo(path) -> np.ndarray:
    return sf.read(str(path), dtype="float32")[0]


def _feed(canceller: EchoCanceller, blocks, end_call: bool = True) -> dict[str, list[AudioBlock]]:
    out: dict[str, list[AudioBlock]] = {"agent": [], "customer": []}
    for block in blocks:
        for ready in canceller.push(block):
            out[ready.role].append(ready)
    for ready in canceller.flush() if end_call else []:
        out[ready.role].append(ready)
    return out


def _blocks(stereo: np.ndarray, size: int = 640, start: int = 0, end: int | None = None):
    """The call as a live source delivers it: 40 ms blocks, the microphone's first."""
    for s in range(start, len(stereo) if end is None else end, size):
        yield AudioBlock("agent", s, stereo[s : s + size, 0])
        yield AudioBlock("customer", s, stereo[s : s + size, 1])


def _joined(blocks: list[AudioBlock]) -> np.ndarray:
    for before, after in zip(blocks, blocks[1:]):
        assert after.start == before.end, "the microphone comes out in order, without gaps or overlaps"
    return np.concatenate([b.samples for b in blocks])


# -- the echo stage alone ---------------------------------------------------------------


@pytest.mark.parametrize("path", [EchoPath(-25, 0.0), EchoPath(-10, 0.13), EchoPath(-18, 0.25),
                                  EchoPath(-12, 0.06, room=True)], ids=lambda p: p.name)
def test_the_echo_path_is_found(tmp_path, path):
    truth, files = bleed.render_bleed_call(bleed.DOUBLE_TALK_CALL[:4], tmp_path, [path])
    canceller = EchoCanceller()
    _feed(canceller, _blocks(_stereo(files[path])))
    f = canceller.figures
    assert f.state is PathState.FOUND
    assert f.delay_ms == pytest.approx(path.delay_s * 1000, abs=1.0)
    assert f.coupling_db == pytest.approx(path.level_db, abs=1.5)
    assert f.cpu_s < 0.03 * truth.duration, "a few % of a core at most"


def test_a_headset_passes_the_microphone_unchanged(calls):
    _, files = calls
    stereo = _stereo(files[None])
    canceller = EchoCanceller()
    out = _feed(canceller, _blocks(stereo))
    assert canceller.figures.state is PathState.NONE
    agent = _joined(out["agent"])
    assert out["agent"][0].start == 0 and len(agent) == len(stereo)
    assert np.max(np.abs(agent - stereo[:, 0])) < 1e-4
    assert np.array_equal(_joined(out["customer"]), stereo[:, 1]), "the call audio passes as it is"


def test_lost_call_audio_lets_the_microphone_through_untouched(calls):
    _, files = calls
    stereo = _stereo(files[EchoPath(-12)])
    canceller = EchoCanceller()
    half = len(stereo) // 2 // 640 * 640
    _feed(canceller, _blocks(stereo, end=half), end_call=False)
    assert canceller.figures.state is PathState.FOUND
    held = canceller.source_event(DeviceLost("customer", half / SAMPLE_RATE, "unplugged", "call_audio"))
    assert held and held[-1].end == half, "what the stage held comes out before the loss"
    block = AudioBlock("agent", half, stereo[half : half + 640, 0])
    assert canceller.push(block) == [block], "no call audio: the microphone as it is, at once"
    assert canceller.source_event(DeviceBack("customer", (half + 640) / SAMPLE_RATE, "call_audio")) == []
    out = _feed(canceller, _blocks(stereo, start=half + 640))
    assert out["agent"][0].start == half + 640, "cleaning resumes where the pass-through stopped"
    assert _joined(out["agent"]).shape == (len(stereo) - half - 640,)


def test_late_call_audio_holds_the_microphone_back_at_most_max_hold(calls):
    _, files = calls
    stereo = _stereo(files[EchoPath(-12)])
    late = SAMPLE_RATE // 2  # the call audio arrives half a second after the microphone
    mic = [b for b in _blocks(stereo) if b.role == "agent"]
    call = [b for b in _blocks(stereo) if b.role == "customer"]
    order = sorted(mic + call, key=lambda b: b.end + (late if b.role == "customer" else 0))
    canceller = EchoCanceller()
    out = _feed(canceller, order)
    hold = EchoSettings().max_hold_s + FRAME / SAMPLE_RATE
    assert canceller.figures.max_held_s <= hold
    assert len(_joined(out["agent"])) == len(stereo)


def test_a_gap_in_the_microphone_stays_a_gap(calls):
    _, files = calls
    stereo = _stereo(files[EchoPath(-12)])
    second = SAMPLE_RATE
    blocks = [*_blocks(stereo, end=2 * second), *_blocks(stereo, start=3 * second, end=5 * second)]
    out = _feed(EchoCanceller(), blocks)["agent"]
    cut = next(i for i, b in enumerate(out) if b.start >= 3 * second)
    assert _joined(out[:cut]).shape == (2 * second,) and out[cut].start == 3 * second
    assert _joined(out[cut:]).shape == (2 * second,)


# -- the whole pipeline with the real model --------------------------------------------


def _analyze(path, echo: EchoSettings = EchoSettings()) -> tuple[dict, EchoFigures]:
    pipeline = CallPipeline(EngineSettings(partials=False, echo=echo))
    pipeline.load()
    summary = pipeline.run(FileSource(read_call(str(path)), realtime=False))
    return summary, pipeline.engine.echo.figures


@pytest.fixture(scope="module")
def headset_wer(calls):
    truth, files = calls
    summary, figures = _analyze(files[None])
    assert figures.state is PathState.NONE
    assert bleed.leaked_words(summary, truth) == []
    return bleed.agent_wer(summary, truth)


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_no_customer_words_on_the_agent(calls, headset_wer, path):
    truth, files = calls
    summary, figures = _analyze(files[path])
    assert figures.state is PathState.FOUND and figures.delay_ms == pytest.approx(60, abs=1)
    assert bleed.leaked_words(summary, truth) == [], "agent text where only the customer talks"
    assert bleed.customer_words(summary, truth) == [], "the customer's words inside the agent's turns"
    assert bleed.agent_wer(summary, truth) <= headset_wer + 0.05, bleed.agent_text(summary)
    # Double talk: the line the agent speaks over the customer's complaint is there.
    over = truth.for_speaker("agent")[1]
    said = " ".join(u["text"] for u in summary["utterances"]
                    if u["speaker"] == "agent" and over.start - 0.5 <= u["start"] <= over.end)
    assert callgen.word_error_rate(over.text, said) <= 0.25, said


@pytest.mark.slow
def test_without_the_echo_stage_the_customer_leaks(calls):
    """The control: this call does put the customer on the agent when nothing removes it."""
    truth, files = calls
    summary, _ = _analyze(files[EchoPath(-12)], EchoSettings(enabled=False))
    assert len(bleed.leaked_words(summary, truth)) >= 10

"""Fast checks of the synthetic call generator used by the other tests and benchmarks."""

import numpy as np
import pytest
import soundfile as sf

from tests import callgen as cg

SR = 16000
SHORT_CALL = [
    cg.Turn("agent", "Thank you for calling, how can I help you?", wpm=170),
    cg.Turn("customer", "Hi, I was charged twice this month.", gap_before=0.8, wpm=170),
]


@pytest.fixture(scope="module")
def short_call(tmp_path_factory):
    path = tmp_path_factory.mktemp("call") / "short.wav"
    truth = cg.render_call(SHORT_CALL, path, sample_rate=SR)
    audio, sr = sf.read(path, dtype="float32")
    return truth, audio, sr


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _span(truth_turn, sr):
    return slice(int(truth_turn.start * sr), int(truth_turn.end * sr))


def test_stereo_shape_and_duration(short_call):
    truth, audio, sr = short_call
    assert sr == SR
    assert audio.ndim == 2 and audio.shape[1] == 2
    assert truth.duration == pytest.approx(len(audio) / sr)


def test_truth_times_ordered_and_inside_call(short_call):
    truth, _, _ = short_call
    agent, customer = truth.turns
    assert (agent.speaker, customer.speaker) == ("agent", "customer")
    assert agent.start == pytest.approx(0.5)  # default leading silence
    assert 0 < agent.start < agent.end < customer.start < customer.end < truth.duration
    assert customer.start - agent.end == pytest.approx(0.8, abs=1e-3)


def test_each_speaker_only_on_own_channel(short_call):
    truth, audio, sr = short_call
    agent, customer = truth.turns
    left, right = audio[:, 0], audio[:, 1]
    assert _rms(left[_span(agent, sr)]) > 0.03
    assert _rms(right[_span(agent, sr)]) < 1e-3
    assert _rms(right[_span(customer, sr)]) > 0.01
    assert _rms(left[_span(customer, sr)]) < 1e-3


def test_truth_is_tight(short_call):
    """Speech starts right at the truth start: the first 50 ms already have energy."""
    truth, audio, sr = short_call
    for turn, channel in zip(truth.turns, (0, 1)):
        onset = audio[int(turn.start * sr) : int((turn.start + 0.05) * sr), channel]
        before = audio[int((turn.start - 0.2) * sr) : int((turn.start - 0.02) * sr), channel]
        assert _rms(onset) > 10 * max(_rms(before), 1e-5)


def test_customer_channel_is_phone_band(short_call):
    _, audio, sr = short_call
    power = np.abs(np.fft.rfft(audio[:, 1])) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / sr)
    assert power[freqs > 4000].sum() / power.sum() < 1e-4
    assert power[freqs < 200].sum() / power.sum() < 1e-3
    # The agent side is full band (espeak has plenty of energy above 4 kHz).
    agent_power = np.abs(np.fft.rfft(audio[:, 0])) ** 2
    assert agent_power[freqs > 4000].sum() / agent_power.sum() > 1e-3


def test_overlap_starts_before_previous_end(tmp_path):
    turns = [
        cg.Turn("agent", "Let me check that for you right now.", wpm=170),
        cg.Turn("customer", "Okay.", overlap=0.4, voice="espeak:en-us+f3"),
    ]
    truth = cg.render_call(turns, tmp_path / "overlap.wav", customer_phone_band=False)
    agent, customer = truth.turns
    assert customer.start == pytest.approx(agent.end - 0.4, abs=1e-3)


def test_espeak_rate_follows_wpm():
    text = "We will send you a confirmation message as soon as the refund is processed."
    slow = cg.synthesize(text, "espeak:en-us", wpm=120)
    fast = cg.synthesize(text, "espeak:en-us", wpm=240)
    words = len(text.split())
    assert words / (len(slow) / SR) * 60 == pytest.approx(120, rel=0.1)
    assert words / (len(fast) / SR) * 60 == pytest.approx(240, rel=0.1)


def test_cache_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCOACH_TTS_CACHE", str(tmp_path))
    first = cg.synthesize("Is there anything else?", "espeak:en-us+m3")
    assert len(list(tmp_path.glob("*.wav"))) == 1
    np.testing.assert_array_equal(first, cg.synthesize("Is there anything else?", "espeak:en-us+m3"))


def test_noise_levels():
    for noise in (cg.hiss(2, -50, SR, seed=1), cg.hiss(2, -50, SR, color="pink"),
                  cg.line_noise(2, -50, SR)):
        assert noise.dtype == np.float32 and len(noise) == 2 * SR
        assert 20 * np.log10(_rms(noise)) == pytest.approx(-50, abs=0.1)


def test_format_variants(short_call, tmp_path):
    truth, audio, _ = short_call
    cg.resample_file(truth.path, tmp_path / "8k.wav", 8000)
    data, sr = sf.read(tmp_path / "8k.wav")
    assert sr == 8000 and data.shape == (round(len(audio) / 2), 2)
    cg.to_multichannel(truth.path, tmp_path / "4ch.wav", channels=4)
    data, _ = sf.read(tmp_path / "4ch.wav")
    assert data.shape == (len(audio), 4) and not data[:, 2:].any()
    cg.to_mono(truth.path, tmp_path / "mono.wav")
    assert sf.read(tmp_path / "mono.wav")[0].ndim == 1


def test_word_error_rate():
    assert cg.word_error_rate("Hello, world!", "hello world") == 0.0
    assert cg.word_error_rate("It's our policy.", "it is our policy") == 0.0
    assert cg.word_error_rate("I can't do that", "I cannot do that") == 0.0
    assert cg.word_error_rate("the cat sat", "the cat sat down") == pytest.approx(1 / 3)
    assert cg.word_error_rate("the cat sat", "the dog sat") == pytest.approx(1 / 3)
    assert cg.word_error_rate("the cat sat", "cat sat") == pytest.approx(1 / 3)
    assert cg.word_error_rate("a b c d", "") == 1.0
    assert cg.word_error_rate("", "thank you") == 2.0  # hallucinated words
    assert cg.corpus_wer([("a b c d", "a b c d"), ("e f", "e x")]) == pytest.approx(1 / 6)


def test_scripts_are_well_formed():
    for script in (cg.BILLING_CALL, cg.ANGRY_CALL):
        assert {t.speaker for t in script} == {"agent", "customer"}
        assert not any(ch.isdigit() for t in script for ch in t.text)
    assert any("nothing I can do, it's our policy" in t.text for t in cg.ANGRY_CALL)
    long = cg.long_call(120, seed=3)
    assert cg.estimate_seconds(long) >= 120
    assert long != cg.long_call(120, seed=4)
    assert not any(ch.isdigit() for t in long for ch in t.text)

"""`callcoach analyze` end to end: generated calls through the real engine and model."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from callcoach.analyze import analyze_call
from callcoach.settings import Settings
from tests import callgen

pytestmark = pytest.mark.slow


def _speaker_text(summary: dict, speaker: str) -> str:
    return " ".join(u["text"] for u in summary["utterances"] if u["speaker"] == speaker)


def _assert_matches_script(summary: dict, truth: callgen.CallTruth, max_wer: float = 0.15) -> None:
    """Text right, speakers right, and every utterance inside one of its speaker's turns."""
    for speaker in callgen.SPEAKERS:
        wer = callgen.word_error_rate(truth.transcript(speaker), _speaker_text(summary, speaker))
        assert wer <= max_wer, f"{speaker} WER {wer:.2f}: {_speaker_text(summary, speaker)!r}"
    for u in summary["utterances"]:
        turns = truth.for_speaker(u["speaker"])
        inside = [t for t in turns if t.start - 0.35 <= u["start"] and u["end"] <= t.end + 0.35]
        assert inside, f"{u['speaker']} utterance {u['start']}-{u['end']} {u['text']!r} is outside its turns"
        best = min(turns, key=lambda t: callgen.word_error_rate(t.text, u["text"]))
        assert best in inside, f"{u['text']!r} matches a different turn than the one it lies in"


@pytest.fixture(scope="module")
def billing(tmp_path_factory):
    path = tmp_path_factory.mktemp("calls") / "billing.wav"
    truth = callgen.render_call(callgen.BILLING_CALL, path)
    return path, truth


def test_stereo_call_text_speakers_and_times(billing, tmp_path):
    path, truth = billing
    out = tmp_path / "session.json"
    summary = analyze_call(call=str(path), out=str(out), settings=Settings())
    assert json.loads(out.read_text()) == summary
    assert summary["schema"] == "callcoach.session.v1"
    assert summary["engine"]["finals"] >= 1, "the load-policy counters are kept"
    assert [p["kind"] for p in summary["prompts"]][-1:] == ["follow_up"]
    assert all(u["sentiment"] is not None for u in summary["utterances"])
    assert summary["metrics"]["agent_wpm"] and summary["metrics"]["escalated"] is False
    assert summary["duration_s"] == pytest.approx(truth.duration, abs=0.2)
    _assert_matches_script(summary, truth)
    assert all(u["latency_s"] is None for u in summary["utterances"]), "fast mode measures no latency"
    assert any(u["wpm"] for u in summary["utterances"])
    starts = [u["start"] for u in summary["utterances"]]
    assert starts == sorted(starts)
    from callcoach.store import SessionStore, default_store_path

    stored = SessionStore(default_store_path(Settings())).get(summary["id"])
    assert stored["status"] == "complete", "analyze keeps the session for QA review"
    assert len(stored["utterances"]) == len(summary["utterances"])


def test_agent_channel_right_swaps_speakers(tmp_path):
    turns = callgen.BILLING_CALL[:4]
    truth = callgen.render_call(turns, tmp_path / "call.wav")
    audio, sr = sf.read(tmp_path / "call.wav", dtype="float32")
    callgen.write_channels(tmp_path / "swapped.wav", audio[:, 1], audio[:, 0], sr)
    summary = analyze_call(call=str(tmp_path / "swapped.wav"), agent_channel="right", settings=Settings())
    _assert_matches_script(summary, truth)


def test_two_mono_files(tmp_path):
    truth = callgen.render_call(callgen.BILLING_CALL[:4], tmp_path / "call.wav")
    audio, sr = sf.read(tmp_path / "call.wav", dtype="float32")
    sf.write(tmp_path / "agent.wav", audio[:, 0], sr)
    sf.write(tmp_path / "customer.wav", audio[:, 1], sr)
    summary = analyze_call(agent=str(tmp_path / "agent.wav"), customer=str(tmp_path / "customer.wav"), settings=Settings())
    _assert_matches_script(summary, truth)


@pytest.mark.parametrize("variant", ["8000", "44100", "48000", "4ch"])
def test_rates_and_channel_counts(billing, tmp_path, variant):
    path, truth = billing
    out = tmp_path / f"{variant}.wav"
    if variant == "4ch":
        callgen.to_multichannel(path, out, channels=4)
    else:
        callgen.resample_file(path, out, int(variant))
    summary = analyze_call(call=str(out), settings=Settings())
    # 8 kHz costs the wide-band agent voice some accuracy; the customer is a phone line anyway.
    _assert_matches_script(summary, truth, max_wer=0.25 if variant == "8000" else 0.15)


@pytest.mark.parametrize(
    "noise",
    [
        pytest.param(lambda s: np.zeros(int(s * 16000), np.float32), id="silence"),
        pytest.param(lambda s: callgen.hiss(s, -45, seed=3), id="hold-hiss"),
        pytest.param(lambda s: callgen.hiss(s, -30, seed=4, color="pink"), id="loud-pink-noise"),
        pytest.param(lambda s: callgen.line_noise(s, -35, seed=5), id="line-noise"),
        pytest.param(lambda s: callgen.phone_line(callgen.hiss(s, -35, seed=6), 16000), id="phone-hiss"),
    ],
)
def test_no_text_from_non_speech(tmp_path, noise):
    seconds = 25
    callgen.write_channels(tmp_path / "quiet.wav", noise(seconds), noise(seconds), 16000)
    summary = analyze_call(call=str(tmp_path / "quiet.wav"), settings=Settings())
    assert summary["utterances"] == [], [u["text"] for u in summary["utterances"]]


def test_speech_after_noise_is_transcribed(tmp_path):
    turns = [callgen.Turn("customer", "Hello, I am calling about a refund for my broken headphones.", gap_before=0)]
    truth = callgen.render_call(turns, tmp_path / "speech.wav", leading_silence=12.0, noise_db=-40, seed=2)
    summary = analyze_call(call=str(tmp_path / "speech.wav"), settings=Settings())
    text = _speaker_text(summary, "customer")
    # tiny.en mishears a word or two in -40 dB hiss; what matters is the speech is not lost.
    assert callgen.word_error_rate(truth.transcript("customer"), text) <= 0.35, text
    assert "calling about" in text.lower(), text
    assert _speaker_text(summary, "agent") == ""
    assert all(u["start"] >= 11.5 for u in summary["utterances"]), "text invented over the noise"


def test_realtime_measures_latency(tmp_path):
    turns = [
        callgen.Turn("agent", "Thank you for calling, how can I help you today?"),
        callgen.Turn("customer", "Hi, my order never arrived and I would like to know where it is."),
    ]
    truth = callgen.render_call(turns, tmp_path / "short.wav")
    summary = analyze_call(call=str(tmp_path / "short.wav"), realtime=True, settings=Settings())
    _assert_matches_script(summary, truth)
    latencies = [u["latency_s"] for u in summary["utterances"]]
    assert latencies and all(lat is not None and 0 < lat < 3 for lat in latencies), latencies


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcoach", *args], capture_output=True, text=True, timeout=120)


def _assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_cli_writes_session(billing, tmp_path):
    path, truth = billing
    out = tmp_path / "out.json"
    result = _cli("analyze", str(path), "--json", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads(out.read_text())
    assert {u["speaker"] for u in summary["utterances"]} == {"agent", "customer"}


def test_cli_bad_input(tmp_path):
    out = str(tmp_path / "out.json")
    _assert_one_line_error(_cli("analyze", str(tmp_path / "nope.wav"), "--json", out), "nope.wav")
    (tmp_path / "notes.wav").write_text("this is not audio")
    _assert_one_line_error(_cli("analyze", str(tmp_path / "notes.wav"), "--json", out), "notes.wav")
    callgen.write_channels(tmp_path / "pair.wav", np.zeros(1600, np.float32), np.zeros(1600, np.float32), 16000)
    callgen.to_mono(tmp_path / "pair.wav", tmp_path / "mono.wav")
    _assert_one_line_error(_cli("analyze", str(tmp_path / "mono.wav"), "--json", out), "mono")
    (tmp_path / "model").mkdir()
    _assert_one_line_error(
        _cli("analyze", str(tmp_path / "pair.wav"), "--model", str(tmp_path / "model"), "--json", out),
        "not a faster-whisper model",
    )
    _assert_one_line_error(
        _cli("analyze", str(tmp_path / "pair.wav"), "--json", str(tmp_path / "missing" / "out.json")), "missing"
    )
    assert not (tmp_path / "out.json").exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:  # the bar draws only on a terminal
        return True


def test_a_folder_of_recordings_with_one_progress_bar(billing, tmp_path):
    from callcoach.analyze_folder import analyze_folder
    from callcoach.store import SessionStore, default_store_path

    path, truth = billing
    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(path, folder / "monday.wav")
    data, rate = sf.read(path)
    sf.write(folder / "tuesday.flac", data[: rate * 20], rate)  # the first 20 s, as FLAC
    (folder / "broken.wav").write_text("not audio at all")
    (folder / "notes.txt").write_text("not a recording: skipped")
    terminal, seen = _Terminal(), []
    results = analyze_folder(folder, out_dir=tmp_path / "json", stream=terminal,
                             on_result=lambda i, n, r: seen.append((i, n, r.path.name, r.error is None)),
                             settings=Settings())
    assert seen == [(1, 3, "broken.wav", False), (2, 3, "monday.wav", True), (3, 3, "tuesday.flac", True)]
    assert "broken.wav" in results[0].error
    monday = json.loads((tmp_path / "json" / "monday.json").read_text())
    _assert_matches_script(monday, truth)
    assert json.loads((tmp_path / "json" / "tuesday.json").read_text())["duration_s"] == pytest.approx(20, abs=0.2)
    assert len(SessionStore(default_store_path(Settings())).list_sessions()) == 2, "both calls are kept for QA review"
    percents = [float(p) for p in re.findall(r"\] +([\d.]+)%", terminal.getvalue())]
    assert percents[-1] == 100.0 and percents == sorted(percents), percents


def test_cli_analyzes_a_folder_and_reports_bad_files(billing, tmp_path):
    path, _ = billing
    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(path, folder / "call.wav")
    (folder / "empty.wav").write_bytes(b"")
    result = _cli("analyze", str(folder), "--json", str(tmp_path / "out"), "--no-store")
    assert result.returncode == 1
    assert re.search(r"\[1/2\] call\.wav: \d+ utterances, \d+ prompts, [\d.]+ s -> ", result.stdout), result.stdout
    assert "[2/2] empty.wav: error: " in result.stderr and "1 of 2 recordings could not be analyzed" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out" / "call.json").exists()
    _assert_one_line_error(_cli("analyze", str(tmp_path / "out")), "no recordings")

"""Bad input, tried for real: damaged settings, policy, playbook and session store files;
audio that is empty, cut short, not audio, at odd rates and channel counts, clipped or
offset; text that breaks analysis. Each gets one clear line or is handled, never a
traceback, and nothing the user had is lost.

Through the real command (`python -m callcoach ...`) where the user would meet it, and the
real classes. Property-based tests of the parsers are in tests/test_properties.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callcoach.analyze import analyze_call
from callcoach.coach.coach import Coach, explain_line
from callcoach.coach.playbook import PlaybookError, builtin_path, load_playbook, parse_playbook
from callcoach.coach.sentiment import score
from callcoach.engine.events import CallEnded, Utterance, Watermark
from callcoach.engine.transcriber import Word
from callcoach.errors import CallCoachError
from callcoach.paths import asset_path
from callcoach.redact import StreamRedactor, redact
from callcoach.session import SessionRecorder
from callcoach.settings import OPTIONS, Key, Settings
from callcoach.store import SessionStore, StoreWriter, default_store_path
from tests import callgen

ROOT = Path(__file__).resolve().parents[1]
DEMO = asset_path("demo_call.flac")
SCRIPT = json.loads(asset_path("demo_call.json").read_text())["turns"]
CLIP_S = 13.2  # the demo call's first two turns: the agent's greeting, the customer's complaint


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcoach", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def _stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result.stderr.strip().splitlines()


def _one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    lines = _stderr_lines(result)
    assert result.returncode == 2 and len(lines) == 1, (result.returncode, result.stderr)
    assert lines[0].startswith("callcoach: error: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple[np.ndarray, int]:
    data, rate = sf.read(str(DEMO), dtype="float32")
    return data[: int(CLIP_S * rate)], rate


@pytest.fixture(scope="module")
def clip_wav(tmp_path_factory, clip) -> Path:
    path = tmp_path_factory.mktemp("audio") / "clip.wav"
    sf.write(str(path), clip[0], clip[1], subtype="PCM_16")
    return path


def _heard_the_script(summary: dict, max_wer: float = 0.15) -> None:
    """Both turns of the clip, each from its own speaker."""
    for turn in SCRIPT[:2]:
        said = " ".join(u["text"] for u in summary["utterances"] if u["speaker"] == turn["speaker"])
        wer = callgen.word_error_rate(turn["text"], said)
        assert wer <= max_wer, f"{turn['speaker']}: WER {wer:.2f}, heard {said!r}"


# ============================================================================ settings


CORRUPT_JSON = {
    "empty": b"",
    "half-written": b'{"redact": false, "opacity": 0.5, "pace_lo',
    "garbage bytes": bytes(range(256)) * 8,
    "not an object": b'["redact", false]',
    "nested too deep": b"[" * 100_000 + b"]" * 100_000,  # json.loads raised RecursionError
}


@pytest.mark.parametrize("content", CORRUPT_JSON.values(), ids=CORRUPT_JSON.keys())
def test_corrupt_settings_file_runs_on_defaults_and_is_kept_aside(fresh_settings, content):
    path = fresh_settings / "settings.json"
    path.write_bytes(content)
    settings = Settings()
    assert len(settings.errors) == 1 and str(path) in settings.errors[0] and "\n" not in settings.errors[0]
    assert settings.get(Key.REDACT) is True and settings.get(Key.OPACITY) == OPTIONS[Key.OPACITY].default
    assert path.read_bytes() == content, "loading never writes"
    settings.set(Key.OPACITY, 0.7)
    settings.save()
    kept = list(fresh_settings.glob("settings.bad-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == content, "the bad file is kept before the new one is written"
    assert json.loads(path.read_text()) == {"opacity": 0.7}


def test_a_folder_where_the_settings_file_belongs_is_left_alone(fresh_settings):
    path = fresh_settings / "settings.json"
    path.mkdir()
    (path / "keep.txt").write_text("mine")
    settings = Settings()
    assert len(settings.errors) == 1 and str(path) in settings.errors[0]
    settings.set(Key.OPACITY, 0.7)
    with pytest.raises(OSError):  # the widget's settings dialog shows this; nothing is removed
        settings.save()
    assert (path / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_commands_say_what_was_wrong_with_the_settings_and_run_on(fresh_settings, clip_wav, tmp_path):
    path = fresh_settings / "settings.json"
    content = CORRUPT_JSON["half-written"]
    path.write_bytes(content)
    out = tmp_path / "out.json"
    result = _cli("analyze", str(clip_wav), "--json", str(out))
    lines = _stderr_lines(result)
    assert result.returncode == 0, result.stderr
    assert lines == [f"callcoach: warning: {path}: unreadable settings ({lines[0].split('(', 1)[1]}"], lines
    assert lines[0].endswith("; using defaults") and "Unterminated string" in lines[0]
    _heard_the_script(json.loads(out.read_text()))
    assert len(SessionStore(default_store_path(Settings())).list_sessions()) == 1, "stored, with the default (redaction on)"
    explained = _cli("explain", "--role", "customer", "I want to speak to your manager")
    assert explained.returncode == 0 and json.loads(explained.stdout)["upset"] is True
    assert _stderr_lines(explained) == []  # explain reads no settings
    doctor = _cli("doctor", "--json")
    _stderr_lines(doctor)
    check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "settings")
    assert check["status"] == "warn" and str(path) in check["message"], check
    assert path.read_bytes() == content, "no command rewrote the user's file"


# ============================================================================ policy


CORRUPT_TOML = {
    "half-written": b'[settings]\nredact = false\n[locked]\nkeys = ["red',
    "garbage bytes": bytes(range(256)) * 8,
    "nested too deep": b"x = " + b"[" * 5000 + b"]" * 5000,  # tomllib raised RecursionError
}


@pytest.mark.parametrize("content", [*CORRUPT_TOML.values(), None], ids=[*CORRUPT_TOML.keys(), "a folder"])
def test_unreadable_policy_locks_redaction_and_storage_at_their_defaults(fresh_settings, tmp_path, content):
    user = Settings()  # the user's choices, made while there was no policy
    user.set(Key.REDACT, False)
    user.set(Key.SESSION_FOLDER, str(tmp_path / "elsewhere"))
    user.save()
    policy = Path(os.environ["CALLCOACH_POLICY_FILE"])
    if content is None:
        policy.mkdir()
    else:
        policy.write_bytes(content)
    settings = Settings()
    assert len(settings.errors) == 1 and str(policy) in settings.errors[0] and "\n" not in settings.errors[0]
    assert settings.policy_errors == settings.errors
    assert settings.get(Key.REDACT) is True and settings.locked(Key.REDACT)
    assert settings.get(Key.SESSION_FOLDER) == "" and settings.locked(Key.SESSION_FOLDER)
    assert json.loads(settings.user_path.read_text())["redact"] is False, "the user's own choice is kept"


@pytest.mark.slow
def test_doctor_fails_and_analyze_warns_on_an_unreadable_policy(fresh_settings, clip_wav, tmp_path):
    policy = Path(os.environ["CALLCOACH_POLICY_FILE"])
    policy.write_bytes(CORRUPT_TOML["half-written"])
    doctor = _cli("doctor", "--json")
    _stderr_lines(doctor)
    assert doctor.returncode == 1
    check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "settings")
    assert check["status"] == "fail" and str(policy) in check["message"] and "safe defaults" in check["message"]
    result = _cli("analyze", str(clip_wav), "--json", str(tmp_path / "out.json"))
    lines = _stderr_lines(result)
    assert result.returncode == 0 and len(lines) == 1 and str(policy) in lines[0], result.stderr
    assert lines[0].startswith("callcoach: warning: ")


# ============================================================================ playbook


def _builtin_text() -> str:
    return builtin_path().read_text(encoding="utf-8")


BAD_PLAYBOOKS = {
    "empty": lambda: b"",
    "half-written": lambda: _builtin_text()[: len(_builtin_text()) * 2 // 3].encode(),
    "cut inside a string": lambda: _builtin_text()[: _builtin_text().index('"', 2000) + 5].encode(),
    "garbage bytes": lambda: bytes(range(256)) * 8,
    "nested too deep": lambda: b"version = " + b"[" * 5000 + b"]" * 5000,
    "cue list of numbers": lambda: _builtin_text().replace('customer_cues_any = ["', 'customer_cues_any = [1, ["', 1)
    .encode(),
}


@pytest.mark.parametrize("make", BAD_PLAYBOOKS.values(), ids=BAD_PLAYBOOKS.keys())
def test_bad_playbook_is_named_and_the_builtin_takes_over(tmp_path, make):
    path = tmp_path / "mine.toml"
    path.write_bytes(make())
    playbook, error = load_playbook(path)
    assert playbook.source == str(builtin_path())
    assert error and error.startswith(str(path)) and "\n" not in error and error.endswith("using the built-in playbook")
    with pytest.raises(CallCoachError, match="mine.toml"):
        parse_playbook(path.read_bytes().decode("utf-8", "replace"), str(path))


def test_playbook_path_that_is_a_folder_or_missing(tmp_path):
    for path in (tmp_path, tmp_path / "missing.toml"):
        playbook, error = load_playbook(path)
        assert playbook.source == str(builtin_path()) and error.startswith(str(path)), error


def test_playbook_error_is_a_one_line_user_error():
    assert issubclass(PlaybookError, CallCoachError) and issubclass(PlaybookError, ValueError)


def test_rules_that_match_while_a_signal_is_unknown_still_explain_themselves(tmp_path):
    """A valid rule may hold while its signal is still None (no pace yet, no talk share):
    the prompt's reason said f"{None:g}" and the coach raised TypeError mid-call."""
    path = tmp_path / "odd.toml"
    path.write_text("""
[[rule]]
id = "pace_fine"
kind = "listen_more"
severity = "info"
title = "Pace fine"
message = "m"
when = { on = "agent_utterance", agent_pace_above_band = false, agent_wpm_above = -1, agent_talk_share_above = -1 }

[[rule]]
id = "louder"
kind = "stay_calm"
severity = "warning"
title = "Louder"
message = "m"
when = { on = "customer_utterance", customer_raised_db_at_least = -100, agent_raised_db_at_least = -100 }
""")
    playbook, error = load_playbook(path)
    assert error is None
    coach = Coach(playbook)
    prompts = []
    coach.subscribe(lambda e: prompts.append(e) if type(e).__name__ == "Prompt" else None)
    coach(Utterance("agent", 1.0, 2.0, "hello there", (), None, None))
    coach(Watermark(40.0))
    coach(Utterance("customer", 41.0, 42.0, "hi", (), None, None))
    coach(CallEnded(45.0))
    reasons = {p.rule: p.because for p in prompts}
    assert "agent pace unknown wpm, within the 190 wpm band" in reasons["pace_fine"]
    assert "agent talk share unknown" in reasons["pace_fine"]
    assert reasons["louder"] == "customer unknown dB louder than usual; agent unknown dB louder than usual"


@pytest.mark.slow
def test_commands_with_a_bad_playbook_warn_and_use_the_builtin(clip_wav, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_bytes(BAD_PLAYBOOKS["nested too deep"]())
    explained = _cli("explain", "--role", "customer", "I want to speak to your manager", "--playbook", str(path))
    lines = _stderr_lines(explained)
    assert explained.returncode == 0 and len(lines) == 1 and lines[0].startswith(f"callcoach: warning: {path}")
    assert "escalate" in json.loads(explained.stdout)["kinds"], "the built-in playbook answered"
    out = tmp_path / "out.json"
    analyzed = _cli("analyze", str(clip_wav), "--json", str(out), "--playbook", str(path), "--no-store")
    lines = _stderr_lines(analyzed)
    assert analyzed.returncode == 0 and len(lines) == 1 and lines[0].startswith(f"callcoach: warning: {path}")
    summary = json.loads(out.read_text())
    assert any(str(path) in n["message"] for n in summary["notices"]), "the session says so too"
    assert summary["prompts"], "the built-in playbook coached the call"


# ============================================================================ session store


def _real_store(path: Path) -> None:
    store = SessionStore(path)
    for i in range(40):
        sid = store.begin({"agent": "sam"})
        store.finish(sid, {"duration_s": float(i), "utterances": [{"text": "hello " * 50}]})
    store.close()


def _damage(path: Path, kind: str) -> None:
    if kind == "truncated":
        _real_store(path)
        data = path.read_bytes()
        for extra in path.parent.glob(path.name + "-*"):
            extra.unlink()
        path.write_bytes(data[: len(data) // 2 + 100])  # half a page over the half
    elif kind == "garbage bytes":
        path.write_bytes(bytes((i * 37) % 256 for i in range(20_000)))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "a folder":
        path.mkdir()
        (path / "keep.txt").write_text("mine")


def _snapshot(path: Path):
    return sorted((p.name, p.read_bytes()) for p in path.iterdir()) if path.is_dir() else path.read_bytes()


@pytest.mark.parametrize("kind", ["truncated", "garbage bytes", "a folder"])
def test_damaged_store_is_refused_with_one_line_and_left_as_it_is(tmp_path, kind):
    path = tmp_path / "sessions.db"
    _damage(path, kind)
    before = _snapshot(path)
    with pytest.raises(CallCoachError) as info:
        SessionStore(path).list_sessions()
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert _snapshot(path) == before


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["truncated", "garbage bytes", "empty", "a folder"])
def test_analyze_and_doctor_with_a_damaged_store(clip_wav, tmp_path, kind):
    path = default_store_path(Settings())
    path.parent.mkdir(parents=True, exist_ok=True)
    _damage(path, kind)
    before = _snapshot(path)
    out = tmp_path / "out.json"
    result = _cli("analyze", str(clip_wav), "--json", str(out))
    lines = _stderr_lines(result)
    assert result.returncode == 0, result.stderr
    _heard_the_script(json.loads(out.read_text()))  # the analysis never depends on the archive
    doctor = _cli("doctor", "--json")
    _stderr_lines(doctor)
    check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "session store")
    if kind == "empty":  # an empty file is a new store: used, nothing to warn about
        assert lines == [] and check["status"] == "ok"
        assert len(SessionStore(path).list_sessions()) == 1
        return
    assert len(lines) == 1 and lines[0].startswith("callcoach: warning: not storing this session: ")
    assert str(path) in lines[0]
    assert check["status"] == "fail" and str(path) in check["message"]
    assert _snapshot(path) == before, "the damaged store was not written to"


# ============================================================================ audio


@pytest.mark.slow
@pytest.mark.parametrize("rate", [11025, 22050, 96000])  # 8000, 44100, 48000: tests/test_analyze.py
def test_any_sample_rate(clip_wav, tmp_path, rate):
    path = tmp_path / f"{rate}.wav"
    callgen.resample_file(clip_wav, path, rate)
    assert sf.info(str(path)).samplerate == rate
    summary = analyze_call(call=str(path), store=False, progress=False, settings=Settings())
    assert summary["duration_s"] == pytest.approx(CLIP_S, abs=0.05)
    _heard_the_script(summary)


@pytest.mark.slow
def test_six_channels_use_the_first_two(clip_wav, tmp_path):
    path = tmp_path / "six.wav"
    callgen.to_multichannel(clip_wav, path, channels=6, fill="copy")  # 3-6 repeat 1-2: not used
    _heard_the_script(analyze_call(call=str(path), store=False, progress=False, settings=Settings()))


@pytest.mark.slow
@pytest.mark.parametrize("name, change", [
    ("clipped: 12x gain, cut at full scale", lambda x: np.clip(x * 12, -1, 1)),
    ("DC offset +0.3 on half-level speech", lambda x: x * 0.5 + 0.3),
    ("DC offset -0.45", lambda x: np.clip(x - 0.45, -1, 1)),
])
def test_clipping_and_dc_offset_are_still_heard(clip, tmp_path, name, change):
    """Silero VAD heard no customer speech under a DC offset of 0.3 (the customer's quieter
    phone-line voice was lost whole); it now hears each chunk without its mean."""
    audio, rate = clip
    path = tmp_path / "changed.wav"
    sf.write(str(path), change(audio).astype(np.float32), rate, subtype="FLOAT")
    _heard_the_script(analyze_call(call=str(path), store=False, progress=False, settings=Settings()))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_a_recording_cut_short_is_analyzed_up_to_the_cut(clip, tmp_path, fmt):
    """Cut mid-frame, as when the recorder died. WAV reads to the cut; FLAC lost sync there
    and the whole file was refused: now what decodes before the damage is analyzed."""
    audio, rate = clip
    whole = tmp_path / f"whole.{fmt.lower()}"
    sf.write(str(whole), audio, rate, format=fmt, subtype="PCM_16")
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{fmt.lower()}"
    cut.write_bytes(data[: int(len(data) * 0.75) + 3])  # mid-frame, odd byte
    out = tmp_path / "out.json"
    result = _cli("analyze", str(cut), "--json", str(out), "--no-store")
    lines = _stderr_lines(result)
    assert result.returncode == 0, result.stderr
    summary = json.loads(out.read_text())
    assert 0.6 * CLIP_S < summary["duration_s"] < CLIP_S, summary["duration_s"]
    assert summary["utterances"] and summary["utterances"][0]["speaker"] == "agent"
    if fmt == "FLAC":
        assert len(lines) == 1 and str(cut) in lines[0] and "analyzing the part before" in lines[0], lines


@pytest.mark.slow
def test_files_that_hold_no_audio_get_one_line(tmp_path):
    out = str(tmp_path / "out.json")
    cases = {
        "empty.wav": b"",
        "header-only.wav": None,  # a valid WAV header, 0 frames
        "random.flac": bytes((i * 131 + 7) % 256 for i in range(8000)),
        "fLaC-then-junk.flac": b"fLaC" + bytes((i * 7) % 256 for i in range(4000)),
        "picture.wav": (ROOT / "docs" / "widget-idle.png").read_bytes(),
    }
    for name, content in cases.items():
        path = tmp_path / name
        if content is None:
            sf.write(str(path), np.zeros((0, 2), np.float32), 16000, subtype="PCM_16")
        else:
            path.write_bytes(content)
        line = _one_line_error(_cli("analyze", str(path), "--json", out), name)
        assert "no audio" in line or "not a readable audio file" in line, line
    assert not (tmp_path / "out.json").exists()


# ============================================================================ text


HARD_TEXTS = {
    "emoji": "😡😡😡 this is 💩 service 🙄🙄 I want a refund NOW 👎",
    "10,000 words": " ".join(["I have been waiting for three weeks and nobody called me back"] * 770),
    "Spanish": "Estoy muy enojado, llevo tres semanas esperando y nadie me devuelve la llamada",
    "Chinese": "我已经等了三个星期了，没有人给我回电话，我要找你们经理",
    "Arabic (right to left)": "أنا غاضب جدا، أريد التحدث إلى المدير الآن",
    "Russian": "Я жду уже три недели, это безобразие, дайте мне начальника",
    "control characters": "my card\x00 is \x1b[31m4111\x1b[0m 1111\r1111\u202e1111\x07 thanks\x7f\u200d",
    "zero-width and combining": "pa\u200by\u0301ment fa\u0308iled a\u0300gain a\ufeffnd again",
    "only punctuation": "?!?!... --- !!!",
    "one long word": "a" * 50_000,
}


@pytest.mark.parametrize("text", HARD_TEXTS.values(), ids=HARD_TEXTS.keys())
def test_sentiment_coach_and_redactor_take_any_text(text, tmp_path):
    for role in ("customer", "agent"):
        s = score(text, role)
        assert -1 <= s.score <= 1 and 0 <= s.anger <= 1
        line = explain_line(role, text)
        assert json.loads(json.dumps(line, ensure_ascii=False))["text"] == text
    assert isinstance(redact(text).text, str) and isinstance(StreamRedactor().push(text), str)
    # Through the coach, the session recorder and the store, as an utterance of a call.
    words = tuple(Word(w, 1.0 + i * 0.01, 1.0 + i * 0.01 + 0.005, 0.9) for i, w in enumerate(text.split()[:20_000]))
    coach, recorder = Coach(), SessionRecorder("text.wav")
    store = SessionStore(tmp_path / "sessions.db")
    writer = StoreWriter(store)
    coach.subscribe(recorder)
    coach.subscribe(writer)
    for role, start in (("customer", 1.0), ("agent", 200.0)):
        coach(Utterance(role, start, start + 150.0, text, words, None, None))
        coach(Watermark(start + 160.0))
    coach(CallEnded(400.0))
    writer.close()
    assert not writer.errors, writer.errors
    summary = recorder.summary()
    assert [u["text"] for u in summary["utterances"]] == [text, text]
    json.dumps(summary, ensure_ascii=False)
    stored = store.get(writer.id)
    assert stored["status"] == "complete" and len(stored["utterances"]) == 2
    for prompt in summary["prompts"]:
        assert len(prompt["because"]) < 500, "a reason quotes at most a short piece of what was said"
    if summary["handoff_note"]:
        assert len(summary["handoff_note"]) < 2000
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["emoji", "10,000 words", "Chinese", "Arabic (right to left)", "control characters"])
def test_explain_command_takes_any_text(name):
    text = HARD_TEXTS[name].replace("\x00", "")  # a command-line argument cannot hold NUL
    result = _cli("explain", "--role", "customer", text)
    assert result.returncode == 0 and _stderr_lines(result) == [], result.stderr
    line = json.loads(result.stdout)
    assert line["text"] == text and -1 <= line["sentiment"] <= 1

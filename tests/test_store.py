"""The session store: round trip, permissions, crash recovery, damage, redaction."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callcoach.coach.events import CallSummary, CoachState, Feedback, Prompt, PromptCleared, ScoredUtterance
from callcoach.engine.events import CallEnded, Notice, Utterance
from callcoach.engine.transcriber import Word
from callcoach.errors import CallCoachError
from callcoach.settings import Settings
from callcoach.store import STORED_KINDS, SessionStore, StoreWriter, default_store_path
from tests import callgen
from tests.callgen import Turn
from tests.pii_call import CARD_CALL, planted_card

ROOT = Path(__file__).resolve().parents[1]
A, C = "agent", "customer"


# --------------------------------------------------------------------------- helpers


def _utterance(role: str, start: float, text: str) -> Utterance:
    words, t = [], start
    for w in text.split():
        words.append(Word(" " + w, t, t + 0.3, 0.9))
        t += 0.35
    return Utterance(role, start, t, text, tuple(words), 150.0, 0.5)


def _prompt(pid: int, t: float, kind: str = "apologize", because: str = "heard: waiting") -> Prompt:
    return Prompt(id=pid, t=t, kind=kind, severity="warning", title="Apologize", message="Say sorry",
                  phrase="I am sorry", tactic="Take ownership", because=because, rule="rule", priority=5, sticky=False)


def _call_events() -> list:
    u1 = _utterance(A, 0.5, "thank you for calling how can I help")
    u2 = _utterance(C, 3.5, "I have been waiting three weeks for my refund")
    return [
        u1, ScoredUtterance(A, u1.start, u1.end, 0.2, False),
        u2, ScoredUtterance(C, u2.start, u2.end, -0.6, True, ("waiting",)),
        CoachState(7.0, -0.6, "angry", "worsening", 150.0, None, (120.0, 190.0), 0.5, 0.0, 0, False),
        _prompt(1, 7.0),
        Feedback(1, 8.0, "done"),
        PromptCleared(1, 8.0, "done"),
        Notice("warning", "customer audio gap of 1.2 s", 9.0),
        CallEnded(10.0),
        CallSummary({"customer_sentiment": {"start": -0.6, "end": -0.4, "min": -0.6}, "escalated": False,
                     "agent_wpm": 150.0}, None, ("Confirm the refund",)),
    ]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --------------------------------------------------------------------------- basics


def test_default_path_follows_the_data_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCOACH_DATA_DIR", str(tmp_path / "x"))
    assert default_store_path(Settings()) == tmp_path / "x" / "sessions.db"
    monkeypatch.delenv("CALLCOACH_DATA_DIR")
    assert default_store_path(Settings()).name == "sessions.db" and "CallCoach" in str(default_store_path(Settings()))


def test_round_trip_through_the_writer(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    writer = StoreWriter(store, meta={"agent": "sam", "source": "test.wav"}, redact=False)
    for event in _call_events():
        writer(event)
    writer.close()
    assert writer.finished.is_set() and not writer.errors

    rows = store.list_sessions()
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == writer.id and row["status"] == "complete" and row["agent"] == "sam"
    assert row["duration_s"] == 10.0 and row["worst_mood"] == -0.6
    assert row["prompts_shown"] == 1 and row["prompts_acted"] == 1 and row["escalated"] is False

    s = store.get(writer.id)
    assert s["schema"] == "callcoach.session.v1" and s["complete"] is True and s["status"] == "complete"
    assert [u["speaker"] for u in s["utterances"]] == [A, C]
    assert s["utterances"][1]["text"] == "I have been waiting three weeks for my refund"
    assert s["utterances"][1]["sentiment"] == -0.6
    assert s["prompts"][0]["feedback"] == {"t": 8.0, "action": "done"}
    assert s["notices"][0]["message"].startswith("customer audio gap")
    assert s["follow_up"] == ["Confirm the refund"]
    assert store.events(writer.id) == [], "the journal is dropped once the summary is stored"

    assert store.set_qa(writer.id, "good recovery", 4.5, redact=False)
    assert store.get(writer.id)["qa"] == {"note": "good recovery", "score": 4.5}
    assert store.list_sessions(reviewed=True)[0]["qa_score"] == 4.5
    assert store.set_qa("nope", "x", 1, redact=False) is False
    store.close()

    again = SessionStore(tmp_path / "s.db")  # reopened: same content
    assert again.get(writer.id)["utterances"] == s["utterances"]


def test_listing_filters_sorts_and_pages(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    for i in range(30):
        sid = store.begin({"id": f"s{i:02d}", "started_at": f"2025-01-{i % 28 + 1:02d}T10:00:00+00:00",
                           "agent": "sam" if i % 2 else "alex"})
        store.finish(sid, {"duration_s": 60.0 + i, "prompts": [{"kind": "escalate"}] if i % 5 == 0 else [],
                           "metrics": {"customer_sentiment": {"min": -i / 30}, "escalated": i % 5 == 0}})
    everything = store.list_sessions()
    assert len(everything) == 30 and store.count_sessions() == 30
    starts = [r["started_at"] for r in everything]
    assert starts == sorted(starts, reverse=True)
    assert {r["agent"] for r in store.list_sessions(agent="sam")} == {"sam"}
    assert len(store.list_sessions(escalated=True)) == 6 == store.count_sessions(escalated=True)
    worst = store.list_sessions(sort="worst_mood", descending=False, limit=3)
    assert [r["id"] for r in worst] == ["s29", "s28", "s27"]
    page2 = store.list_sessions(sort="duration_s", limit=10, offset=10)
    assert [r["duration_s"] for r in page2] == [79.0 - i for i in range(10)]
    assert len(store.list_sessions(since="2025-01-10", until="2025-01-20")) == 10
    assert len(store.list_sessions(max_worst_mood=-0.5, status="complete")) == 15
    with pytest.raises(ValueError):
        store.list_sessions(sort="summary_json; DROP TABLE sessions")


def test_files_and_folder_are_private(tmp_path):
    folder = tmp_path / "new" / "CallCoach"
    store = SessionStore(folder / "sessions.db")
    writer = StoreWriter(store, redact=False)
    writer(_utterance(C, 1.0, "hello"))
    writer.flush()
    assert _mode(folder) == 0o700
    files = sorted(p.name for p in folder.iterdir())
    assert {"sessions.db", "sessions.db-wal", "sessions.db-shm"} <= set(files), files
    for name in files:
        assert _mode(folder / name) == 0o600, name
    writer.close()
    out = tmp_path / "export.csv"
    store.export_csv(store.list_sessions(), out)
    assert _mode(out) == 0o600


def test_csv_export_neutralises_formulas(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    sid = store.begin({"agent": "=HYPERLINK(\"http://x\")"})
    store.finish(sid, {"duration_s": 5.0, "metrics": {"customer_sentiment": {"min": -0.5}}})
    store.set_qa(sid, "+1 call back", 3, redact=False)
    assert store.export_csv(store.list_sessions(), tmp_path / "o.csv") == 1
    text = (tmp_path / "o.csv").read_text()
    assert "'=HYPERLINK" in text and "'+1 call back" in text and ",-0.5," in text


# --------------------------------------------------------------------------- crash recovery


def test_recover_marks_sessions_of_dead_writers_incomplete(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    dead = store.begin({"id": "dead"})
    alive = store.begin({"id": "alive"})  # this process, fresh heartbeat: still being written
    stale = store.begin({"id": "stale"})
    store.append(dead, "Utterance", 2.0, {"role": C, "start": 1.0, "end": 2.0, "text": "hello", "words": [],
                                          "wpm": None, "latency_s": None})
    store._db.execute("UPDATE sessions SET writer_pid = ? WHERE id = 'dead'", (_dead_pid(),))
    store._db.execute("UPDATE sessions SET updated_at = '2020-01-01T00:00:00+00:00' WHERE id = 'stale'")
    listed = {r["id"]: r["status"] for r in store.list_sessions()}
    assert listed == {"dead": "incomplete", "alive": "live", "stale": "incomplete"}, "shown before recover()"

    assert sorted(store.recover()) == ["dead", "stale"]
    assert store.recover() == []
    s = store.get("dead")
    assert s["complete"] is False and s["status"] == "incomplete"
    assert [u["text"] for u in s["utterances"]] == ["hello"] and s["duration_s"] == 2.0
    assert store.get(alive)["status"] == "live"


def test_writer_closed_mid_call_leaves_an_incomplete_session(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    writer = StoreWriter(store, redact=False)
    writer(_utterance(C, 1.0, "my order never arrived"))
    writer.close()
    s = store.get(writer.id)
    assert s["status"] == "incomplete" and s["complete"] is False
    assert s["utterances"][0]["text"] == "my order never arrived"


def test_writer_commits_within_half_a_second_without_being_asked(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    writer = StoreWriter(store, redact=False)
    reader = sqlite3.connect(tmp_path / "s.db")
    writer(_utterance(C, 1.0, "hello there"))
    sent = time.monotonic()
    while not reader.execute("SELECT count(*) FROM events").fetchone()[0]:
        assert time.monotonic() - sent < 1.0, "not committed within 1 s"
        time.sleep(0.02)
    reader.close()
    writer.close()


# --------------------------------------------------------------------------- damage


def test_damaged_summary_json_shows_as_damaged(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    good = store.begin({"id": "good"})
    store.finish(good, {"duration_s": 1.0, "utterances": [], "prompts": []})
    bad = store.begin({"id": "bad"})
    store.finish(bad, {"duration_s": 1.0, "utterances": [], "prompts": []})
    store._db.execute("UPDATE summaries SET summary_json = '{\"utterances\": [{\"spea' WHERE session_id = 'bad'")
    s = store.get("bad")
    assert s["damaged"] is True and s["status"] == "damaged" and "JSON" in s["problem"]
    assert {r["id"]: r["status"] for r in store.list_sessions()} == {"good": "complete", "bad": "damaged"}
    assert store.get("bad")["status"] == "damaged" and "_bad_events" not in store.get("bad")
    assert store.get("good")["complete"] is True


def test_damaged_columns_and_journal_events_never_raise(tmp_path):
    store = SessionStore(tmp_path / "s.db")
    sid = store.begin({"id": "weird"})
    store._db.execute("UPDATE sessions SET duration_s = 'abc', prompts_shown = x'00ff', status = 'zzz' "
                      "WHERE id = 'weird'")
    row = store.list_sessions()[0]
    assert row["status"] == "damaged" and "duration_s" in row["problem"] and row["duration_s"] is None

    journal = store.begin({"id": "journal"})
    store.append(journal, "Utterance", 1.0, {"role": C, "start": 0.5, "end": 1.0, "text": "ok", "words": [],
                                             "wpm": None, "latency_s": None})
    store.append(journal, "Utterance", 2.0, {"role": C})  # not an utterance any more
    store._db.execute("INSERT INTO events VALUES ('journal', 99, 3.0, 'Prompt', 'not json')")
    store._db.execute("UPDATE sessions SET writer_pid = ? WHERE id = 'journal'", (_dead_pid(),))
    s = store.get("journal")
    assert s["damaged"] is True and [u["text"] for u in s["utterances"]] == ["ok"]
    assert store.get("weird")["status"] == "damaged"
    assert store.get("missing") is None
    store.export_csv(store.list_sessions(), tmp_path / "o.csv")


# The kind of every journal row, as versions before the type-keyed STORED_KINDS wrote it.
OLD_KINDS = ("CoachSetup", "Utterance", "ScoredUtterance", "Prompt", "PromptCleared", "PromptWithheld", "Feedback",
             "Notice", "CallSummary", "CallEnded", "DeviceGap", "AudioDropped")


def test_journal_rows_of_older_versions_still_read_back(tmp_path):
    """The kind names are in users' files: renaming an event class must not orphan them."""
    assert sorted(STORED_KINDS.values()) == sorted(OLD_KINDS)
    store = SessionStore(tmp_path / "s.db")
    sid = store.begin({"id": "old"})
    rows = {
        "CoachSetup": {"pace_band": [120, 190], "playbook_source": "built-in", "playbook_version": 1},
        "Utterance": {"role": C, "start": 0.5, "end": 1.5, "text": "where is my refund",
                      "words": [{"text": " where", "start": 0.5, "end": 0.8}], "wpm": None, "latency_s": None},
        "ScoredUtterance": {"role": C, "start": 0.5, "end": 1.5, "sentiment": -0.5, "upset": True, "cues": ["x"]},
        "Prompt": {"id": 1, "t": 2.0, "kind": "apologize", "severity": "warning", "title": "Apologize",
                   "message": "m", "phrase": "p", "tactic": "t", "because": "b", "rule": "r", "priority": 5,
                   "sticky": False},
        "Feedback": {"prompt_id": 1, "t": 3.0, "action": "done"},
        "PromptCleared": {"id": 1, "t": 3.0, "reason": "done"},
        "PromptWithheld": {"t": 2.0, "until": 4.0, "kind": "slow_down", "severity": "info", "title": "Slow",
                           "because": "b", "rule": "r2", "reason": "spacing", "fate": "expired"},
        "Notice": {"level": "warning", "message": "gap", "t": 4.0},
        "DeviceGap": {"role": C, "start": 4.0, "end": 5.0, "reason": "unplugged"},
        "AudioDropped": {"role": A, "t": 4.5, "seconds": 0.2, "blocks": 2, "reason": "queue full"},
        "CallEnded": {"duration": 6.0},
        "CallSummary": {"metrics": {"escalated": False}, "handoff": None, "checklist": ["Call back"]},
    }
    assert sorted(rows) == sorted(OLD_KINDS)
    for seq, (kind, body) in enumerate(rows.items()):
        store._db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", (sid, seq + 1, 1.0, kind, json.dumps(body)))
    store._db.execute("UPDATE sessions SET writer_pid = ? WHERE id = 'old'", (_dead_pid(),))
    s = store.get("old")
    assert not s.get("damaged"), s.get("problem")
    assert [u["text"] for u in s["utterances"]] == ["where is my refund"] and s["utterances"][0]["upset"] is True
    assert s["prompts"][0]["feedback"] == {"t": 3.0, "action": "done"} and s["prompts"][0]["cleared"]["reason"] == "done"
    assert s["withheld"][0]["rule"] == "r2" and s["notices"][0]["message"] == "gap"
    assert s["gaps"][0]["reason"] == "unplugged" and s["metrics"]["dropped_blocks"][A] == 2
    assert s["duration_s"] == 6.0 and s["follow_up"] == ["Call back"] and s["coach"]["pace_band"] == [120, 190]


@pytest.mark.parametrize("content", [
    b"this is not a database at all\n" * 50,
    b"SQLite format 3\x00" + bytes(range(256)) * 40,  # right magic, garbage pages
    b"",  # an empty file is a new store: no error
])
def test_corrupt_file_gives_one_line_error_and_is_left_alone(tmp_path, content):
    path = tmp_path / "sessions.db"
    path.write_bytes(content)
    if not content:
        SessionStore(path).close()
        return
    with pytest.raises(CallCoachError) as info:
        SessionStore(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "left as it is" in message
    assert path.read_bytes() == content


def test_no_damaged_page_makes_the_reader_raise(tmp_path):
    """Each page of a real store in turn overwritten with junk: opening fails with one line
    and leaves the file alone, or the store opens and lists/reads without raising."""
    folder = tmp_path / "store"
    path = folder / "sessions.db"
    store = SessionStore(path)
    for i in range(120):
        sid = store.begin({"agent": "sam"})
        store.finish(sid, {"duration_s": float(i), "utterances": [{"text": "x" * 400}]})
    for _ in range(3):
        sid = store.begin({"agent": "sam"})
        store.append(sid, "Utterance", 1.0, {"role": C, "start": 0.5, "end": 1.0, "text": "hi " * 300,
                                             "words": [], "wpm": None, "latency_s": None})
    store.close()
    pristine = path.read_bytes()
    outcomes = set()
    for page in range(len(pristine) // 4096):
        for extra in folder.iterdir():
            if extra.name != path.name:
                extra.unlink()
        data = bytearray(pristine)
        data[page * 4096:(page + 1) * 4096] = bytes((i * 7 + page) % 256 for i in range(4096))
        path.write_bytes(bytes(data))
        try:
            damaged = SessionStore(path)
        except CallCoachError as exc:
            assert "\n" not in str(exc) and path.read_bytes() == bytes(data), page
            outcomes.add("refused")
            continue
        try:
            rows = damaged.list_sessions()
            for row in rows:
                damaged.get(row["id"])
            damaged.recover()
            damaged.list_sessions(status="complete", sort="duration_s", limit=10)
            outcomes.add("damaged rows" if any(r["status"] == "damaged" for r in rows) else "read")
        except CallCoachError as exc:  # the listing itself unreadable: still one line
            assert "\n" not in str(exc)
            outcomes.add("one-line error")
        damaged.close()
    assert {"refused", "damaged rows"} <= outcomes, outcomes


def test_foreign_sqlite_database_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE contacts (name TEXT)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(CallCoachError, match="not a CallCoach session store"):
        SessionStore(path)
    assert path.read_bytes() == before


# --------------------------------------------------------------------------- redaction


def _store_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.name.startswith("sessions.db"))


def test_writer_redacts_utterances_prompts_and_summary(tmp_path):
    pytest.importorskip("callcoach.redact")
    store = SessionStore(tmp_path / "sessions.db")
    writer = StoreWriter(store)  # redact=True is the default
    card = "my card number is 4539 1488 0343 6467 and it expires soon"
    u = _utterance(C, 1.0, card)
    writer(u)
    writer(_prompt(1, 2.0, because=f'heard: "{card}"'))
    writer(CallEnded(5.0))
    writer(CallSummary({"escalated": True}, f"Customer said: {card}", (f"Confirm {card}",)))
    writer.close()
    assert writer.finished.is_set() and not writer.errors
    data = _store_bytes(tmp_path)
    assert not planted_card(data), "the card number reached the disk"
    s = store.get(writer.id)
    assert "expires soon" in s["utterances"][0]["text"], "the rest of the words stay"
    assert len(s["utterances"][0]["words"]) == len(u.words), "word timings stay"


def test_redaction_can_be_switched_off(tmp_path):
    store = SessionStore(tmp_path / "sessions.db")
    writer = StoreWriter(store, redact=False)
    writer(_utterance(C, 1.0, "my card number is 4539 1488 0343 6467"))
    writer.close()
    assert store.get(writer.id)["utterances"][0]["text"].endswith("4539 1488 0343 6467")


@pytest.mark.slow
def test_spoken_card_number_never_reaches_the_disk(tmp_path):
    pytest.importorskip("callcoach.redact")
    from callcoach.audio.files import FileSource, read_call
    from callcoach.engine.engine import EngineSettings
    from callcoach.pipeline import CallPipeline

    wav = tmp_path / "card.wav"
    callgen.render_call(CARD_CALL, wav)
    folder = tmp_path / "store"
    pipeline = CallPipeline(EngineSettings(partials=False), source_name="card.wav")
    writer = StoreWriter.attach(pipeline, SessionStore(folder / "sessions.db"), agent="sam")
    pipeline.load()
    raw = pipeline.run(FileSource(read_call(str(wav)), realtime=False))
    writer.close()
    assert writer.finished.is_set() and not writer.errors
    raw_text = json.dumps(raw).encode()
    assert planted_card(raw_text), f"the model did not hear the card number: {raw_text[:2000]!r}"

    data = _store_bytes(folder)
    assert b"pay my bill" in data, "the store holds the call"
    assert not planted_card(data), "the card number reached the disk"
    s = SessionStore(folder / "sessions.db").get(writer.id)
    assert s["complete"] is True and len(s["utterances"]) == len(raw["utterances"])
    assert not planted_card(json.dumps(s).encode())


# --------------------------------------------------------------------------- the kill test


KILL_CALL = [
    Turn(A, "Thank you for calling, this is Sam. How can I help you?"),
    Turn(C, "Hi Sam. My internet has been down since yesterday."),
    Turn(A, "I am sorry to hear that. Let me check the line for you."),
    Turn(C, "Thanks. I work from home, so I need it back today."),
    Turn(A, "I can see an outage in your area. A technician is on it."),
    Turn(C, "How long will it take?"),
    Turn(A, "It should be fixed by three this afternoon."),
    Turn(C, "Okay, thank you."),
]


def _child_call(wav: str, db: str, log: str) -> None:
    """Run in a subprocess: a real-time call through the pipeline into the store.

    Every utterance the listeners get is also logged, with the wall time, straight to the
    kernel (os.write), so the parent knows what had been delivered when it killed us.
    """
    from callcoach.audio.files import FileSource, read_call
    from callcoach.engine.engine import EngineSettings
    from callcoach.pipeline import CallPipeline

    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def note(event) -> None:
        if isinstance(event, Utterance):
            line = json.dumps([event.role, round(event.start, 2), round(event.end, 2), time.time()])
            os.write(fd, (line + "\n").encode())

    pipeline = CallPipeline(EngineSettings(), measure_latency=True, source_name="kill.wav")
    writer = StoreWriter.attach(pipeline, SessionStore(db), agent="sam")
    pipeline.subscribe(note)
    pipeline.load()
    os.write(fd, b'"started"\n')
    pipeline.run(FileSource(read_call(wav), realtime=True))
    writer.close()


def _delivered(log: Path) -> list[list]:
    """[role, start, end, wall time] of each utterance the child's listeners got so far."""
    if not log.exists():
        return []
    lines = log.read_text().splitlines()
    return [json.loads(line) for line in lines[1:] if line.endswith("]")]


@pytest.mark.slow
def test_kill_9_mid_call_loses_at_most_the_last_second(tmp_path):
    pytest.importorskip("callcoach.redact")
    wav, db, log = tmp_path / "call.wav", tmp_path / "store" / "sessions.db", tmp_path / "delivered.jsonl"
    truth = callgen.render_call(KILL_CALL, wav)
    assert 15 < truth.duration < 30
    code = f"from tests.test_store import _child_call; _child_call({str(wav)!r}, {str(db)!r}, {str(log)!r})"
    errors = open(tmp_path / "child.err", "wb")
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=errors)
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while stored < 3:
            assert child.poll() is None, f"the call ended early: {(tmp_path / 'child.err').read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"only {stored} utterances stored after 60 s"
            if db.exists():
                try:
                    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as reader:
                        stored = reader.execute("SELECT count(*) FROM events WHERE kind = 'Utterance'").fetchone()[0]
                except sqlite3.OperationalError:
                    pass  # the writer is still creating the schema
            time.sleep(0.05)
        # Then kill one second after the next utterance reaches the listeners, without
        # looking at the store: that utterance must be on disk all the same.
        seen = stored
        while True:
            assert child.poll() is None, "the call ended before the kill"
            assert time.monotonic() < deadline, "no further utterance within 60 s"
            delivered = _delivered(log)
            if len(delivered) > seen:
                kill_at = delivered[seen][3] + 1.0
                break
            time.sleep(0.02)
        while time.time() < kill_at:
            time.sleep(0.01)
        killed_at = time.time()
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        errors.close()
    assert child.returncode == -signal.SIGKILL

    store = SessionStore(db)
    recovered = store.recover()
    assert len(recovered) == 1
    s = store.get(recovered[0])
    assert s["status"] == "incomplete" and s["complete"] is False and not s.get("damaged")
    assert s["duration_s"] < truth.duration - 1, "killed mid-call"
    stored = {(u["speaker"], u["start"], u["end"]) for u in s["utterances"]}
    delivered = _delivered(log)
    due = [(role, start, end) for role, start, end, at in delivered if at <= killed_at - 1.0]
    assert len(stored) >= 3 and len(due) > seen, "the kill came a second after an utterance not yet seen stored"
    assert set(due) <= stored, f"lost: {set(due) - stored}"
    assert {r["status"] for r in store.list_sessions()} == {"incomplete"}

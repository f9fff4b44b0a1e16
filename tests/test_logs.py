"""The log file: private, rotating, events and errors only, never what was said."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from callcoach import logs
from callcoach.paths import asset_path
from callcoach.redact import contains_planted
from tests import callgen
from tests.callgen import Turn

CARD = "4539148803436467"  # a valid (Luhn) test card number


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def events_to_file(tmp_path):
    """The events logger writing to a fresh file, as `callcoach` sets it up."""
    handler = logs.file_handler(tmp_path / "logs" / logs.LOG_NAME)
    logger = logging.getLogger("callcoach")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)
    handler.close()


def test_folder_and_files_are_private_and_rotate(events_to_file, tmp_path):
    events_to_file.maxBytes = 2000
    for i in range(300):  # ~24 kB: more than the file and its backups hold
        logs.log.info("event %d of a long run", i)
    folder = tmp_path / "logs"
    files = sorted(folder.iterdir())
    assert _mode(folder) == 0o700
    assert [f.name for f in files] == ["callcoach.log"] + [f"callcoach.log.{i}" for i in range(1, logs.BACKUPS + 1)]
    assert all(_mode(f) == 0o600 for f in files), {f.name: oct(_mode(f)) for f in files}
    assert all(f.stat().st_size <= 2000 for f in files)


def test_filter_redacts_messages_and_tracebacks(events_to_file):
    logs.log.warning("device said %s", "my card is 4539 1488 0343 6467")
    try:
        raise ValueError("bad value four five three nine one four eight eight zero three four three six four six seven")
    except ValueError:
        logs.log.exception("something failed")
    data = open(events_to_file.baseFilename, "rb").read()
    assert b"[CARD]" in data and b"ValueError" in data
    assert not contains_planted(data, [CARD])


def test_cli_errors_are_logged_once_on_stderr_and_in_the_file(tmp_path):
    result = subprocess.run([sys.executable, "-m", "callcoach", "analyze", str(tmp_path / "none.wav"),
                             "--json", str(tmp_path / "out.json")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"callcoach: error: {tmp_path / 'none.wav'}: no such file"]
    text = logs.log_path().read_text()
    assert "ERROR callcoach.events: analyze failed:" in text and "no such file" in text


# The bundled demo call (it names the customer and his street) followed by a card number
# and an email address read out, so the log is checked against planted personal data.
PII_TURNS = [
    Turn("agent", "Can I take a card for the payment?"),
    Turn("customer", "My card number is four five three nine, one four eight eight, zero three four three, "
                     "six four six seven."),
    Turn("agent", "Thank you. And an email for the receipt?"),
    Turn("customer", "It is mark dot davis at gmail dot com."),
]
NAMES = ["jordan", "mark", "davis", "maple", "gmail"]


@pytest.mark.slow
def test_analyze_logs_events_but_no_words_and_no_pii(tmp_path):
    demo, sr = sf.read(str(asset_path("demo_call.flac")), dtype="float32")
    callgen.render_call(PII_TURNS, tmp_path / "pii.wav", sample_rate=sr)
    pii, _ = sf.read(str(tmp_path / "pii.wav"), dtype="float32")
    sf.write(str(tmp_path / "call.wav"), np.concatenate([demo, pii]), sr)
    out = tmp_path / "out.json"
    result = subprocess.run([sys.executable, "-m", "callcoach", "analyze", str(tmp_path / "call.wav"),
                             "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(out.read_text())
    heard = " ".join(u["text"] for u in summary["utterances"]).lower()  # redacted, as analyze writes it
    assert "[card]" in heard and "maple" in heard, f"the model did not hear the PII: {heard}"

    text = logs.log_path().read_text()
    assert "call started" in text and "prompt raised: escalate" in text
    assert re.search(r"call ended: \d+\.\d s, \d+ agent and \d+ customer utterances, \d+ prompts", text), text
    assert not contains_planted(text, [CARD]), text
    lowered = text.lower()
    assert not [name for name in NAMES if name in lowered], text
    # No three words in a row from anything that was said (the log's own words are events).
    said = [re.findall(r"[a-z']+", u["text"].lower()) for u in summary["utterances"]]
    logged = " " + " ".join(re.findall(r"[a-z']+", lowered)) + " "
    said3 = {" ".join(w[i:i + 3]) for w in said for i in range(len(w) - 2)}
    leaked = {words for words in said3 if f" {words} " in logged}
    assert not leaked, leaked

"""A card number read out on a call reaches none of the files CallCoach writes: the session
store (database, WAL, SHM), the logs, the analyze JSON and the HTML report. Run through the
real CLI, model and redactor, as QA and IT would use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import callgen
from tests.pii_call import CARD_CALL, planted_card

pytestmark = pytest.mark.slow


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callcoach", *args], capture_output=True, text=True, timeout=300)


def test_planted_card_number_is_in_no_database_log_json_or_report(tmp_path):
    call = tmp_path / "card.wav"
    callgen.render_call(CARD_CALL, call)
    out, report = tmp_path / "session.json", tmp_path / "report.html"
    result = _cli("analyze", str(call), "--json", str(out))
    assert result.returncode == 0, result.stderr
    session = json.loads(out.read_text())
    customer = " ".join(u["text"] for u in session["utterances"] if u["speaker"] == "customer")
    assert "pay my bill" in customer and "[CARD]" in customer, f"the number was not heard and redacted: {customer}"
    result = _cli("report", session["id"], "--out", str(report))  # the stored session, by its id
    assert result.returncode == 0, result.stderr
    assert "pay my bill" in report.read_text()

    written = [out, report]
    for var in ("CALLCOACH_DATA_DIR", "CALLCOACH_LOG_DIR"):
        written += [p for p in Path(os.environ[var]).rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert "sessions.db" in names and any(n.endswith(".log") for n in names), names
    leaked = [str(p) for p in written if planted_card(p.read_bytes())]
    assert not leaked, f"the card number reached: {leaked}"

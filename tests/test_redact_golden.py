"""The redactor's output, byte for byte, on every line its tests and benchmark use.

tests/data/redaction_golden.jsonl was recorded from the redactor as it was before its long
functions were split into phases (issue 13): every text that tests/test_redact.py and
benchmarks/redaction_eval.py passed to redact() (texts over 2,000 characters left out), and
every StreamRedactor session they ran, utterance by utterance. A refactor of callcoach.redact
must leave all of it unchanged; a rule change that means to change an output rewrites the
line with a reason in the commit.
"""

import json
from pathlib import Path

import pytest

from callcoach.redact import StreamRedactor, redact

GOLDEN = Path(__file__).parent / "data" / "redaction_golden.jsonl"
# split on "\n" only: str.splitlines would also split at the U+2028s inside some texts
CASES = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").split("\n") if line]
TEXTS = [case for case in CASES if "text" in case]
SESSIONS = [case for case in CASES if "steps" in case]


def test_the_record_covers_the_test_and_benchmark_lines():
    assert len(TEXTS) > 1000 and len(SESSIONS) > 1000


def test_each_text_redacts_as_recorded():
    changed = []
    for case in TEXTS:
        result = redact(case["text"])
        if (result.text, list(result.found)) != (case["redacted"], case["found"]):
            changed.append((case["text"], case["redacted"], result.text))
    assert not changed, f"{len(changed)} texts redact differently, first: {changed[0]}"


def _replay(session: dict) -> list[tuple]:
    redactor = StreamRedactor(**session["options"])
    differences = []
    for step in session["steps"]:
        if "reset" in step:
            redactor.reset()
            continue
        result = redactor.push_redaction(*step["push"])
        if (result.text, list(result.found)) != (step["redacted"], step["found"]):
            differences.append((step["push"], step["redacted"], result.text))
    return differences


@pytest.mark.parametrize("part", range(4))
def test_each_stream_session_redacts_as_recorded(part):
    changed = [d for session in SESSIONS[part::4] for d in _replay(session)]
    assert not changed, f"{len(changed)} utterances redact differently, first: {changed[0]}"

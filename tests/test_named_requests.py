"""Customer requests that name the fix ("slow down", "let me finish", "someone else", "are
you still there"): the prompt comes on the request itself, quoting the customer's words."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from callcoach.coach.coach import explain_line
from tests import callgen

ASKED = [
    ("Sorry, you're going too fast. Could you slow down, please?", "slow_down"),
    ("Whoa, slow down, I can't keep up.", "slow_down"),
    ("Sorry, I didn't catch that.", "slow_down"),
    ("Can you say that again?", "slow_down"),
    ("Could you repeat the order number?", "slow_down"),
    ("You're talking way too fast for me.", "slow_down"),
    ("Sorry, you lost me there.", "slow_down"),
    ("Can you speak a little slower?", "slow_down"),
    ("Let me finish!", "let_them_finish"),
    ("Will you let me finish what I'm saying?", "let_them_finish"),
    ("Stop interrupting me.", "let_them_finish"),
    ("You keep talking over me.", "let_them_finish"),
    ("Can I speak to someone else?", "escalate"),
    ("I'd rather talk to a different person, please.", "escalate"),
    ("Put me through to another agent.", "escalate"),
    ("Are you still there?", "update_progress"),
    ("Hello? Is anyone there?", "update_progress"),
    ("Did you hang up on me?", "update_progress"),
]


@pytest.mark.parametrize("line, kind", ASKED)
def test_a_request_raises_the_prompt_it_names_first(line, kind):
    result = explain_line("customer", line)
    assert result["kinds"][:1] == [kind], result


@pytest.mark.parametrize("line, kind", [
    ("I'll say that again later.", "slow_down"),
    ("I will repeat it to my husband tomorrow.", "slow_down"),
    ("I didn't get that email you sent.", "slow_down"),
    ("I didn't get that.", "slow_down"),  # may be an email that never came
    ("I don't understand why I was charged twice.", "slow_down"),
    ("My internet seems to slow down every evening.", "slow_down"),
    ("Let me finish the form first and call you back.", "let_them_finish"),
    ("Let me finish my coffee and I'll check.", "let_them_finish"),
    ("Can I finish the payment online?", "let_them_finish"),
    ("Can I speak to someone about upgrading my plan?", "escalate"),
    ("I don't want to speak to someone else, you're doing fine.", "escalate"),
    ("I spoke to someone else yesterday.", "escalate"),
    ("Are you there on Saturdays?", "update_progress"),
])
def test_ordinary_sentences_do_not_raise_it(line, kind):
    assert kind not in explain_line("customer", line)["kinds"]


@pytest.mark.parametrize("line", [
    "Let me finish setting this up for you.",
    "Sorry, I didn't catch that, could you say it again?",
    "Are you still there?",
    "I'll have to speak to someone else in billing about that.",
])
def test_the_agent_saying_it_raises_nothing(line):
    """The rules listen to the customer: an agent's own words are not a request."""
    assert explain_line("agent", line)["kinds"] == []


def test_polite_requests_are_not_read_as_upset():
    for line in ("Sorry, could you say that again?", "Sorry, I didn't catch that.", "Are you still there?"):
        assert explain_line("customer", line)["upset"] is False, line


def test_calm_billing_call_lines_raise_no_request_prompt():
    named = {"slow_down", "let_them_finish", "escalate", "update_progress"}
    for turn in callgen.BILLING_CALL:
        assert not named & set(explain_line(turn.speaker, turn.text)["kinds"]), turn.text


def test_explain_command_names_the_cue():
    out = subprocess.run([sys.executable, "-m", "callcoach", "explain", "--role", "customer",
                          "Sorry, you're going too fast, could you slow down?"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["kinds"] == ["slow_down"] and result["cues"] == ["pace_request"]


# Lines of the alert-fatigue benchmark's unseen calls that the cue table first missed.
@pytest.mark.parametrize("role, line, kind", [
    ("customer", "Then I want to cancel my contract. I am not paying for a service that does not work.", "escalate"),
    ("customer", "So you can't do anything? Then let me speak to someone who can.", "escalate"),
    ("agent", "That is the first slot we have, there is nothing else available.", "positive_language"),
])
def test_lines_the_unseen_calls_found(role, line, kind):
    assert kind in explain_line(role, line)["kinds"]


@pytest.mark.parametrize("line", ["I would like to cancel my appointment for Tuesday.",
                                  "Can I speak to someone about upgrading my plan?"])
def test_ordinary_requests_are_not_threats(line):
    assert "escalate" not in explain_line("customer", line)["kinds"]

"""What an utterance *does* in the conversation, as opposed to how it feels: the agent
announcing a hold, escalating, offering something, promising a follow-up; a backchannel.

Patterns are written for ASR text: lowercase, punctuation optional.
"""

from __future__ import annotations

import re

_ACTS = {
    # Silence after these is expected work, so dead air is allowed to run longer.
    "hold": r"\b(one (moment|second|sec|minute)|just a (moment|second|sec|minute)|bear with me|please hold"
            r"|put you on (a (brief|short) )?hold|give me a (second|moment|minute)|let me (just )?(check|look|see"
            r"|pull|find|take a look|look into|verify|confirm|run)|(it|this) (will )?takes? (a|one) (moment|second|minute)(?! to)"
            r"|(it|this) (might|may|could) take a (moment|minute|few minutes))\b",
    # The agent acting on an escalation: ends a sticky escalate prompt.
    "escalating": r"\b(supervisor|my manager|a manager|escalat\w*|transfer(ring)? you|senior (agent|specialist|team))\b",
    # A real attempt to help: what was offered or done, for the handoff note. Status
    # readouts ("I can see...") and hold announcements are not attempts.
    "offer": r"\b((i|we) (can|could|will|'ll|ll) (offer|give|send|refund|credit|book|arrange|reverse|waive"
             r"|set up|schedule|request|replace|upgrade|flag|add|process|issue|escalate|expedite|order|sort"
             r"|look into|take care of|follow up)"
             r"|what i can do|i('d| would) be happy to|how about|would you like|let me (get|arrange|book|send"
             r"|request|set up|fix|sort|escalate|expedite|look into|take care of|see what i can do)|i have (added|reversed|refunded|credited|sent|updated"
             r"|escalated|issued|turned on|reset|changed|cancelled|canceled|processed|booked|flagged|requested))\b",
    # The request is outside what the agent may approve: an escalation sign.
    "no_authority": r"\b(not (authori[sz]ed|allowed|permitted) to|(don't|do not) have the (authority|access|ability)"
                    r"|above my (level|pay grade)|beyond what i can (do|approve|offer)|need (a )?(supervisor|manager)"
                    r"('s)? approval)\b",
    # Something to follow up on after the call.
    "promise": r"\b(i will|i'll|we will|we'll|you will (receive|get|see|hear)|you should (receive|get|see|hear)"
               r"|within (a|an|one|two|three|four|five|\w+) (business )?(days?|hours?|weeks?)|call you back)\b",
}
_BACKCHANNEL = re.compile(
    r"^(uh[- ]?huh|mm[- ]?hmm|hmm|yeah|yes|yep|okay|ok|right|sure|i see|got it|alright|all right)[\s.!?,]*$"
)
_COMPILED = {name: re.compile(pattern) for name, pattern in _ACTS.items()}
# A clause that refuses ("there is nothing I can do", "I can't offer...") offers nothing.
_REFUSAL = re.compile(r"\b(nothing|not|n't|cannot|unable|no way)\b")


def acts(text: str) -> frozenset[str]:
    lowered = text.lower()
    found = {name for name, pattern in _COMPILED.items() if pattern.search(lowered)}
    if "offer" in found and not any(
        _COMPILED["offer"].search(clause) and not _REFUSAL.search(clause)
        for clause in re.split(r"[.,;!?]| but | and ", lowered)
    ):
        found.discard("offer")
    if _BACKCHANNEL.match(lowered.strip()):
        found.add("backchannel")
    return frozenset(found)

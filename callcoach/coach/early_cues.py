"""Critical cues heard in partial text: a customer demanding a manager, threatening to leave
or sue, or abusing the agent is coached before they finish the sentence.

While someone talks, the engine sends the text so far of their utterance (a `Partial`)
about once a second. The playbook's critical cue rules (severity critical, checked on the
customer's utterances, with `customer_cues_any`) may fire from it once a cue is in two
consecutive partials of the same utterance, both decoded as the final text will be (beam
search), and settled in the second (`settled`):

* one partial alone may end on a word misheard at the edge of the audio: the cue must not
  rest on the last word, unless the partial before had it there too, from at least `EDGE_S`
  less audio (the beam search can leave out a short word after a pause: "manager right now.
  | please," came back as "manager right now." six times over 1.3 s of audio);
* the words after a cue can take it back: "speak to the manager | of the Leeds branch",
  "cancel | the appointment" (on calls written to have them, the final text took back 3 of
  6 cues that two partials had agreed on). The scorer rows that look past their words wait
  for `SETTLE_WORDS` more; the rows that do not ("lawyer", "useless", "manager right now")
  cannot be taken back that way, and need only the one;
* the quick greedy partials share mishearings the final text does not have ("talk to a
  manager and help the job" for "about the job"): every cue the final text took back on
  generated calls had a greedy partial in its pair.

A partial with a cue still waiting asks the engine for the next one at once (from the audio
that came meanwhile, not a second later), with beam search. The final text of that
utterance does not raise the rules again.

Partials are only transcribed live and at real time (fast `analyze` skips them), so a
prompt raised here is marked `from_partial`; the final text would have raised it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from callcoach.coach.playbook import Rule
from callcoach.coach.sentiment import Sentiment, closed_cues, score
from callcoach.engine.events import Partial, Utterance

_ROLE = "customer"
SETTLE_WORDS = 3  # the cue rules look at most this far past a cue (up to "at your Manchester office")
EDGE_S = 0.25  # about a word of audio: a cue two beam partials this far apart end on is not at the edge


@dataclass(frozen=True)
class _Heard:
    """What the latest partial of the customer had, for the next one to agree with."""

    start: float  # its utterance's onset
    t: float  # where its audio ends
    cues: frozenset[str]  # the watched cues in its text (none unless beam-decoded)
    closed: frozenset[str]  # those no later words can take back, even on its last word


@dataclass(frozen=True)
class StableCue:
    """Critical cues two consecutive partials of one customer utterance agree on."""

    start: float  # the utterance's onset (Partial.start)
    t: float  # call time the second partial's audio reaches
    text: str  # the second partial's text
    sentiment: Sentiment  # of that text
    cues: frozenset[str]  # the critical cues both partials have, not passed on before
    lag_s: float | None  # from the second partial's audio entering the engine to its text


def settled(text: str, cues: frozenset[str]) -> frozenset[str]:
    """The `cues` of a partial's text that the words still to come cannot take back."""
    if not cues:
        return cues
    words = text.split()
    return cues & (frozenset(score(" ".join(words[:-SETTLE_WORDS]), _ROLE).cues)
                   | closed_cues(" ".join(words[:-1]), _ROLE))


def early_rules(rules) -> tuple[Rule, ...]:
    """The rules that may fire from partial text."""
    return tuple(r for r in rules if r.on == f"{_ROLE}_utterance" and r.severity == "critical"
                 and any(name == "customer_cues_any" for name, _ in r.conditions))


def partial_roles(rules) -> frozenset[str]:
    """The speakers whose partial text these rules read (none without early rules)."""
    return frozenset({_ROLE}) if early_rules(rules) else frozenset()


class EarlyCues:
    """Partials in (on arrival, from the engine's worker thread: calls are serialised by the
    coach), stable critical cues out; and which rules fired early, for the final text."""

    def __init__(self, rules, confirm: Callable[[str], None] | None = None):
        self.rules = early_rules(rules)
        self._confirm = confirm  # asks for that role's next partial now (Engine.confirm_partial)
        self._watched = frozenset(cue for r in self.rules for name, value in r.conditions
                                  if name == "customer_cues_any" for cue in value)
        self._last: _Heard | None = None
        self._passed_on: dict[float, frozenset[str]] = {}  # onset -> cues given out as StableCues
        self._fired: dict[float, frozenset[str]] = {}  # onset -> ids of the rules offered early
        self._final_end = -1.0  # end of the customer's latest final utterance coached

    def partial(self, p: Partial) -> StableCue | None:
        if p.role != _ROLE or not self.rules or p.start < self._final_end:
            return None
        sentiment = score(p.text, _ROLE)
        watched = frozenset(sentiment.cues) & self._watched
        none: frozenset[str] = frozenset()
        cues = watched if p.beam else none  # a greedy partial agrees with nothing
        heard = _Heard(p.start, p.t, cues, cues & closed_cues(p.text, _ROLE) if cues else none)
        previous, self._last = self._last, heard
        passed_on = self._passed_on.get(p.start, none)
        stable = none
        if previous is not None and previous.start == p.start:  # two consecutive partials of one utterance
            at_edge = heard.closed & previous.closed if p.t - previous.t >= EDGE_S else none
            stable = (settled(p.text, heard.cues) | at_edge) & previous.cues - passed_on
        if watched - stable - passed_on and self._confirm:  # waiting: hear the next words soon
            self._confirm(_ROLE)
        if not stable:
            return None
        self._passed_on[p.start] = passed_on | stable
        return StableCue(p.start, p.t, p.text, sentiment, stable, p.lag_s)

    def stale(self, cue: StableCue) -> bool:
        """Its utterance's final text was coached first (it raised whatever it raises)."""
        return cue.start < self._final_end

    def fired(self, cue: StableCue, rules: list[Rule]) -> None:
        self._fired[cue.start] = self._fired.get(cue.start, frozenset()) | {r.id for r in rules}

    def final(self, u: Utterance) -> frozenset[str]:
        """The rules already offered from this final utterance's partials (in audio order)."""
        if u.role != _ROLE:
            return frozenset()
        self._final_end = max(self._final_end, u.end)
        done = frozenset().union(*(ids for onset, ids in self._fired.items() if u.start <= onset < u.end))
        for table in (self._fired, self._passed_on):  # what is finalised is never asked about again
            for onset in [o for o in table if o < u.end]:
                del table[onset]
        return done

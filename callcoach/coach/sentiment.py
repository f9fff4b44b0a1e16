"""Sentiment tuned to customer-service calls: VADER plus a contact-center lexicon and rules.

Plain VADER reads product reviews, not phone calls. It scores "I have been waiting three
weeks and nobody called back" as neutral, "I want to speak to your manager" as positive
("want"), and the agent's "I'm sorry this upset you" as negative ("sorry", "upset"). This
module keeps VADER for general affect and adds:

* a role-specific lexicon override (`LEXICON_OVERRIDES`): words that are *topics* on a
  service call ("cancel", "charged", "broken", "sorry"...) stop counting as feelings, and
  on the agent side apology/empathy words are no longer negative;
* a table of phrase rules per role (`CUSTOMER_RULES`, `AGENT_RULES`): regex, weight added to
  the raw score, anger intensity and a cue name; the cue names are stable and documented in
  `CUES` because the playbook matches on them and prompts quote them in `because`;
* negation (a rule marked negatable does not fire after "not/never/no" a few words before:
  "I'm not upset", "I haven't been waiting long"; "not a problem", "no complaints" are
  reassurance), and sarcasm (fixed phrases, or praise words in a line that also complains:
  "wonderful, another hour on hold").

Text is expected as ASR produces it: any case, punctuation optional, contractions with or
without the apostrophe ("cant", "can't", "cannot"), numbers as digits or words. Empty,
emoji-only or non-English text scores neutral. Only the last `MAX_WORDS` words (and at most
`MAX_CHARS` characters) are analysed, so a 10,000-word input costs the same as a long
sentence; the most recent speech is what matters for the live mood.

`score(text, role)` returns a `Sentiment`; `MoodTracker` folds customer sentiments into a
rolling mood with a trend. Nothing here imports Qt.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from callcoach.roles import ROLES

# --- scoring constants --------------------------------------------------------------------
UPSET_THRESHOLD = -0.25  # customer lines with score <= this read as upset
MAX_WORDS = 300  # analyse only the last MAX_WORDS words ...
MAX_CHARS = 3000  # ... and at most this many characters of them
NEGATION_WINDOW = 3  # words before a negatable match that are searched for a negator
CUE_DECAY = 0.6  # the 2nd strongest cue counts 0.6x, the 3rd 0.36x ... (diminishing returns)
VADER_DAMP_WHEN_COMPLAINING = 0.25  # VADER positivity kept when a complaint cue fired
VADER_DAMP_WHEN_REASSURED = 0.25  # VADER negativity kept when a reassurance cue fired

# --- the cue vocabulary (stable names: used by the playbook and in prompts' `because`) -----
CUES: dict[str, str] = {
    # customer: frustration and anger
    "waiting": "long waits: on hold for a long time, waiting days/weeks, service down for days",
    "repeat_contact": "had to call, explain or be transferred again: third time, called five times, over and over",
    "broken_promise": "a promise not kept: told it would..., never showed up, nobody called back",
    "unresolved": "the problem persists: still not fixed, still no refund, you keep charging me",
    "manager_request": "asks for a manager, supervisor or someone in charge",
    "cancel_threat": "threatens to cancel, close the account or switch providers",
    "legal_threat": "threatens legal action: lawyer, sue, court",
    "complaint_threat": "threatens a formal complaint, regulator or public review",
    "sarcasm": "sarcastic praise or thanks: thanks for nothing, oh great another hour on hold, yeah right",
    "profanity": "swearing",
    "abuse": "insults directed at the agent or company: useless, idiot, are you stupid",
    "blame": "accusatory generalisation: you people, nobody there knows/cares, this is how you treat me",
    "not_heard": "feels unheard or brushed off: are you listening, stop reading the script, I don't want an apology",
    "frustration": "states the feeling: frustrated, fed up, sick of this, angry, furious, give up",
    "complaint": "condemns the service: ridiculous, unacceptable, a joke, worst, waste of my time, can't believe",
    "demand": "insists on immediate action: I want this fixed today, do your job, I demand",
    "negated_positive": "a negated positive: not happy, not good enough, not acceptable, not what I asked",
    # customer: requests that name the agent's fix (each has its own playbook rule)
    "pace_request": "asks the agent to slow down or say it again: slow down, too fast, didn't catch that, say that again",
    "interrupted": "asks to be let finish: let me finish, stop interrupting, you keep talking over me",
    "transfer_request": "asks for someone else: can I speak to someone else, another agent, a real person",
    "still_there": "checks the agent is still on the line: are you still there, is anyone there, did you hang up",
    "shouting": "shouting in a negative line: several words in capitals, or !! (from the original casing)",
    # customer: calming signals
    "reassurance": "negated negatives and patience: no problem, not a big deal, no complaints, take your time",
    "gratitude": "thanks and appreciation, satisfaction with the fix",
    # agent side
    "apology": "agent apologises or takes the blame: I'm sorry, I apologize",
    "empathy": "agent acknowledges feelings: I understand, that must be frustrating, I hear you",
    "ownership": "agent takes ownership: let me fix this, I'll make sure, I'll personally",
    "negative_phrasing": "agent says what can't be done: can't, nothing I can do, never, policy, not my department",
    "dismissive": "agent brushes the customer off: calm down, not my problem, you need to listen, like I said",
    # either
    "not_english": "text does not look like English; scored neutral",
}

# Customer cues that mean "complaining" (they damp VADER positivity and license sarcasm).
COMPLAINT_CUES = frozenset(
    {
        "waiting", "repeat_contact", "broken_promise", "unresolved", "manager_request",
        "cancel_threat", "legal_threat", "complaint_threat", "sarcasm", "profanity", "abuse", "demand",
        "blame", "not_heard", "frustration", "complaint", "negated_positive", "interrupted", "transfer_request",
    }
)
CALMING_CUES = frozenset({"reassurance", "gratitude", "apology", "empathy", "ownership"})

# VADER lexicon changes per role (word -> valence, 0 removes the word's feeling).
_TOPIC_WORDS = {
    # On a service call these name the problem, not the caller's mood.
    w: 0.0
    for w in (
        "cancel cancelled canceled cancelling canceling cancellation charged charge charges "
        "broken break broke problem problems issue issues error errors wrong fault faulty "
        "damaged damage missing lost stolen crash crashed failed fail failure stuck dead debt "
        "owe pay paid bill sorry apologize apologise apologies joke kidding kid sure fine "
        "worried delay delayed late outage disconnected block blocked suspend suspended dispute "
        "disputed penalty fraud restricted complaint complain cut warning"
    ).split()
}
# Words VADER lacks that are clearly negative on a service call (customer side).
DOMAIN_LEXICON = {
    "rubbish": -1.8, "garbage": -1.8, "junk": -1.5, "shambles": -2.2, "shambolic": -2.2,
    "nightmare": -2.0, "excuses": -1.2, "unreliable": -1.6, "overcharged": -1.8,
    "ripoff": -2.2, "fobbed": -1.8, "patronising": -2.0, "patronizing": -2.0,
    "condescending": -2.0, "clueless": -1.8, "unhelpful": -1.8, "incompetence": -2.2,
    "nowhere": -0.6, "chasing": -0.8, "typical": -0.8,
}
LEXICON_OVERRIDES: dict[str, dict[str, float]] = {
    "customer": {**_TOPIC_WORDS, **DOMAIN_LEXICON, "want": 0.0, "please": 0.4, "help": 0.6, "care": 0.6, "promised": 0.0},
    "agent": {
        **_TOPIC_WORDS,
        # the agent naming the customer's feelings is empathy, not negativity
        **{w: 0.0 for w in (
            "upset frustrated frustrating frustration annoyed annoying angry anger inconvenience "
            "unfortunately unfortunate trouble troubles mistake concern concerns disappointed "
            "disappointing stress stressful difficult hard bad terrible awful horrible unacceptable "
            "calm hold wait waiting"
        ).split()},
        "apologize": 0.6, "apologise": 0.6, "apologies": 0.6, "sorry": 0.4,
    },
}

# --- phrase rules -------------------------------------------------------------------------
# Patterns run on normalised text (see `pattern_text`): lowercase, contractions expanded
# ("can not", "do not", "i am", "it is"), punctuation dropped, single spaces.
# Placeholders: <NUM> a number in digits or words ("45", "forty five", "a couple of"),
# <UNIT> a span of time, <ORD> an ordinal above first, <GAP> up to three filler words.
_PLACEHOLDERS = {
    "<NUM>": r"(?:(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
             r"fifteen|twenty|thirty|forty|fifty|sixty|ninety|hundred|several|a few|few|a couple of|"
             r"couple of|couple|multiple|many|so many|countless|a dozen|dozens of|a million|a hundred)"
             r"(?: and a half)? ?){1,3}",
    "<UNIT>": r"(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)",
    "<ORD>": r"(?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|twentieth|umpteenth|"
             r"hundredth|millionth|nth|\d*(?:[02-9]1st|2nd|3rd|[4-9]th|1\dth|0th))",
    "<GAP>": r"(?:\w+ ){0,3}",
    "<DAY>": r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|last \w+|the weekend|this morning|christmas|early \w+)",
    "<YOU>": r"(?:you|you guys|you people|your company|your (?:team|people|staff|company|colleagues?))",
}


@dataclass(frozen=True)
class Rule:
    cue: str
    weight: float  # added to the raw score (negative = upset / rude)
    anger: float  # 0..1 contribution to anger intensity
    pattern: re.Pattern[str]
    negatable: bool  # skip the match when a negator precedes it
    looks_ahead: bool  # checks words after its own ("manager | of the Leeds branch" is no demand)


def _rules(rows: list[tuple[str, float, float, str]]) -> tuple[Rule, ...]:
    out = []
    for cue, weight, anger, pattern in rows:
        if cue not in CUES:
            raise ValueError(f"unknown cue {cue!r}")
        negatable = pattern.startswith("~")
        pattern = pattern.lstrip("~")
        for key, value in _PLACEHOLDERS.items():
            pattern = pattern.replace(key, value)
        out.append(Rule(cue, weight, anger, re.compile(r"\b(?:" + pattern + r")\b"), negatable,
                        "(?!" in pattern or "(?=" in pattern))
    return tuple(out)


# (cue, weight, anger, pattern). A leading "~" marks the rule negatable.
CUSTOMER_RULES = _rules([
    # waiting
    ("waiting", -0.55, 0.10, r"~(?:waiting|waited|wait|on hold|holding|hold|sitting here|sat here)(?: here)?(?: on hold)?"
                             r"(?: for| since)?(?: over| almost| nearly| like| about| more than| at least| well over)? <NUM> ?<UNIT>"),
    ("waiting", -0.50, 0.10, r"~(?:still|been|keep|kept|am|are) (?:waiting|on hold|sitting on hold|holding)(?! (?:for|on) (?:\w+ ){0,3}to (?:come out|launch|be released|release|go on sale|come back in stock|open))"),
    ("waiting", -0.55, 0.15, r"(?:another|an|over an|half an|an entire|a whole) (?:hour|half hour|day|week) (?:on hold|waiting|of waiting|of my life)"),
    ("waiting", -0.55, 0.15, r"(?:waiting|on hold|wait) (?:forever|for ever|for ages|all day|all morning|all afternoon|all week|since (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|last \w+|this morning))"),
    ("waiting", -0.55, 0.15, r"how (?:much )?longer|how long (?:am i|do i have to|are you going to make me|is this going to|will i have to)(?: \w+)? (?:wait|hold|take)"),
    ("waiting", -0.50, 0.25, r"(?:put|leave|keep|leaving|keeping|putting) me on hold (?:again|forever|for ages)|not (?:put|leave|keep) me on hold"),
    ("waiting", -0.50, 0.10, r"(?:down|out|off|broken|not working|without (?:internet|power|service|signal|phone|heating|hot water|water|wifi|tv)) "
                             r"(?:for (?:over |almost |nearly |like |about |more than )?<NUM> ?<UNIT>|since <DAY>)"),
    ("waiting", -0.45, 0.10, r"~(?:it has been|its been|it is been|been|for) <NUM> ?(?:days|weeks|months)(?: now| already)"),
    ("waiting", -0.45, 0.10, r"<NUM> ?(?:days|weeks|months) (?:later|and (?:still|nothing|no|i still))"),
    ("waiting", -0.50, 0.10, r"<NUM> ?<UNIT> (?:i have been|i been|ive been|we have been|been|of|on) (?:sat|sitting|waiting|on hold|holding|hanging on|listening|stuck)|listening to (?:that|this|the|your) (?:hold )?music"),
    ("waiting", -0.50, 0.15, r"~(?:wait|waiting) (?:another|even longer|longer|more) ?<UNIT>?|(?:have|had|need|got) to wait (?:another|even longer|longer|again|until|till|more)|another <UNIT> (?:of waiting|to wait|wait)"),
    ("waiting", -0.50, 0.15, r"(?:<NUM> ?|a whole |an entire |the whole |all )<UNIT> (?:without|with no|and no|of no|and still)|(?:taking|takes|took|take) (?:forever|ages|so long|too long|an age|an eternity)|(?:been )?(?:days|weeks|months) (?:now )?(?:without|with no)"),
    # repeat contacts
    ("repeat_contact", -0.55, 0.15, r"~<ORD> time"),
    ("repeat_contact", -0.55, 0.15, r"(?:called|call|calling|rang|phoned|contacted|emailed|written|spoke to|spoken to|talked to|explained|told)"
                                    r" (?:<YOU> |them |this |it |that |about this )?(?:<NUM>|so many|too many) (?:times|people|agents|different people|reps|representatives)"
                                    r"|(?:passed|transferred|handed|put through|sent|bounced|spoken) (?:to|between|around|through) (?:<NUM>|so many|too many) (?:different )?(?:people|departments|agents|teams|numbers|times)"),
    ("repeat_contact", -0.50, 0.15, r"(?:already|just) (?:told|said|explained|gave|given|went through|spelled|spelt|answered|sent) (?:you|that|this|it|him|her|them|my|the)"),
    ("repeat_contact", -0.50, 0.15, r"(?:told|said|explained|gave|given|repeated|spelled|asked) (?:you |it |this |that |them )?<GAP>(?:twice|<NUM> times|a million times)"),
    ("repeat_contact", -0.55, 0.15, r"over and over|again and again|time and time again|time after time|every single time|(?:every|each) time i (?:call|ring|phone|contact)"),
    ("repeat_contact", -0.50, 0.15, r"(?:keep|kept|keeps) (?:getting|being) (?:transferred|passed|bounced|cut off|disconnected|put on hold|told|hung up on)"),
    ("repeat_contact", -0.50, 0.15, r"(?:transferred|passed|bounced|shunted) (?:around|from one|back and forth|between)|back and forth|(?:pass|passing) the buck|runaround|run around"),
    ("repeat_contact", -0.50, 0.15, r"(?:that is|thats|its|it is) (?:exactly )?what (?:the last|the other|your|the previous|everyone|everybody|they|you)(?: \w+)? (?:said|told|say|tell|keep saying)"),
    ("repeat_contact", -0.45, 0.15, r"you (?:said|told me|promised)(?: that| the same thing| me that)? (?:last (?:week|time|month)|yesterday|before|already|the same)"),
    ("repeat_contact", -0.50, 0.15, r"(?:explain|explaining|repeat|repeating|start|starting|go through|going through) (?:this |it |myself |everything |all of this |the whole thing )?"
                                    r"(?:all )?(?:again|over again|over|from scratch|one more time|to (?:every|another|yet another) (?:one|person|agent))"),
    ("repeat_contact", -0.50, 0.20, r"(?:seriously|really|what|not|oh no|oh come on|come on) again|(?:same|this) (?:thing|problem|issue) again|happened again|(?:broken|down|wrong|charged me) again"),
    ("repeat_contact", -0.40, 0.15, r"different (?:answer|story)|(?:nobody|no one) (?:gives|give|tells|tell) me the same"),
    ("repeat_contact", -0.55, 0.20, r"how many (?:more )?times (?:do|must|should|will|have|am|did|does|has)|how often do i have to"),
    ("repeat_contact", -0.50, 0.15, r"~(?:two|three|four|five|six|seven|eight|nine|ten|\d+|several|multiple|so many|too many) times (?:this|today|now|already|in (?:a|one|the|two|three)|since|last|over)"),
    ("repeat_contact", -0.50, 0.25, r"(?:do not|dont|never|please do not|do not you) (?:\w+ ){0,4}(?:me |us )?again|(?:every|each) (?:single )?(?:month|week|bill|time|day)(?: there is| there are| it is| its| you| i| the bill is)? (?:a |an |another |the same )?(?:mistake|problem|issue|error|wrong|broken|different|something wrong|overcharg\w*|late)"),
    ("repeat_contact", -0.50, 0.15, r"(?:same|usual|another|more) (?:old )?(?:excuse|excuses|story|answer|line|response|rubbish|nonsense)(?: (?:i|we|you|they) (?:got|gave|had|heard|said))?(?: (?:last time|before|every time|again|as last time|as before))?"),
    ("repeat_contact", -0.50, 0.15, r"(?:<NUM>|several|multiple|enough) (?:chances|attempts|tries|goes|shots)|(?:<NUM>|several|multiple) (?:engineers|technicians|visits|replacements) (?:have|came|and|already|out|later)"),
    ("repeat_contact", -0.45, 0.20, r"(?:hung up on|cut) me off|got (?:cut off|disconnected|hung up on)|(?:getting|got|get) nowhere|going (?:round|around) in circles"),
    ("repeat_contact", -0.50, 0.15, r"(?:not|nothing like|different from|different to) what (?:you|they|he|she|someone|somebody|the (?:\w+ )?(?:guy|lady|man|woman|agent|person|website|letter|email)|your \w+) (?:told|said|promised|wrote)"),
    # broken promises
    ("broken_promise", -0.55, 0.20, r"(?:promised|assured|guaranteed|said|told|supposed to|meant to|should have|was to)"
                                    r" (?:\w+ ){0,10}?(?:and|but|yet|so far|which|its|it is)(?: \w+){0,3}? (?:nobody|no one|never|nothing|still|not|did not|has not|have not|no)\b"),
    ("broken_promise", -0.35, 0.10, r"~(?:was|were|been|got) (?:promised|assured|guaranteed)"),
    ("broken_promise", -0.45, 0.15, r"~(?:was|were) (?:supposed|meant) to|(?:should|would) have (?:been|arrived|called|rung|come|had) (?:here |back |by |on |it )?(?:by|on|days|weeks|already|ages)"),
    ("broken_promise", -0.55, 0.20, r"(?:never|nobody|no one|did not|has not|have not|had not|still not|not once) (?:\w+ )?(?:ever |even |yet |actually |bothered to )?"
                                    r"(?:called|call|rang|ring|phoned|got|gotten|get|came|come|showed|show|turned|followed|emailed|contacted|wrote|responded|replied|answered|bothered)"
                                    r"(?: me| us| to me)? (?:back|up|out|through|a response|a reply|round|over)"),
    ("broken_promise", -0.50, 0.20, r"(?:never|nobody|no one|did not|has not|have not) (?:ever |even |yet |actually )?(?:responded|replied|answered|bothered|arrived|showed|turned up|fixed|refunded|credited|called)"),
    ("broken_promise", -0.45, 0.15, r"(?:no one|nobody|never) (?:ever |even )?(?:calls|call|got|gets) (?:me |us )?back|(?:no|never got a) (?:call ?back|callback|reply|response)"),
    ("broken_promise", -0.45, 0.15, r"(?:no one|nobody|you never|they never|you did not|they did not|nobody even|no one even) (?:\w+ )?(?:warned|told|informed|notified|mentioned|explained|asked|checked with|bothered to tell)(?: me| us)?|without (?:telling|warning|asking|informing|notifying|letting) (?:me|us)"),
    ("broken_promise", -0.45, 0.15, r"(?:took|take|taken|booked) (?:the|a) (?:day|morning|afternoon) off(?: work)?(?: for nothing)?|(?:no|never a) (?:show|shows)\b"),
    # still unresolved
    ("unresolved", -0.45, 0.15, r"still (?:not|no|nothing|have not|has not|had not|did not|does not|do not|is not|are not|broken|down|the same|wrong|waiting|charging|happening|getting|being)"),
    ("unresolved", -0.45, 0.20, r"(?:you|you guys|you people|they|your company|your system|it) (?:keep|keeps|kept|continue to|continues to|are still|is still) (?:charging|billing|taking|sending|calling|cutting|dropping|messing|overcharging|charged|breaking|crashing|failing|happening)"),
    ("unresolved", -0.35, 0.10, r"~(?:not|never) (?:been )?(?:fixed|resolved|sorted|solved|refunded|credited|repaired|working) (?:yet|still|again)"),
    # manager requests
    ("manager_request", -0.60, 0.25, r"~(?:speak|talk|speaking|talking|put me through|transfer me|get me|give me|connect me|want|need|demand|let me have|escalate this|escalate me)"
                                     r" (?:to |with )?(?:a |the |your |an |some |somebody |someone )?(?:actual |real |proper )?(?:manager|supervisor|superior|boss|team leader|team lead|line manager|floor manager|senior|higher up)(?! (?:of|at|for|in) (?:the|your|a|my) \w+)(?!(?: \w+){0,3} about (?:a|the|my) (?:job|vacancy|position|application|interview|role))"),
    ("manager_request", -0.60, 0.25, r"(?:someone|somebody|anyone|anybody|person|whoever) (?:that is |who is |whos |is )?(?:above you|higher up|higher than you|in charge|more senior|with (?:more )?authority|who can actually|who actually knows)"),
    ("manager_request", -0.55, 0.25, r"(?:manager|supervisor) (?:now|right now|immediately|please now)|want (?:this|it) escalated|escalate (?:this|it|my complaint)"),
    # threats
    ("cancel_threat", -0.60, 0.35, r"if (?:\w+ ){0,12}?(?:i will|i am going to|i am|then i|i shall|we will|we are|i am gonna|i would|i will be|i will have to|i am just going to)"
                                   r" (?:\w+ ){0,2}?(?:cancel|cancelling|canceling|leave|leaving|switch|switching|close|closing|take my business|go elsewhere|walk)(?! (?:the |my |this |that |our |your )?(?:appointment|order|booking|visit|engineer|delivery|reservation|payment|direct debit|standing order|card|call|request|transfer|plans?|trip|holiday))"
                                   r"|(?:i will|i am going to|i am gonna|i shall|i am|i will be|we will|we are going to) (?:just )?(?:cancel|cancelling|canceling|close|closing|leave|leaving|switch|switching|end|ending|terminate)(?! (?:the |my |this |that |our |your )?(?:appointment|order|booking|visit|engineer|delivery|reservation|payment|direct debit|standing order|card|call|request|transfer|plans?|trip|holiday))(?: \w+){0,6} (?:if|unless)"),
    ("cancel_threat", -0.60, 0.35, r"~(?:cancel|cancelling|canceling|close|closing|terminate|terminating|end|ending) (?:everything|it all|all of it|all my (?:\w+ )?(?:accounts|services|lines|contracts)|the whole (?:thing|lot|account)|my whole account)"),
    # Found by the alert-fatigue benchmark's unseen calls: "Then I want to cancel my contract."
    ("cancel_threat", -0.60, 0.35, r"~(?:i want|i would like|i need|i am going|i am calling|i have decided|i will have) to (?:cancel|close|terminate|end) (?:my|the|this|our) (?:contract|account|subscription|service|membership|broadband|internet|policy|plan)\b"),
    ("cancel_threat", -0.60, 0.35, r"~(?:switch|switching|move|moving|go|going|take|taking)(?: my (?:business|money|custom|account))?(?: over)? to (?:another|a different|one of your|your|a|the) (?:provider|company|bank|carrier|network|supplier|competitor|competitors|competition)"),
    ("cancel_threat", -0.60, 0.35, r"(?:take|taking) (?:my|our) (?:business|money|custom) (?:elsewhere|somewhere else)|go (?:elsewhere|somewhere else)|(?:done|finished) with (?:you|this company|your company|this service)"
                                   r"|(?:going|go|gone|switching|moving) (?:with|to|over to) (?:someone|somebody|anyone) else|(?:find|finding|use|try|get) (?:another|a different|a new) (?:company|provider|supplier|bank|network|carrier)"),
    ("cancel_threat", -0.55, 0.30, r"(?:never|not) (?:using|buying from|ordering from|dealing with|coming back to|recommending) (?:you|this company|your company|this service) (?:again|ever)|last time i (?:use|buy from|order from|deal with) (?:you|this)"),
    ("legal_threat", -0.65, 0.45, r"lawyer|lawyers|attorney|solicitor|legal action|legal advice|lawsuit|small claims|class action|take (?:you|this|it|them) to court|see you in court|(?:sue|suing) (?:you|your|the company|this company|them)"),
    ("complaint_threat", -0.55, 0.35, r"better business bureau|\bbbb\b|ombudsman|regulator|trading standards|consumer (?:protection|rights)|attorney general|fcc|ftc|ofcom|cfpb"
                                      r"|(?:file|filing|make|making|lodge|lodging|put in|raise|raising) (?:a |an )?(?:formal |official )?complaint|report (?:you|this|your company)"),
    ("complaint_threat", -0.55, 0.35, r"(?:post|posting|put|putting|write|writing|tell|telling|share|sharing) (?:about )?(?:this|it|everyone|everybody|the world)(?: \w+)? (?:everywhere|online|on (?:facebook|twitter|x|instagram|tiktok|reddit|social media|the internet)|i know)"
                                      r"|(?:bad|negative|terrible|one star|1 star|awful) review|social media|the (?:news|press|papers)"),
    # sarcasm (praise words in a line that also complains are inferred in `score`, see _PRAISE)
    ("sarcasm", -0.65, 0.30, r"thanks for nothing|thank you for nothing|yeah right|oh sure(?: \w+)? (?:thing|right)|big surprise|surprise surprise|what a surprise|shocker|color me shocked|colour me shocked"),
    ("sarcasm", -0.60, 0.30, r"(?:like|as if) (?:that is|thats|that|this|it|you|that will|that is ever|they|anyone|anybody) (?:\w+ )?(?:going to|gonna|will|would|ever)?(?: ever)? ?(?:happen|work|help|call|fix|care)"),
    ("sarcasm", -0.60, 0.30, r"(?:great|perfect|wonderful|fantastic|brilliant|lovely|marvelous|marvellous|terrific|awesome|super) (?:just |simply |really |absolutely )?(?:great|perfect|wonderful|fantastic|brilliant|lovely|marvelous|marvellous|terrific|awesome)"),
    ("sarcasm", -0.55, 0.25, r"(?:love|loving|i just love|i love) (?:it )?(?:how|that|when) (?:you|nobody|no one|i have to|i keep|every)"),
    ("sarcasm", -0.55, 0.25, r"(?:real|really|very|so|super) (?:helpful|useful) (?:thanks|thank you)|(?:thanks|thank you) (?:a lot|so much) for (?:wasting|nothing|the runaround|making)|great (?:job|service) (?:guys|as usual|again)|as usual"),
    # profanity and abuse
    ("profanity", -0.55, 0.50, r"fuck\w*|f+ing|effing|motherf\w*|shit\w*|bullshit|bs|crap|crappy|damn|damned|dammit|goddam\w*|hell|bloody|bastard\w*|ass|arse|asshole|arsehole|piss|pissed|pissing|bollocks|wtf|freaking|frigging|friggin|feck\w*|sod|screw (?:you|this|that|it)|screwed"),
    ("abuse", -0.75, 0.65, r"(?:you|youre|you are|your|you people are|you guys are|you are all|you are a|you are an|are you)(?: \w+){0,2} (?:useless|stupid|idiot|idiots|idiotic|incompetent|moron|morons|moronic|clueless|pathetic|dumb|retarded|worthless|hopeless|thick|deaf|brain dead|liars?|thieves|crooks|scammers?|clowns|a joke|rude|a robot|joking me)"),
    ("abuse", -0.70, 0.65, r"idiots?|morons?|imbeciles?|incompetent|incompetence|scammers?|scam artists|thieves|crooks|liars?|shut up|shut it|clowns"),
    # accusation, unheard, explicit feelings, condemnation
    ("blame", -0.40, 0.20, r"you people|you lot|(?:nobody|no one) (?:there |here |at (?:your|this) company |in your \w+ )?(?:seems to |ever |actually |even |wants to |will |can |bothers to |is )?(?:know|knows|cares|care|caring|listens|listen|helps|help|gives|give|bothers|takes|take|does|do anything|understands|understand|answers|answer|responsible)"),
    ("blame", -0.45, 0.25, r"(?:is|and this is|this is|thats|that is) how you treat|(?:customer|client|member) (?:for|of) (?:over )?<NUM> ?years|(?:you|you guys|your company) (?:always|never) (?:do|get|mess|screw|say|promise|lose|charge|ignore)|(?:you|you guys) (?:messed|screwed|stuffed|cocked|botched) (?:up|this|it|me)"),
    ("blame", -0.50, 0.25, r"(?:because of|thanks to|due to|caused by|down to) (?:your|you|you guys|you people|your companys|the companys) (?:\w+ )?(?:error|mistake|fault|incompetence|screw up|cock up|mess up|system|engineer|engineers|staff|people)|(?:your|you|the companys) (?:error|mistake|fault|screw up|cock up)"
                           r"|how is (?:that|this|it) (?:my|me) (?:fault|problem|responsibility|issue)|(?:not|never) my (?:fault|problem|responsibility)|in front of (?:everyone|everybody|people|my (?:kids|children|family|friends|colleagues|boss|customers|neighbours|neighbors|wife|husband))|embarrass\w*|humiliat\w*|mortified"),
    ("cancel_threat", -0.50, 0.30, r"(?:do|does) (?:you|anyone|your company) (?:even |actually |really )?(?:want|value|care about) (?:my|our|your) (?:business|custom|customers|money)|(?:losing|lose|lost) (?:a|my|me as a) (?:customer|client)"),
    ("not_heard", -0.55, 0.30, r"are you (?:even )?(?:listening|hearing me|paying attention)|(?:you are|you) (?:not|never) (?:even )?(?:listening|listen|hearing me|understanding|understand)|(?:do|did) you (?:even )?(?:hear|listen to) (?:me|what i)"
                               r"|(?:stop|quit) (?:reading|giving me) (?:me )?(?:the|a|that|your|from)? ?(?:script|excuses|runaround|the same)|(?:reading|read) (?:from|off) (?:a|the|your) script"),
    ("not_heard", -0.55, 0.30, r"(?:do not|never) (?:want|need) (?:another|an|your|any more|anymore|more|any) (?:apology|apologies|excuses|sorry|sorrys)|(?:sorry|apologies|an apology) (?:does not|do not|will not|is not going to) (?:fix|help|cut it)"
                               r"|(?:do not|dont) care (?:about|what) (?:your|the|about your) (?:policy|policies|rules|procedure|procedures|system|process|script)|not what i (?:asked|said|meant)|(?:do not|dont|never) (?:you )?(?:dare )?tell me to (?:calm down|relax|be patient|wait|hold)|(?:stop|quit) (?:transferring|passing) me|talking to (?:a )?(?:brick )?wall|talking to myself|talking to a robot|(?:do not|stop|quit) (?:patronis|patroniz|lectur)\w*|talk(?:ing)? (?:down )?to me like|i am not (?:stupid|an idiot|a child|thick)|fob(?:bed|bing)? (?:me )?off|(?:answer|listen to) (?:the|my) question|straight answer"),
    ("frustration", -0.55, 0.20, r"~(?:frustrated|frustrating|frustration|fed up|sick of|sick and tired|tired of|had enough|wits end|end of my rope|end of my tether|annoyed|annoying|irritated|irritating|exasperated|disappointed|disappointing|stressed out|upset|distressed|beside myself|losing my patience|lost my patience|running out of patience|patience is (?:wearing|running|worn|gone|running out)|(?:wearing|worn) (?:really |very )?thin|enough is enough|give up on|giving up on|about to give up|ready to give up|at a loss)"),
    ("frustration", -0.65, 0.55, r"~(?:how dare|dare (?:you|tell me)|angry|furious|livid|fuming|seething|mad at|so mad|really mad|pissed off|outraged|disgusted|appalled|infuriated|infuriating|enraged|beyond angry|beyond frustrated)"),
    ("complaint", -0.55, 0.25, r"~(?:ridiculous|unacceptable|unbelievable|outrageous|disgraceful|disgusting|shocking|appalling|atrocious|pathetic|shambles|insane|absurd|a disgrace|a nightmare|a farce|a mess|laughable|shameful|inexcusable|intolerable|a rip off|rip off|ripoff|ripped off|daylight robbery)"),
    ("complaint", -0.55, 0.25, r"(?:this|that|it|you|your \w+|this whole thing|this company|your company|the service) (?:is|are|was|has been|have been)(?: \w+)? (?:a |an |such a |an absolute |a complete |a total )?(?:joke|farce|shambles|nightmare|disgrace|scam|circus|mess|clown show)"),
    ("complaint", -0.55, 0.25, r"(?:the )?worst (?:customer service|service|company|experience|provider|bank|support|call|ever)|(?:terrible|awful|horrible|appalling|shocking|lousy|poor|bad|rubbish) (?:customer )?(?:service|support|company|experience)"),
    ("complaint", -0.55, 0.25, r"(?:wasting|waste of|wasted) (?:my |our |your )?(?:time|money|day|morning|afternoon|life)|for nothing|(?:can not|could not|do not|cant) believe|unbelievable|are you (?:kidding|serious|joking)(?: me)?|you (?:have got to|gotta|must) be (?:kidding|joking)|give me a break"),
    ("complaint", -0.50, 0.20, r"(?:why|how) (?:is|does|do|did|has|have|can|cant|can not|will|would|should|am)(?: \w+){0,3}? (?:so (?:hard|difficult|complicated|long)|nobody|no one|never|always|still|not able)"
                               r"|why (?:do|does|did|should|must) (?:i|we) (?:always |even |still )?(?:have to|need to|keep)|what is (?:wrong|going on) with (?:you|your|this)|what is the point|what (?:am i|are we) (?:supposed|meant|expected) to do|what do you expect me to do|(?:refuse to|not going to|not be|not|no longer) pay(?:ing)? (?:for|a penny|another|any more|anything)|no help (?:at all|whatsoever)|(?:completely|totally|utterly|absolutely) useless|useless"),
    ("complaint", -0.50, 0.20, r"(?:paying|pay|paid|charging me|charged) (?:for |<NUM> )?(?:\w+ ){0,5}?(?:and|but) (?:getting|get|got|i get|i am getting|receiving) (?:\w+ ){0,3}?(?:nothing|rubbish|half|less|dial up|no|none|a fraction)|for this (?:rubbish|garbage|junk|crap|nonsense|mess|service)"
                               r"|(?:that is|thats|its|it is|how|so|just|bloody|absolutely) typical|(?:costing|cost|costs|lost|losing|lose) me (?:money|business|work|a fortune|days|customers|clients)|what (?:kind|sort) of (?:company|service|business|operation|outfit)|(?:is )?(?:this|that) (?:is )?what i (?:get|got|pay for|am paying for)|(?:spent|wasted|lost|ruined) (?:my |the |a |an )?(?:whole |entire |full )?(?:lunch break|lunch hour|morning|afternoon|evening|day|weekend|holiday|day off|days pay|days wages|wages|pay)(?: on| for| waiting| because| sitting| chasing)?|nothing but (?:problems|trouble|hassle|grief|excuses)|never again"),
    ("frustration", -0.55, 0.25, r"driving me (?:mad|crazy|insane|nuts|up the wall|round the bend|around the bend)|(?:the )?(?:last|final) straw|(?:that is|this is|thats) (?:the|just the) (?:absolute )?limit|at the end of my|had it up to|cannot take (?:this|it|any more)|(?:i have|ive) had it (?:with|up to here)|(?:been|i have been) (?:more than |very |extremely |really |incredibly )?patient"),
    ("complaint_threat", -0.50, 0.30, r"take (?:this|it|the matter|my complaint) (?:further|higher|elsewhere)|(?:go|going) (?:over your head|higher)"),
    ("demand", -0.45, 0.30, r"(?:i want|i need|i expect|i demand|get) (?:this|it|my \w+|the \w+) (?:sorted|fixed|done|resolved|back|refunded|sorted out)(?: \w+)? (?:today|now|right now|immediately|asap|this minute|this instant)(?! (?:if|please|thanks|thank))|(?:just )?do your (?:job|jobs)|(?:i|we) demand|i expect (?:better|more|this|you|it|a|an)|(?:now|today) not (?:tomorrow|next week|later|monday)"),
    ("negated_positive", -0.45, 0.15, r"(?:not|never|no longer|hardly|far from) (?:at all |very |really |remotely |exactly |too |so |particularly )?(?:happy|satisfied|pleased|impressed|acceptable|okay with|ok with|good enough|fair|right|helpful|helping|reasonable|amused)"
                                      r"|(?:do not|did not|does not) (?:like|appreciate|accept) (?:this|that|it|being|the way|how|your)|(?:not|no) (?:good|use|help) (?:at all|to me)|(?:that is|thats|it is|its) not (?:good enough|on|right|fair|okay|ok|acceptable|how)"),
    # requests that name the fix. Addressed to the agent ("can you repeat that"), not the
    # customer's own plans ("I'll say that again later", "let me finish the form first").
    ("pace_request", -0.10, 0.05, r"(?:^|(?:please|you|you to|just|okay|ok|sorry|whoa|woah|wait|hey|on|um|uh|oh|so|no|bit|little) )slow (?:it |things )?down"
                                  r"|(?:speak|talk|go|read|say it) (?:a bit |a little |much |way )?(?:slower|more slowly)"
                                  r"|(?:talking|speaking|talk|speak|reading|read|going|rushing|racing) (?:\w+ ){0,2}?(?:too|so|very|really|way too|far too) (?:fast|quick|quickly)(?! for (?:my|the|this|that|it) \w+)"
                                  r"|(?:too|so) (?:fast|quick) for me|(?:that|it) was (?:way |far |much |a bit |a little )?too (?:fast|quick)"
                                  r"|(?:did not|could not|can not|do not) (?:quite |really |fully |even )?(?:catch|follow|understand|get|hear)"
                                  r" (?:what you (?:just )?said|a word(?: of that| you said)?|any of that|all of that|most of that|half of that|much of that|everything you said"
                                  r"|the last (?:part|bit|thing|few words|number)|that last (?:part|bit|number))"
                                  # a bare "that": "I didn't get that" may be an email that never came
                                  r"|(?:did not|could not|can not|do not) (?:quite |really |fully |even )?(?:catch|follow|understand)"
                                  r" that(?:(?: (?:sorry|please|at all|one|what|you|there))?$| (?:sorry|please|can you|could you|would you|again|at all))"
                                  r"|(?:can not|could not) (?:follow|understand) you|you (?:have )?lost me(?! (?:as|a|my|the|our|their|your)\b)"
                                  r"|(?:can|could|would|will) you (?:please |just |kindly )?(?:say|repeat|read|go over|run through|spell) (?:\w+ ){0,4}?(?:again|one more time|once more)(?! (?:later|tomorrow|next|another|some))"
                                  r"|(?:can|could|would|will) you (?:please |just |kindly )?repeat (?:that|it|this|yourself|what you (?:just )?said|the (?:\w+ ){0,2}(?:number|part|bit|address|code|date|amount|name|reference|steps?|details?|last \w+))"
                                  r"|(?:^|sorry |please |pardon )(?:say|repeat) (?:that|it|this)(?: again| one more time)?(?! (?:later|tomorrow|next|another|some))|(?:^|sorry |pardon )come again(?! (?:tomorrow|later|next|on|at|to|and|in|when|if))"
                                  r"|(?:^|sorry )pardon(?: me)?$|one (?:thing|step|word) at a time"),
    ("interrupted", -0.55, 0.30, r"(?:let|letting) me (?:just )?(?:finish|speak|talk|get a word in)(?! (?!(?:speaking|talking|explaining|saying)\b)\w+ing\b)(?! (?:the|this|that|these|those|it|up|off|with|to|about|for|on|a|an|some|your|his|her|their|our)\b)(?! my (?!sentence|point)\w)"
                                 r"|(?:can|could|may) i (?:please |just )?finish(?: (?:please|speaking|talking|what i|my (?:sentence|point)))?$"
                                 r"|(?:can|could|may) i (?:please |just )?finish (?:please|speaking|talking|what i|my (?:sentence|point))"
                                 r"|(?:stop|quit|keep|keeps|kept|you are|are you|always|constantly) (?:\w+ )?(?:interrupting|cutting me off|cutting in|talking over me)"
                                 r"|(?:do not|you) (?:\w+ )?interrupt(?:ed)? me|(?:you are|you) (?:not )?(?:even )?(?:letting|let) me (?:finish|speak|talk|get a word in)"),
    ("transfer_request", -0.45, 0.20, r"~(?:let me|can i|could i|i want to|i need to|i would like to|i would rather) (?:speak|talk) (?:to|with) (?:someone|somebody|anyone|anybody|a person) who (?:can|will|is able to|actually can)\b"),
    ("transfer_request", -0.45, 0.20, r"~(?:(?:can|could|may) i (?:please |just )?(?:speak|talk)|(?:i want|i would like|i need|i demand|i would rather|let me|i will|i would) (?:to )?(?:speak|talk)"
                                      r"|(?:put|transfer|pass|connect|send) me(?: through| over)?|(?:get|give|find) me|(?:can|could|may) i (?:please )?(?:have|get)|i want|is there)"
                                      r" (?:to |with )?(?:someone else|somebody else|anyone else|anybody else|another (?:agent|person|representative|rep|advisor|adviser|colleague)"
                                      r"|a different (?:agent|person|representative|rep|advisor|adviser|colleague)|(?:a|an) (?:real|actual) (?:person|human)|a human)"),
    ("still_there", -0.15, 0.05, r"(?:(?:are|were) you (?:still )?|you still )(?:there|on the line|with me)(?! (?:on|at|in|tomorrow|until|till|from|every|next|by|open|when|for|\w+day)\b)"
                                 r"|(?:is|are) (?:anyone|anybody|someone|somebody) (?:still )?there|(?:hello )+(?:anyone|anybody|are you) (?:still )?there|did you (?:just )?hang up(?: on me)?|have you (?:gone|hung up)|did (?:i|we) (?:just )?lose you"),
    # calming signals
    ("reassurance", 0.35, 0.0, r"(?:no|not a|not any|without) (?:problem|problems|worries|worry|complaints|complaint|bother|trouble|rush|hurry|big deal|issue|issues)|(?:not|no) (?:in a|in any) (?:rush|hurry)|take your time|(?:do not|dont) (?:mind|worry)|(?:not|nothing) (?:too )?bad|(?:it is|its|that is|thats|that s) (?:all )?(?:fine|ok|okay|alright|all right|no bother)|all good|never mind|not a big deal|not to worry|fair enough|(?:sorry|oops|ah|oh|no) (?:that is |thats |its |it is |it was )?my (?:fault|mistake|bad)"),
    ("gratitude", 0.40, 0.0, r"~(?:thank you|thanks|thankyou|cheers|appreciate it|appreciate (?:that|your|you|the|all)|(?:really |very )?helpful|that (?:works|helps|is great|is perfect|sorted|is exactly)|(?:sounds|looks) (?:good|great|perfect)|(?:is|it is|its|all) (?:working|sorted|fixed|resolved) now|you have been (?:great|brilliant|wonderful|amazing|so helpful|really helpful|very helpful)|(?:have|had) always been (?:good|great) to me|lovely)"),
])

AGENT_RULES = _rules([
    ("apology", 0.40, 0.0, r"~(?:i am|i m|im|we are|i|we are so|i am so|i am really|i am very|i am truly) (?:so |really |very |truly |terribly |deeply )?(?:sorry|apologi[sz]e)|(?:my|our|sincere|many) apologies|apologi[sz]e for|sorry (?:for|about|to hear|that|this|you)"),
    ("empathy", 0.40, 0.0, r"~(?:i|we) (?:completely |totally |really |fully |absolutely |can )?(?:understand|see|hear)(?: (?:why|how|that|you|your|what|where|this|the))?|(?:that|this|it) (?:must|would|should|can) (?:be|have been) (?:so |really |very |incredibly |extremely )?(?:frustrating|annoying|upsetting|stressful|difficult|hard|disappointing|inconvenient|a pain)"
                           r"|i (?:would|d) be (?:frustrated|upset|annoyed|angry) too|(?:i|we) (?:appreciate|value) (?:your|you)|(?:you are|youre) (?:right|absolutely right)|(?:that is|thats) (?:completely |totally )?(?:understandable|fair)|i hear you|makes sense that you"),
    ("ownership", 0.35, 0.0, r"~let me (?:fix|sort|take care of|look into|get this|help|make this right|handle|see what i can do)|i (?:will|am going to|ll) (?:personally |make sure|take care|sort|fix|get this|follow up|call you back|look into)|i can (?:definitely |certainly )?(?:help|fix|sort|do that)|what i can do"
                             r"|(?:thank you|thanks) (?:so much |very much )?for (?:your patience|waiting|bearing with|holding|your understanding|letting me know|calling|explaining)|happy to help|my pleasure"),
    ("negative_phrasing", -0.30, 0.05, r"(?:can not|cant|unable to|not able to|will not be able to|won t be able to) (?:do|help|change|give|offer|refund|cancel|process|make|send|provide|transfer|allow|waive|authorize|authorise|guarantee|promise|fix)"
                                       r"|nothing (?:i|we|else i|else we) can do|(?:there is|theres) nothing (?:else |sooner |earlier )?(?:available|we can offer|i can offer)|(?:there is|theres) nothing (?:more |else )?(?:i|we) can|not (?:possible|allowed|permitted)|impossible|(?:we|i|you) (?:never|always)|(?:that is|its|it is|thats) (?:our|the|company) policy|(?:our|company|the) policy (?:is|says|states|does not)"
                                       r"|not (?:my|our) (?:department|area|team|job|responsibility|call)|(?:you will|youll) (?:have|need) to|you have to|no way|(?:we|i) (?:do not|dont) (?:do|offer|allow|handle|deal with)|(?:i do not|i dont) know|nothing to do with (?:me|us)|out of my hands"),
    ("dismissive", -0.65, 0.35, r"calm down|(?:just )?relax|(?:not|none of) my (?:problem|fault|concern)|(?:that is|thats|its|it is) (?:not my problem|your (?:problem|fault|responsibility|issue))|you (?:need|have|got) to (?:listen|understand|calm|stop|be patient|wait)|listen to me|(?:as|like) i (?:already )?(?:said|told you|explained|mentioned)|i already (?:told|said|explained)"
                                r"|you should (?:have|of) (?:read|checked|called|known|paid|looked)|(?:i do not|i dont) know what (?:else )?to tell you|what do you want (?:me to do|from me)|deal with it|take it or leave it|whatever|obviously you|you clearly|(?:it is|its) not (?:that|rocket) (?:hard|difficult|complicated|science)|no need to (?:shout|yell|be rude|get upset)|stop (?:shouting|yelling|interrupting)|(?:there is|theres) no need for that"),
    ("profanity", -0.60, 0.50, r"fuck\w*|shit\w*|bullshit|crap|damn|goddam\w*|hell|bloody|bastard\w*|asshole|arsehole|piss|pissed|bollocks|wtf"),
    ("abuse", -0.80, 0.65, r"(?:you|youre|you are)(?: \w+){0,2} (?:stupid|idiot|idiots|incompetent|moron|clueless|pathetic|dumb|thick|a liar)|shut up|idiots?|morons?"),
])
RULES = {"customer": CUSTOMER_RULES, "agent": AGENT_RULES}

# Praise words that turn sarcastic in a line that also complains ("wonderful, another hour on hold").
_PRAISE = re.compile(r"\b(?:oh )?(?:great|perfect|wonderful|fantastic|brilliant|lovely|marvelous|marvellous|terrific|awesome|super|excellent|amazing|nice one|nice|thanks a lot|just what i (?:needed|wanted)|love it|how convenient|good job)\b")
_SARCASM_CONTEXT = frozenset({"waiting", "repeat_contact", "broken_promise", "unresolved"})

# --- normalisation ------------------------------------------------------------------------
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'"})
_CONTRACTIONS = [(re.compile(p), r) for p, r in [
    (r"\bcan'?t\b|\bcannot\b", "can not"),
    (r"\bwon'?t\b", "will not"),
    (r"\bain'?t\b", "is not"),
    (r"\b(do|does|did|is|are|was|were|have|has|had|could|would|should|must|need|might)n'?t\b", r"\1 not"),
    (r"n't\b", " not"),
    (r"\bi'?m\b", "i am"),
    (r"\bi'?ve\b", "i have"),
    (r"\b(you|they)'?re\b", r"\1 are"),
    (r"\bwe're\b", "we are"),
    (r"\b(you|we|they)'ve\b", r"\1 have"),
    (r"\b(i|you|we|they|he|she|it|that|there)'ll\b", r"\1 will"),
    (r"\b(i|you|we|they|he|she|it|that|there)'d\b", r"\1 would"),
    (r"\b(it|that|what|there|here|who|he|she|where|how)'s\b", r"\1 is"),
    (r"\b(that|what|there|here|who)s\b", r"\1 is"),
    (r"\blet'?s\b", "let us"),
    (r"\bgonna\b", "going to"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "got to"),
    (r"\bdunno\b", "do not know"),
    (r"'s\b", "s"),  # possessive: manager's -> managers (so it is not "manager")
    (r"\bu\b", "you"),
]]
_NON_WORD = re.compile(r"[^\w\s]+|_")
_SPACES = re.compile(r"\s+")
_NEGATORS = frozenset({"not", "no", "never", "without", "hardly", "nor"})
# A negator does not reach past these ("that is not ok and i am sorry": "sorry" is not negated).
_CLAUSE_BREAKS = frozenset({"and", "but", "so", "because", "then", "though", "although", "or", "yet", "if"})


def pattern_text(text: str) -> str:
    """Lowercase, unify apostrophes, expand contractions, drop punctuation, squeeze spaces."""
    s = text.lower().translate(_APOSTROPHES)
    for pattern, repl in _CONTRACTIONS:
        s = pattern.sub(repl, s)
    s = _NON_WORD.sub(" ", s)
    return _SPACES.sub(" ", s).strip()


# Emoji whose VADER descriptions are neutral ("pouting face") but mean anger on a chat line.
EMOJI_WORDS = {
    "\U0001F621": "furious", "\U0001F92C": "furious swearing", "\U0001F620": "angry",
    "\U0001F624": "frustrated", "\U0001F644": "annoyed", "\U0001F612": "annoyed",
    "\U0001F611": "annoyed", "\U0001F44E": "bad",
}
_EMOJI_TABLE = str.maketrans({k: f" {v} " for k, v in EMOJI_WORDS.items()})


def _window(text: str) -> str:
    """The last MAX_WORDS words (at most MAX_CHARS characters) of `text`."""
    if len(text) > MAX_CHARS * 4:
        text = text[-MAX_CHARS * 4:]
    words = text.split()
    if len(words) > MAX_WORDS:
        words = words[-MAX_WORDS:]
    out = " ".join(words)
    return out[-MAX_CHARS:] if len(out) > MAX_CHARS else out


# A small English function-word list: a line of 4+ words with almost none of these is not
# English (VADER would only react to loanwords such as "terrible" or "no").
_ENGLISH = frozenset((
    "the an and or but if i you we they he she it is are was were be been am to of in on at for "
    "with my your our their me us them this that these those have has had do does did not can "
    "could will would should what why how when where who which there here just so very really "
    "please thank thanks yes yeah okay ok hi hello about from get got want need call called "
    "account order service bill phone number time again still never nobody all any some one "
    "im dont cant its thats gonna lets back up out now today been being than then too "
    "a as by go going know like make made more no over only other said say see some take tell "
    "told think up well went were whole without working work day days week weeks month months "
    "year years hour hours minute minutes every because after before again off down new old "
    "money pay paid card email address help sorry right wrong good bad great much many"
).split())
_LETTERS = re.compile(r"[^\W\d_]+")


def _looks_english(text: str) -> bool:
    tokens = _LETTERS.findall(text.lower())
    if not tokens:
        return False
    latin = sum(1 for t in tokens if t.isascii())
    if latin / len(tokens) < 0.5:
        return False
    if len(tokens) < 4:
        return True
    hits = sum(1 for t in tokens if t in _ENGLISH)
    return hits / len(tokens) >= 0.15


# --- VADER --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _base_vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=None)
def _vader(role: str) -> SentimentIntensityAnalyzer:
    """A VADER analyser whose lexicon has the role's overrides (built once per role)."""
    base = _base_vader()
    analyser = SentimentIntensityAnalyzer.__new__(SentimentIntensityAnalyzer)
    analyser.__dict__.update(base.__dict__)
    analyser.lexicon = {**base.lexicon, **LEXICON_OVERRIDES[role]}
    return analyser


def plain_vader(text: str) -> float:
    """Unmodified VADER compound score (the baseline the evaluation compares against)."""
    return _base_vader().polarity_scores(text)["compound"]


# --- the result types ---------------------------------------------------------------------
@dataclass(frozen=True)
class Sentiment:
    """How one utterance feels. `score` -1 very upset/negative .. +1 very positive."""

    score: float
    upset: bool  # reads as customer frustration/anger (always False for the agent)
    cues: tuple[str, ...]  # names from CUES, strongest first
    anger: float  # 0..1 intensity: abuse, profanity, threats, shouting push it up
    role: str = "customer"
    words: int = 0  # words in the utterance (MoodTracker weights by it)
    evidence: tuple[tuple[str, str], ...] = ()  # (cue, words heard) for `because` texts


NEUTRAL = Sentiment(0.0, False, (), 0.0)
SHOUTING = (-0.20, 0.30, "CAPS/!!")  # (weight, anger, evidence) of the "shouting" cue


def _shouting(text: str) -> bool:
    caps = [w for w in re.findall(r"[A-Za-z]{2,}", text) if w.isupper()]
    if "!!" in text or "?!" in text:
        return True
    if len(caps) < 2:
        return False
    letters = re.findall(r"[A-Za-z]{2,}", text)
    # an all-caps line of only a few words is probably an acronym or a transcript convention
    return len(caps) < len(letters) or len(letters) >= 4


def _match_rules(norm: str, rows: tuple[Rule, ...]) -> dict[str, tuple[float, float, str]]:
    """{cue: (weight, anger, matched words)}; per cue the strongest matching row wins."""
    hits: dict[str, tuple[float, float, str]] = {}
    for rule in rows:
        for m in rule.pattern.finditer(norm):
            if rule.negatable:
                before = norm[max(0, m.start() - 60): m.start()].split()[-NEGATION_WINDOW:]
                for i in range(len(before) - 1, -1, -1):
                    if before[i] in _CLAUSE_BREAKS:
                        before = before[i + 1:]
                        break
                if _NEGATORS.intersection(before):
                    continue
            prev = hits.get(rule.cue)
            if prev is None or abs(rule.weight) > abs(prev[0]):
                hits[rule.cue] = (rule.weight, rule.anger, m.group(0))
            break  # one match per row is enough
    return hits


def _combine(weights: list[float]) -> float:
    """Sum with diminishing returns: strongest first, each next one CUE_DECAY times less."""
    total = 0.0
    for i, w in enumerate(sorted(weights, key=abs, reverse=True)):
        total += w * CUE_DECAY**i
    return total


def score(text: str, role: str = "customer") -> Sentiment:
    """Score one utterance for `role` ("customer" or "agent"). Never raises on odd text."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    window = _window(text).translate(_EMOJI_TABLE)
    n_words = len(window.split())
    if not window.strip():
        return Sentiment(0.0, False, (), 0.0, role, 0)
    if not _looks_english(window):
        only_emoji = not _LETTERS.search(window)
        if not only_emoji:
            return Sentiment(0.0, False, ("not_english",), 0.0, role, n_words)

    norm = pattern_text(window)
    hits = _match_rules(norm, RULES[role])
    if role == "customer":
        if "sarcasm" not in hits and _SARCASM_CONTEXT.intersection(hits):
            m = _PRAISE.search(norm)
            if m:
                hits["sarcasm"] = (-0.55, 0.30, m.group(0))
        if "sarcasm" in hits:
            hits.pop("gratitude", None)
            hits.pop("reassurance", None)

    v = _vader(role).polarity_scores(window)["compound"]
    if role == "customer" and _shouting(window) and (COMPLAINT_CUES.intersection(hits) or v < -0.05):
        hits["shouting"] = SHOUTING  # capitals or "!!" only add heat to a line that is negative anyway
    negative = any(w < 0 for w, _, _ in hits.values())
    calming = any(cue in CALMING_CUES for cue in hits)
    if "sarcasm" in hits and v > 0:
        v = -0.5 * v  # the praise is the insult
    elif negative and v > 0:
        v *= VADER_DAMP_WHEN_COMPLAINING
    elif calming and not negative and v < 0:
        v *= VADER_DAMP_WHEN_REASSURED

    raw = v + _combine([w for w, _, _ in hits.values()])
    s = math.tanh(raw)
    s = 0.0 if abs(s) < 1e-9 else max(-1.0, min(1.0, s))

    # anger: 1 - prod(1 - a) over cues, plus a share of the negativity
    keep = 1.0
    for _, a, _ in hits.values():
        keep *= 1.0 - a
    keep *= 1.0 - 0.35 * max(0.0, -s)
    anger = 1.0 - keep
    if s > 0:
        anger *= 0.5
    anger = round(max(0.0, min(1.0, anger)), 3)

    ordered = sorted(hits.items(), key=lambda kv: (-abs(kv[1][0]), kv[0]))
    cues = tuple(cue for cue, _ in ordered)
    evidence = tuple((cue, phrase) for cue, (_, _, phrase) in ordered)
    upset = role == "customer" and s <= UPSET_THRESHOLD
    return Sentiment(round(s, 4), upset, cues, anger, role, n_words, evidence)


def closed_cues(text: str, role: str = "customer") -> frozenset[str]:
    """The cues of `text` found by rows that look at nothing after their own words (a lawyer,
    "useless", "manager right now"): whatever is said next, `score` of the longer text has them."""
    window = _window(text)
    if not window.strip() or not _looks_english(window):
        return frozenset()
    return frozenset(_match_rules(pattern_text(window), tuple(r for r in RULES[role] if not r.looks_ahead)))


# --- rolling customer mood ----------------------------------------------------------------
HALF_LIFE_S = 30.0  # an utterance's weight halves every 30 s of call time
PRIOR_WEIGHT = 0.5  # a neutral prior worth half a typical utterance, decaying like the rest
TREND_LOOKBACK_S = 25.0  # trend compares the mood now with the mood ~25 s ago
TREND_MIN_SPAN_S = 15.0  # ... and needs at least 15 s of history to say anything
TREND_ENTER = 0.15  # a change of at least 0.15 in level starts "worsening"/"improving"
TREND_EXIT = 0.07  # ... which holds until the change falls back under 0.07 (dead band)
FRUSTRATED_ENTER, FRUSTRATED_EXIT = -0.25, -0.15  # level thresholds with hysteresis
ANGRY_ENTER, ANGRY_EXIT = -0.55, -0.45
ANGER_ENTER, ANGER_EXIT = 0.55, 0.45  # or rolling anger at least this high


@dataclass(frozen=True)
class Mood:
    t: float  # call time of the update (s)
    level: float  # -1 .. +1 rolling customer sentiment
    state: str  # "calm" | "frustrated" | "angry"
    trend: str  # "worsening" | "steady" | "improving"
    slope: float  # level change per second over the trend window (0 until enough history)
    anger: float = 0.0  # rolling anger 0..1


class MoodTracker:
    """Rolling customer mood: an exponentially time-weighted mean of utterance scores.

    Each utterance enters with weight = its length (words/8, clamped to 0.25..2.5, or the
    `weight` passed to `update`) and that weight halves every HALF_LIFE_S seconds, so a
    long rant counts more than "ok", and the mood follows the last half-minute or so.
    `state` uses the thresholds above with hysteresis; `trend` compares the level now with
    the level TREND_LOOKBACK_S ago, entering worsening/improving at a change of TREND_ENTER
    and leaving only under TREND_EXIT, so it does not flap. Agent sentiments are ignored.
    """

    def __init__(self, half_life_s: float = HALF_LIFE_S) -> None:
        self.half_life_s = half_life_s
        self.reset()

    def reset(self) -> None:
        self._t: float | None = None
        self._sum = 0.0  # decayed sum of weight * score
        self._anger_sum = 0.0
        self._weight = PRIOR_WEIGHT  # decayed total weight (the prior contributes 0 score)
        self._history: list[tuple[float, float]] = []  # (t, level)
        self._state = "calm"
        self._trend = "steady"
        self.mood = Mood(0.0, 0.0, "calm", "steady", 0.0, 0.0)

    def update(self, t: float, sentiment: Sentiment, weight: float | None = None) -> Mood:
        if sentiment.role != "customer":
            return self.mood
        t = float(t)
        if self._t is not None:
            dt = max(0.0, t - self._t)
            decay = 0.5 ** (dt / self.half_life_s)
            self._sum *= decay
            self._anger_sum *= decay
            self._weight *= decay
            t = max(t, self._t)
        if weight is None:
            weight = min(2.5, max(0.25, (sentiment.words or 8) / 8))
        weight = max(0.0, float(weight))
        self._sum += weight * sentiment.score
        self._anger_sum += weight * sentiment.anger
        self._weight += weight
        self._t = t
        level = max(-1.0, min(1.0, self._sum / self._weight)) if self._weight > 0 else 0.0
        anger = max(0.0, min(1.0, self._anger_sum / self._weight)) if self._weight > 0 else 0.0

        # state, with hysteresis
        if level <= ANGRY_ENTER or anger >= ANGER_ENTER:
            self._state = "angry"
        elif self._state == "angry" and (level <= ANGRY_EXIT or anger >= ANGER_EXIT):
            pass
        elif level <= FRUSTRATED_ENTER or (self._state in ("angry", "frustrated") and level <= FRUSTRATED_EXIT):
            self._state = "frustrated"
        else:
            self._state = "calm"

        # trend: level now vs the level TREND_LOOKBACK_S ago
        slope = 0.0
        past = None
        for ht, hl in self._history:
            if ht <= t - TREND_LOOKBACK_S:
                past = (ht, hl)
            else:
                break
        if past is None and self._history and t - self._history[0][0] >= TREND_MIN_SPAN_S:
            past = self._history[0]
        if past is not None and t > past[0]:
            delta = level - past[1]
            slope = delta / (t - past[0])
            if delta <= -TREND_ENTER or (self._trend == "worsening" and delta <= -TREND_EXIT):
                self._trend = "worsening"
            elif delta >= TREND_ENTER or (self._trend == "improving" and delta >= TREND_EXIT):
                self._trend = "improving"
            else:
                self._trend = "steady"
        self._history.append((t, level))
        # keep one entry older than the lookback (the comparison point) and everything newer
        cutoff = t - TREND_LOOKBACK_S
        while len(self._history) > 1 and self._history[1][0] <= cutoff:
            self._history.pop(0)

        self.mood = Mood(t, round(level, 4), self._state, self._trend, round(slope, 5), round(anger, 4))
        return self.mood

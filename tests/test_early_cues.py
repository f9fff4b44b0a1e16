"""Critical cues from partial text, on events we script: a manager demand is coached once two
partials of the utterance agree on it and the words after it cannot take it back, and the
final text does not raise it again."""

from __future__ import annotations

from dataclasses import replace

from callcoach.coach.coach import Coach
from callcoach.coach.events import Prompt, PromptWithheld
from callcoach.coach.playbook import load_playbook
from callcoach.engine.events import CallEnded, Partial, Utterance, Watermark
from callcoach.session import SessionRecorder

DEMAND = "No. I want to speak to your manager right now, this is the third time I have called"


def _coach(playbook=None) -> tuple[Coach, list, SessionRecorder]:
    coach, got, recorder = Coach(playbook), [], SessionRecorder()
    coach.subscribe(got.append)
    coach.subscribe(recorder)
    return coach, got, recorder


def _prompts(got) -> list[Prompt]:
    return [e for e in got if isinstance(e, Prompt)]


def _partials(coach, start, texts, first_t, role="customer", beam=True):
    """Partials a second apart (decoded like the final text: as the coach asks for them once
    it hears a cue); the watermark passes each soon after (the speech goes on)."""
    for i, text in enumerate(texts):
        t = first_t + i
        coach(Partial(role, start, t, text, 0.2, beam))
        coach(Watermark(t + 0.1))


def _final(coach, start, end, text, role="customer"):
    coach(Utterance(role, start, end, text, (), None, 0.6))
    coach(Watermark(end + 0.1))


def test_a_demand_in_two_partials_is_coached_before_the_sentence_ends():
    coach, got, recorder = _coach()
    _partials(coach, 2.0, ["No. I want to speak to your manager", "No. I want to speak to your manager right now,",
                           DEMAND[:70], DEMAND], first_t=4.0)
    early = _prompts(got)
    assert [(p.kind, p.t, p.from_partial) for p in early] == [("escalate", 6.0, True)], \
        "at the first partial with a word after \"manager right now\" (or three after the demand)"
    assert "manager" in early[0].because and early[0].latency_s is not None
    _final(coach, 1.95, 8.2, DEMAND)
    coach(CallEnded(10.0))
    assert [p.kind for p in _prompts(got)] == ["escalate", "follow_up"], "the final text raises it no second time"
    [recorded] = [p for p in recorder.summary()["prompts"] if p["kind"] == "escalate"]
    assert recorded["from_partial"] is True, "QA can tell it came from a partial"


def test_the_final_text_does_not_repeat_it_even_without_a_cooldown():
    playbook, _ = load_playbook()
    playbook = replace(playbook, rules=tuple(replace(r, cooldown_s=0) for r in playbook.rules))
    coach, got, _ = _coach(playbook)
    _partials(coach, 2.0, ["I want to speak to your manager", "I want to speak to your manager right now please"],
              4.0)
    assert _prompts(got)[0].from_partial
    _final(coach, 2.0, 7.0, DEMAND)
    coach(CallEnded(9.0))
    assert [p.kind for p in _prompts(got)] == ["escalate", "follow_up"]
    assert not [e for e in got if isinstance(e, PromptWithheld) and e.kind == "escalate"], "not even held back"


def test_a_cue_in_one_partial_only_waits_for_the_final_text():
    coach, got, _ = _coach()
    _partials(coach, 2.0, ["I want to speak to your manager", "I want to speak to you, man, I have waited"], 4.0)
    assert not _prompts(got), "the next partial heard it otherwise"
    _final(coach, 2.0, 7.0, "I want to speak to you, man, I have waited long enough")
    assert not _prompts(got)
    _partials(coach, 9.0, ["Get me a supervisor"], 10.0)
    _final(coach, 9.0, 10.5, "Get me a supervisor.")
    assert [(p.kind, p.from_partial) for p in _prompts(got)] == [("escalate", False)], "one partial is not enough"


def test_words_after_the_cue_can_take_it_back():
    coach, got, _ = _coach()
    _partials(coach, 2.0, ["Can I speak to the manager", "Can I speak to the manager of the",
                           "Can I speak to the manager of the Leeds branch, or do you"], 4.0)
    _partials(coach, 9.0, ["If the engineer is late I am going to cancel", "If the engineer is late I am going to cancel the",
                           "If the engineer is late I am going to cancel the appointment and book"], 10.0)
    assert not _prompts(got), "not a manager demand, not a threat to leave"


def test_a_cue_no_later_words_can_take_back_needs_one_word_after_it():
    coach, got, _ = _coach()
    coach(Partial("customer", 2.0, 4.0, "I will be talking to my lawyer", 0.2, True))
    coach(Partial("customer", 2.0, 4.1, "I will be talking to my lawyer", 0.2, True))
    coach(Watermark(4.2))
    assert not _prompts(got), "on the last word: it may be cut or misheard at the edge of the audio"
    _partials(coach, 2.0, ["I will be talking to my lawyer about"], 5.0)
    assert [(p.kind, p.t, p.from_partial) for p in _prompts(got)] == [("escalate", 5.0, True)], \
        "a lawyer is a legal threat whatever comes next"
    _partials(coach, 9.0, ["I need a manager for my", "I need a manager for my account"], 10.0)
    assert len(_prompts(got)) == 1, "a manager for my account is no demand: those words wait for three more"


def test_a_cue_two_partials_end_on_a_word_of_audio_apart_is_not_at_the_edge():
    coach, got, _ = _coach()
    said = "This is the second time I am calling and I want to speak to your manager right now."
    coach(Partial("customer", 2.0, 6.0, said, 0.2, True))
    coach(Partial("customer", 2.0, 6.1, said, 0.2, True))
    coach(Watermark(6.2))
    assert not _prompts(got), "0.1 s more audio: \"now\" may still be the edge of the audio"
    coach(Partial("customer", 2.0, 6.4, said, 0.2, True))  # the beam search left out "please,"
    coach(Watermark(6.5))
    assert [(p.kind, p.t, p.from_partial) for p in _prompts(got)] == [("escalate", 6.4, True)]
    coach(Partial("customer", 9.0, 10.0, "Can I speak to the manager", 0.2, True))
    coach(Partial("customer", 9.0, 10.5, "Can I speak to the manager", 0.2, True))
    coach(Watermark(10.6))
    assert len(_prompts(got)) == 1, "of the Leeds branch may follow: those words wait for three more"


def test_quick_greedy_partials_do_not_confirm_a_cue():
    coach, got, _ = _coach()
    _partials(coach, 2.0, ["I want to talk to a manager and help the job you", "I want to talk to a manager and "
                           "help the job you can"], 4.0, beam=False)
    assert not _prompts(got), "they share mishearings the final text does not have"
    _partials(coach, 2.0, ["I want to talk to a manager about the job you advertised"], 6.0)
    assert not _prompts(got)


def test_partials_of_two_utterances_are_not_consecutive():
    coach, got, _ = _coach()
    _partials(coach, 2.0, ["I want to speak to your manager right now please"], 4.0)
    _partials(coach, 6.0, ["I want to speak to your manager right now please"], 7.0)
    assert not _prompts(got)


def test_the_agents_partials_and_routine_cues_raise_nothing_early():
    coach, got, _ = _coach()
    _partials(coach, 2.0, ["Would you like to speak to my manager?"] * 3, 4.0, role="agent")
    _partials(coach, 8.0, ["I have been waiting three weeks for my refund"] * 3, 10.0)
    assert not _prompts(got), "only critical cues come early"


def test_abuse_sets_a_boundary_from_partials():
    coach, got, _ = _coach()
    _partials(coach, 1.0, ["You are useless", "You are useless, all of you are"], 3.0)
    assert [(p.kind, p.from_partial) for p in _prompts(got)] == [("set_boundary", True)]


def test_a_partial_behind_the_watermark_is_coached_at_the_watermark():
    coach, got, _ = _coach()
    coach(Partial("customer", 2.0, 4.0, "I want to speak to your manager", 0.2, True))
    coach(Watermark(6.0))  # the agent's text came meanwhile; the watermark ran past 5 s
    coach(Partial("customer", 2.0, 5.0, "I want to speak to your manager right now please", 0.2, True))
    [prompt] = _prompts(got)
    assert prompt.t == 6.0, "events up to 6 s were coached already: it comes after them"


def test_a_partial_after_its_final_text_is_ignored():
    coach, got, _ = _coach()
    _final(coach, 2.0, 4.5, "Fine.")
    _partials(coach, 2.0, ["Fine. Get me your manager right now please"] * 2, 5.0)
    assert not _prompts(got)


def test_a_cue_waiting_to_be_confirmed_asks_for_the_next_partial_at_once():
    asked = []
    coach = Coach(confirm_partial=asked.append)
    _partials(coach, 2.0, ["Fine, I want", "Fine, I want to speak to your manager"], 4.0)
    assert asked == ["customer"], "heard once: hear the next words soon"
    _partials(coach, 2.0, ["Fine, I want to speak to your manager now"], 6.0)
    assert asked == ["customer"] * 2, "still too close to the edge of the audio"
    _partials(coach, 2.0, ["Fine, I want to speak to your manager now or else"], 7.0)
    assert asked == ["customer"] * 2 and _prompts(coach.prompts), "confirmed and passed on: nothing more to ask"
    _partials(coach, 2.0, ["Fine, I want to speak to your manager now or else I will call my lawyer"], 8.0)
    assert asked == ["customer"] * 3, "a new cue in the same utterance"
    _partials(coach, 12.0, ["I want the refund"] * 2, 13.0, role="customer")
    _partials(coach, 16.0, ["Get me your supervisor"], 17.0, role="agent")
    assert len(asked) == 3, "no cue, or the agent's words: nothing to confirm"

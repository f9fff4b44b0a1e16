"""A session as rich text for the detail view: the transcript by speaker with the prompts
inline where they were raised, and the summary (metrics, handoff note, follow-up
checklist, notices). Every stored string is escaped; every number goes through `number()`.
"""

from __future__ import annotations

from html import escape

from callcoach.coach.scheduler import fate_text, hold_text
from callcoach.gui import theme
from callcoach.gui.review.values import signed
from callcoach.session_values import NONE, clock, coached_with, dicts, mood_state, number, text

SPEAKER_COLOR = {"agent": theme.SEVERITY["info"], "customer": theme.TEXT}
OUTCOME = {"done": "agent: done", "not_helpful": "agent: not helpful", "acted_on": "acted on",
           "expired": "expired", "replaced": "replaced by another prompt", "call_ended": "open at call end"}


def transcript_html(session: dict) -> tuple[str, list[tuple[float, str]]]:
    """(HTML, [(call time, anchor name)]) with one anchor per line or prompt, in time order."""
    entries = []
    for u in dicts(session.get("utterances")):
        entries.append((number(u.get("start")), 0, _utterance_row, u))
    for p in dicts(session.get("prompts")):
        entries.append((number(p.get("t")), 1, _prompt_row, p))
    for w in dicts(session.get("withheld")):
        entries.append((number(w.get("t")), 2, _withheld_row, w))
    entries.sort(key=lambda e: (e[0] if e[0] is not None else float("inf"), e[1]))
    rows, anchors = [], []
    for i, (t, _, render, item) in enumerate(entries):
        name = f"e{i}"
        if t is not None:
            anchors.append((t, name))
        rows.append(render(item, name))
    if not rows:
        return f"<p style='color:{theme.MUTED}'>Nothing was said in this session.</p>", []
    body = "".join(rows)
    return f"<table width='100%' cellspacing='0' cellpadding='3'>{body}</table>", anchors


def _utterance_row(u: dict, anchor: str) -> str:
    speaker = text(u.get("speaker")) or "unknown"
    color = SPEAKER_COLOR.get(speaker, theme.MUTED)
    sentiment = number(u.get("sentiment"))
    score = ""
    if speaker == "customer" and sentiment is not None:
        score = (f"<span style='color:{theme.MOOD[mood_state(sentiment)]}; font-size:{theme.SMALL_PT}pt'>"
                 f"&nbsp;{signed(sentiment)}</span>")
    return (f"<tr><td width='44' valign='top' style='color:{theme.MUTED}'><a name='{anchor}'></a>"
            f"{clock(u.get('start'))}</td><td width='4'></td>"
            f"<td width='84' valign='top' style='color:{color}; font-weight:600; white-space:pre'>{escape(speaker.capitalize())}</td>"
            f"<td valign='top'>{escape(text(u.get('text')))}{score}</td></tr>")


def _prompt_row(p: dict, anchor: str) -> str:
    severity = text(p.get("severity")) or "info"
    color = theme.SEVERITY.get(severity, theme.SEVERITY["info"])
    title = escape(text(p.get("title")) or text(p.get("kind")) or "Prompt")
    lines = [f"<b style='color:{color}'>{title}</b>"
             f"<span style='color:{theme.MUTED}'>&nbsp;&nbsp;{escape(severity)} · {escape(text(p.get('kind')))}"
             f" · {escape(_outcome(p))}</span>"]
    if text(p.get("message")):
        lines.append(escape(p["message"]))
    if text(p.get("phrase")):
        lines.append(f"<i>“{escape(p['phrase'])}”</i>")
    held = number(p.get("held_s"))
    details = [f"tactic: {escape(p['tactic'])}" if text(p.get("tactic")) else "",
               f"because: {escape(p['because'])}" if text(p.get("because")) else "",
               f"held back {held:.0f} s: {escape(hold_text(p.get('held_for')))}" if held else ""]
    if any(details):
        lines.append(f"<span style='color:{theme.SECONDARY}'>{' · '.join(filter(None, details))}</span>")
    return (f"<tr><td valign='top' style='color:{color}'><a name='{anchor}'></a>{clock(p.get('t'))}</td>"
            f"<td bgcolor='{color}'></td>"
            f"<td colspan='2' bgcolor='{theme.TRACK}'>{'<br>'.join(lines)}</td></tr>")


def _withheld_row(w: dict, anchor: str) -> str:
    """A prompt the coach would have shown, held back and dropped: all in grey."""
    title = escape(text(w.get("title")) or text(w.get("kind")) or "Prompt")
    lines = [f"<b>{title}</b>&nbsp;&nbsp;not shown · {escape(text(w.get('severity')) or 'info')} · "
             f"{escape(text(w.get('kind')))}",
             f"held back: {escape(hold_text(w.get('reason')))}; dropped at {clock(w.get('until'))}: "
             f"{escape(fate_text(w.get('fate')))}"]
    if text(w.get("because")):
        lines.append(f"because: {escape(w['because'])}")
    return (f"<tr><td valign='top' style='color:{theme.MUTED}'><a name='{anchor}'></a>{clock(w.get('t'))}</td>"
            f"<td bgcolor='{theme.MUTED}'></td>"
            f"<td colspan='2' style='color:{theme.MUTED}'>{'<br>'.join(lines)}</td></tr>")


def _outcome(p: dict) -> str:
    feedback = p.get("feedback") if isinstance(p.get("feedback"), dict) else {}
    cleared = p.get("cleared") if isinstance(p.get("cleared"), dict) else {}
    action = text(feedback.get("action")) or text(cleared.get("reason"))
    return OUTCOME.get(action, action or "no reaction recorded")


def summary_html(session: dict) -> str:
    """Metrics, handoff note, follow-up checklist, notices and any problem with the record."""
    parts = []
    if session.get("damaged") or session.get("status") == "damaged":
        parts.append(_section("Damaged record", escape(text(session.get("problem")) or "unreadable"),
                              theme.SEVERITY["critical"]))
    elif session.get("complete") is False:
        parts.append(_section("Incomplete", "The call did not end normally; this is what was saved "
                              "while it happened.", theme.SEVERITY["warning"]))
    parts.append(_section("Metrics", _metrics_table(session)))
    note = text(session.get("handoff_note"))
    if note:
        parts.append(_section("Handoff note", f"<pre style='white-space:pre-wrap'>{escape(note)}</pre>"))
    checklist = [c for c in session.get("follow_up") or [] if isinstance(c, str)] \
        if isinstance(session.get("follow_up"), list) else []
    parts.append(_section("Follow-up checklist", "<br>".join(f"☐ {escape(c)}" for c in checklist)
                          or f"<span style='color:{theme.MUTED}'>none</span>"))
    notices = dicts(session.get("notices"))
    if notices:
        parts.append(_section("Notices", "<br>".join(
            f"{clock(n.get('t'))}&nbsp;&nbsp;{escape(text(n.get('level')))}: {escape(text(n.get('message')))}"
            for n in notices)))
    return "".join(parts)


def _metrics_table(session: dict) -> str:
    m = session.get("metrics") if isinstance(session.get("metrics"), dict) else {}
    mood = m.get("customer_sentiment") if isinstance(m.get("customer_sentiment"), dict) else {}
    prompts = dicts(session.get("prompts"))
    share = number(m.get("agent_talk_share"))
    wpm = number(m.get("agent_wpm"))
    suppressed = m.get("prompts_suppressed") if isinstance(m.get("prompts_suppressed"), dict) else {}
    rows = [
        ("Duration", clock(session.get("duration_s"))),
        ("Customer mood start / end / worst",
         f"{signed(mood.get('start'))} / {signed(mood.get('end'))} / {signed(mood.get('min'))}"),
        ("Escalated", "yes" if m.get("escalated") is True or any(p.get("kind") == "escalate" for p in prompts)
         else "no"),
        ("Agent pace", f"{wpm:.0f} wpm" if wpm is not None else NONE),
        ("Agent talk share", f"{share:.0%}" if share is not None else NONE),
        ("Dead air", f"{number(m.get('dead_air_s')):.1f} s" if number(m.get("dead_air_s")) is not None else NONE),
        ("Talk-overs", _count(m.get("overlaps"))),
        ("Prompts shown / acted on", f"{len(prompts)} / {sum(_acted(p) for p in prompts)}"),
        ("Prompts held back, then shown", _count(sum(1 for p in prompts if number(p.get("held_s"))))),
        ("Prompts held back, not shown", _count(sum(number(v) or 0 for v in suppressed.values()))),
        ("Coached with", escape(coached_with(session) or NONE)),
    ]
    return "<table cellspacing='0' cellpadding='2'>" + "".join(
        f"<tr><td style='color:{theme.SECONDARY}'>{label}</td><td width='12'></td><td>{value}</td></tr>"
        for label, value in rows) + "</table>"


def _acted(p: dict) -> bool:
    """Counted as the store counts it (callcoach.store.summary_figures)."""
    feedback = p.get("feedback") if isinstance(p.get("feedback"), dict) else {}
    cleared = p.get("cleared") if isinstance(p.get("cleared"), dict) else {}
    return feedback.get("action") == "done" or cleared.get("reason") in ("acted_on", "done")


def _count(value) -> str:
    v = number(value)
    return NONE if v is None else f"{v:g}"


def _section(title: str, body: str, color: str = theme.SECONDARY) -> str:
    return (f"<p style='margin-top:10px; margin-bottom:2px; color:{color}; font-weight:600'>{escape(title)}</p>"
            f"<div>{body}</div>")

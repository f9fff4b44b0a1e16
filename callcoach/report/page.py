"""The report page: header, banners, timeline, metrics, transcript with the prompts where
they were raised, handoff note, follow-up checklist, agent feedback, notices."""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import Any

from callcoach import __version__
from callcoach.coach.scheduler import fate_text, hold_text
from callcoach.report.style import CSS
from callcoach.report.timeline import timeline_svg
from callcoach.report.values import (SEVERITY_COLOR, SPEAKER_COLOR, duration_of, kind_label, numbered_prompts,
                                     pace_band, severity)
from callcoach.session_values import clock, coached_with, dicts, local_time, number, sub, text

FEEDBACK_LABEL = {"done": "done", "not_helpful": "not helpful", None: "none"}
CLEARED_LABEL = {"expired": "expired", "replaced": "replaced by a newer prompt", "acted_on": "acted on by the agent",
                 "done": "marked done", "not_helpful": "marked not helpful", "call_ended": "call ended"}


def _e(x: Any) -> str:
    return escape(text(x), quote=True)


def render_html(session: dict) -> str:
    """The report as one HTML document."""
    if not isinstance(session, dict):
        session = {"damaged": True, "problem": f"the session is a {type(session).__name__}, not an object"}
    numbered = numbered_prompts(session)
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    parts = [
        _header(session),
        _section("Timeline", _timeline(session, numbered), "timeline"),
        _section("Metrics", _metrics(session, [p for _, p in numbered]), "metrics"),
        _section("Transcript", _transcript(session, numbered), "transcript"),
        _section("Handoff note", _handoff(session), "handoff"),
        _section("Follow-up checklist", _checklist(session), "follow-up"),
        _section("Agent feedback on prompts", _feedback(numbered), "feedback"),
        _section("Notices", _notices(session), "notices"),
        f"<footer>CallCoach {_e(__version__)} · report generated {_e(generated)} · "
        f"session {_e(session.get('id') or '—')}</footer>",
    ]
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Call report {_e(_date(session.get('started_at')))}</title>\n<style>{CSS}</style>\n"
            "</head>\n<body>\n<main>\n" + "\n".join(p for p in parts if p) + "\n</main>\n</body>\n</html>\n")


def _section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(title)}</h2>\n{body}\n</section>'


def _date(value: Any) -> str:
    """The start time in the reader's time zone; the raw value when it cannot be parsed."""
    return local_time(value, "%Y-%m-%d %H:%M %Z") or "date unknown"


def _status(session: dict) -> str:
    if isinstance(session.get("status"), str) and session["status"]:
        return session["status"]
    if session.get("damaged"):
        return "damaged"
    complete = session.get("complete")
    return "complete" if complete is True else "incomplete" if complete is False else "—"


def _header(session: dict) -> str:
    status = _status(session)
    facts = [("Date", _date(session.get("started_at"))), ("Agent", text(session.get("agent")) or "—"),
             ("Duration", clock(duration_of(session))), ("Recording", text(session.get("source")) or "—")]
    cells = "".join(f'<div class="fact"><span>{_e(k)}</span><strong>{_e(v)}</strong></div>' for k, v in facts)
    known = status if status in ("complete", "incomplete", "live", "damaged") else "other"
    cells += (f'<div class="fact"><span>Status</span><strong class="status status-{known}">'
              f"{_e(status)}</strong></div>")
    qa = sub(session, "qa")
    score, note = number(qa.get("score")), text(qa.get("note")).strip()
    qa_html = ""
    if score is not None or note:
        parts = ['<div class="qa"><span>QA review</span>']
        if score is not None:
            parts.append(f'<strong class="score">Score {score:g}</strong>')
        if note:
            parts.append(f"<p>{_e(note)}</p>")
        qa_html = "".join(parts) + "</div>"
    return (f'<header>\n<h1>Call session report</h1>\n<div class="facts">{cells}</div>\n{qa_html}\n'
            f"{_banners(session)}\n</header>")


def _banners(session: dict) -> str:
    out = []
    damaged = bool(session.get("damaged")) or session.get("status") == "damaged"
    if damaged:
        problem = text(session.get("problem")).strip()
        detail = f" ({_e(problem)})" if problem else ""
        out.append(f'<div class="banner damaged" role="alert"><strong>Damaged record.</strong> Part of this '
                   f"session could not be read{detail}; what could be read is shown below.</div>")
    if session.get("status") == "live":
        out.append('<div class="banner incomplete" role="alert"><strong>Call in progress.</strong> This call '
                   f"is still being recorded; this report shows it up to {clock(duration_of(session))}.</div>")
    elif session.get("status") == "incomplete" or (session.get("complete") is False and not damaged):
        out.append('<div class="banner incomplete" role="alert"><strong>Incomplete session.</strong> The call '
                   "did not end normally (the app was closed or stopped mid-call); this report shows what "
                   f"was recorded up to {clock(duration_of(session))}.</div>")
    return "\n".join(out)


def _timeline(session: dict, numbered: list[tuple[int, dict]]) -> str:
    svg = timeline_svg(session, numbered)
    return svg + _legend(session) if svg.startswith("<svg") else svg


def _legend(session: dict) -> str:
    items = [f'<span><i class="swatch" style="background:{c}"></i>{_e(s)} prompt</span>'
             for s, c in SEVERITY_COLOR.items()]
    items += ['<span><i class="swatch withheld"></i>held back, not shown</span>',
              '<span><i class="swatch dashed"></i>notice</span>',
              '<span><i class="swatch gap"></i>device gap: no audio from that speaker</span>',
              '<span><i class="swatch band"></i>target pace {:.0f}–{:.0f} wpm</span>'.format(*pace_band(session))]
    items += [f'<span><i class="swatch" style="background:{c}"></i>{s}</span>' for s, c in SPEAKER_COLOR.items()]
    return f'<div class="legend">{"".join(items)}</div>'


def _action(prompt: dict) -> str | None:
    action = sub(prompt, "feedback").get("action")
    return action if isinstance(action, str) and action else None


def _metrics(session: dict, prompts: list[dict]) -> str:
    m = sub(session, "metrics")
    mood = sub(m, "customer_sentiment")
    low, high = pace_band(session)

    def fmt(value: Any, pattern: str) -> str:
        x = number(value)
        return "—" if x is None else pattern.format(x)

    # The same count the session list shows: marked done, or the coach saw it followed.
    acted = sum(1 for p in prompts if _action(p) == "done" or sub(p, "cleared").get("reason") == "acted_on")
    overlaps = fmt(m.get("overlaps"), "{:.0f}")
    if number(m.get("overlaps_by_agent")) is not None:
        overlaps += f" ({number(m.get('overlaps_by_agent')):.0f} by the agent)"
    escalated = "yes" if m.get("escalated") is True else "no" if m.get("escalated") is False else "—"
    rows = [
        ("Agent pace", fmt(m.get("agent_wpm"), "{:.0f} wpm") + f" (target {low:.0f}–{high:.0f})"),
        ("Agent talk share", fmt(m.get("agent_talk_share"), "{:.0%}")),
        ("Dead air", fmt(m.get("dead_air_s"), "{:.1f} s")),
        ("Overlaps (talking over each other)", overlaps),
        ("Customer sentiment at start", fmt(mood.get("start"), "{:+.2f}")),
        ("Customer sentiment at end", fmt(mood.get("end"), "{:+.2f}")),
        ("Customer sentiment, lowest", fmt(mood.get("min"), "{:+.2f}")),
        ("Escalated", escalated),
        ("Prompts shown", str(len(prompts))),
        ("Prompts held back, then shown", str(sum(1 for p in prompts if number(p.get("held_s"))))),
        ("Prompts held back and never shown", str(len(dicts(session.get("withheld"))))),
        ("Prompts acted on", str(acted)),
        ("Prompts marked not helpful", str(sum(1 for p in prompts if _action(p) == "not_helpful"))),
        ("Coached with", coached_with(session) or "not recorded (a session from before CallCoach kept it)"),
    ]
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="metrics">{body}</table>'


def _transcript(session: dict, numbered: list[tuple[int, dict]]) -> str:
    utterances = dicts(session.get("utterances"))
    if not utterances and not numbered:
        return '<p class="empty">No transcript was recorded.</p>'
    # A prompt goes before the first line that starts after it was raised, i.e. right after
    # the words that raised it. Lines and prompts without a time go last.
    items: list[tuple[float, int, int, str]] = []
    band = pace_band(session)
    for i, u in enumerate(utterances):
        start = number(u.get("start"))
        items.append((math.inf if start is None else start, 1, i, _line(u, band)))
    for n, p in numbered:
        t = number(p.get("t"))
        items.append((math.inf if t is None else t, 0 if t is not None else 2, n, _prompt_card(n, p)))
    for i, w in enumerate(dicts(session.get("withheld"))):
        t = number(w.get("t"))
        items.append((math.inf if t is None else t, 0 if t is not None else 2, -1 - i, _withheld_card(w)))
    items.sort(key=lambda item: item[:3])
    return '<div class="transcript">\n' + "\n".join(item[3] for item in items) + "\n</div>"


def _line(u: dict, band: tuple[float, float]) -> str:
    speaker = text(u.get("speaker")) or "unknown"
    css = speaker if speaker in SPEAKER_COLOR else "other"
    sentiment, wpm, start = number(u.get("sentiment")), number(u.get("wpm")), number(u.get("start"))
    meta = ""
    if speaker == "customer" and sentiment is not None:
        meta = f"mood {sentiment:+.2f}" + (" · upset" if u.get("upset") is True else "")
    elif speaker == "agent" and wpm is not None:
        low, high = band
        meta = f"{wpm:.0f} wpm" + ("" if low <= wpm <= high else " · off pace")
    data = f' data-start="{start:.2f}"' if start is not None else ""
    words = _e(u.get("text")).strip() or "<em>(no text)</em>"
    return (f'<div class="line {css}"{data}><span class="time">{clock(start)}</span>'
            f'<span class="who">{_e(speaker.capitalize())}</span><p>{words}</p>'
            f'<span class="meta">{_e(meta)}</span></div>')


def _feedback_label(p: dict) -> str:
    action = _action(p)
    label = FEEDBACK_LABEL.get(action, text(action))
    at = number(sub(p, "feedback").get("t"))
    return f"{label} at {clock(at)}" if action and at is not None else label


def _feedback_class(p: dict) -> str:
    return {"done": "fb-done", "not_helpful": "fb-unhelpful"}.get(_action(p), "fb-none")


def _cleared_label(p: dict) -> str:
    cleared = sub(p, "cleared")
    reason = cleared.get("reason")
    if not isinstance(reason, str) or not reason:
        return "still shown at the end"
    return f"{CLEARED_LABEL.get(reason, text(reason))} at {clock(cleared.get('t'))}"


def _prompt_card(n: int, p: dict) -> str:
    t = number(p.get("t"))
    data = f' data-t="{t:.2f}"' if t is not None else ""
    head = (f'<div class="card-head"><span class="tag">#{n}</span>'
            f'<strong class="title">{_e(p.get("title") or kind_label(p))}</strong>'
            f'<span class="when">{clock(t)} · {_e(kind_label(p))} · {_e(severity(p))}</span></div>')
    lines = [head]
    if text(p.get("message")):
        lines.append(f"<p>{_e(p.get('message'))}</p>")
    if text(p.get("phrase")):
        lines.append(f'<p class="phrase">“{_e(p.get("phrase"))}”</p>')
    detail = [f"Tactic: {_e(p.get('tactic'))}" if text(p.get("tactic")) else "",
              f"Why: {_e(p.get('because'))}" if text(p.get("because")) else ""]
    if any(detail):
        lines.append(f'<p class="small">{" · ".join(d for d in detail if d)}</p>')
    held = number(p.get("held_s"))
    if held:
        lines.append(f'<p class="small">Held back {held:.0f} s before it showed: {_e(hold_text(p.get("held_for")))}'
                     "</p>")
    left = ""  # how the card left the screen, unless the agent's own press already says it
    if sub(p, "cleared").get("reason") not in ("done", "not_helpful"):
        left = f" · Left the screen: {_e(_cleared_label(p))}"
    lines.append(f'<p class="small">Agent feedback: <span class="fb {_feedback_class(p)}">'
                 f"{_e(_feedback_label(p))}</span>{left}</p>")
    return f'<div class="prompt sev-{severity(p)}"{data} data-n="{n}">{"".join(lines)}</div>'


def _withheld_card(w: dict) -> str:
    """A prompt the coach would have shown but never did: greyed, with why."""
    t = number(w.get("t"))
    data = f' data-t="{t:.2f}"' if t is not None else ""
    because = f" · Why: {_e(w.get('because'))}" if text(w.get("because")) else ""
    return (f'<div class="prompt withheld"{data}><div class="card-head"><span class="tag">not shown</span>'
            f'<strong class="title">{_e(w.get("title") or kind_label(w))}</strong>'
            f'<span class="when">{clock(t)} · {_e(kind_label(w))} · {_e(severity(w))}</span></div>'
            f'<p class="small">Held back: {_e(hold_text(w.get("reason")))}; dropped at {clock(w.get("until"))}: '
            f"{_e(fate_text(w.get('fate')))}{because}</p></div>")


def _handoff(session: dict) -> str:
    note = text(session.get("handoff_note")).strip()
    if note:
        return f'<pre class="note">{_e(note)}</pre>'
    return '<p class="empty">No handoff note: the call was not escalated.</p>'


def _checklist(session: dict) -> str:
    items = session.get("follow_up") if isinstance(session.get("follow_up"), list) else []
    items = [text(item) for item in items if text(item).strip()]
    if not items:
        return '<p class="empty">No follow-up checklist was recorded.</p>'
    return '<ul class="checklist">' + "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul>"


def _feedback(numbered: list[tuple[int, dict]]) -> str:
    if not numbered:
        return '<p class="empty">No prompts were shown.</p>'
    actions = [_action(p) for _, p in numbered]
    counts = " · ".join(f"{label}: {sum(1 for a in actions if FEEDBACK_LABEL.get(a, 'none') == label)}"
                        for label in ("done", "not helpful", "none"))
    rows = "".join(
        f'<tr><td>{n}</td><td>{clock(p.get("t"))}</td>'
        f'<td><i class="dot" style="background:{SEVERITY_COLOR[severity(p)]}"></i>'
        f'{_e(p.get("title") or kind_label(p))}</td>'
        f'<td class="fb {_feedback_class(p)}">{_e(_feedback_label(p))}</td><td>{_e(_cleared_label(p))}</td></tr>'
        for n, p in numbered)
    return (f'<p class="small">Marked by the agent — {_e(counts)}</p><table class="list">'
            "<tr><th>#</th><th>Time</th><th>Prompt</th><th>Agent feedback</th><th>Left the screen</th></tr>"
            f"{rows}</table>")


def _notices(session: dict) -> str:
    notices = dicts(session.get("notices"))
    if not notices:
        return '<p class="empty">No device gaps or other problems were noted.</p>'
    items = "".join(f'<li><span class="time">{clock(n.get("t"))}</span><strong>{_e(n.get("level") or "note")}'
                    f'</strong> {_e(n.get("message"))}</li>' for n in notices)
    return f'<ul class="notices">{items}</ul>'

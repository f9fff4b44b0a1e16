"""The report's timeline: one inline SVG over call time.

Three bands share the time axis: the customer's mood (each utterance's sentiment, -1..+1),
who is talking, and the agent's pace (each utterance's words per minute against the
target band). Prompts are vertical lines in their severity's color, numbered as in the
transcript and labeled by kind; prompts the coach held back and dropped are faint dotted
lines; notices (device gaps, problems) are grey dashed lines. A device gap (the session's
`gaps`: that speaker's audio does not exist there) is a hatched band on the speaker's talk
lane and a grey veil over the speaker's panel (mood for the customer, pace for the agent).
Hovering anything shows its details (SVG <title>, no script).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from html import escape

from callcoach.report.values import SEVERITY_COLOR, SPEAKER_COLOR, duration_of, kind_label, pace_band, severity
from callcoach.roles import ROLES
from callcoach.session_values import clock, device_gaps, dicts, number, text

WIDTH, LEFT, RIGHT = 960, 74, 20
ROW_H, MAX_ROWS = 14, 4  # prompt label rows above the chart
MOOD_H, TALK_H, PACE_H, GAP = 110, 28, 110, 12
CHAR_W = 7.0  # rough width of one bold 11 px label character, to keep labels apart
OFF_PACE = "#c27c0e"
GRID, FRAME, INK, MUTED = "#eceef1", "#d9dde3", "#3b4250", "#7a8290"
WITHHELD = "#b4bac4"  # prompts held back and dropped
HATCH_STEP = 4.0  # px between a gap band's diagonal lines


def _f(v: float) -> str:
    return f"{v:.1f}"


def _tick_step(span: float) -> int:
    """Seconds between time labels: at most ten labels, on round minutes past a minute."""
    step = next((s for s in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600) if span / s <= 10), None)
    return step or 3600 * math.ceil(span / 36000)


def _label_spans(markers: list[float], labels: list[str]) -> list[tuple[float, float]]:
    """Where each label goes: right of its line, or left of it when it would leave the chart."""
    spans = []
    for x, label in zip(markers, labels):
        width = len(label) * CHAR_W + 6
        spans.append((x, x + width) if x + width <= WIDTH else (x - width, x))
    return spans


def _label_rows(spans: list[tuple[float, float]]) -> tuple[list[int], int]:
    """A row for each label so that labels on one row do not overlap; the number of rows."""
    taken: list[list[tuple[float, float]]] = []
    rows = []
    for a, b in spans:
        row = next((r for r, used in enumerate(taken) if all(b < c or a > d for c, d in used)), None)
        if row is None:
            if len(taken) < MAX_ROWS:
                taken.append([])
                row = len(taken) - 1
            else:  # crowded: the row with the fewest labels (labels may touch)
                row = min(range(len(taken)), key=lambda r: len(taken[r]))
        taken[row].append((a, b))
        rows.append(row)
    return rows, max(len(taken), 1)


def timeline_svg(session: dict, numbered: list[tuple[int, dict]]) -> str:
    span = duration_of(session)
    utterances = [u for u in dicts(session.get("utterances"))
                  if number(u.get("start")) is not None and number(u.get("end")) is not None]
    if span <= 0:
        return '<p class="empty">No timeline: nothing was recorded.</p>'
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + plot_w * min(max(t / span, 0.0), 1.0)

    timed = [(n, p, number(p.get("t"))) for n, p in numbered if number(p.get("t")) is not None]
    labels = [f"{n} {kind_label(p)}" for n, p, _ in timed]
    spans = _label_spans([x(t) for _, _, t in timed], labels)
    rows, n_rows = _label_rows(spans)
    mood_y = 6 + n_rows * ROW_H + 8
    talk_y = mood_y + MOOD_H + GAP
    pace_y = talk_y + TALK_H + GAP
    axis_y = pace_y + PACE_H
    height = axis_y + 26
    out = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
           f'role="img" aria-label="Timeline of the call: customer mood, talk and agent pace, with prompts">']

    # Frames, time grid and axis.
    for top, h in ((mood_y, MOOD_H), (talk_y, TALK_H), (pace_y, PACE_H)):
        out.append(f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{h}" fill="#fbfbfc" stroke="{FRAME}"/>')
    step = _tick_step(span)
    for t in range(0, int(span) + 1, step):
        out.append(f'<line x1="{_f(x(t))}" y1="{mood_y}" x2="{_f(x(t))}" y2="{axis_y}" stroke="{GRID}"/>')
        out.append(f'<text x="{_f(x(t))}" y="{axis_y + 20}" font-size="10" fill="{MUTED}" '
                   f'text-anchor="middle">{clock(t)}</text>')
    out.append(_side_title("Customer mood", mood_y, MOOD_H))
    out.append(_side_title("Agent pace", pace_y, PACE_H))

    out += _mood(utterances, x, mood_y)
    out += _talk(utterances, x, talk_y)
    out += _pace(utterances, pace_band(session), x, pace_y)
    panels = {"customer": (mood_y, MOOD_H), "agent": (pace_y, PACE_H)}
    out += _gaps(session, x, talk_y, panels)

    # Notices, then prompts on top of everything.
    out += _notices(session, x, mood_y, axis_y)
    out += _withheld(session, x, mood_y, axis_y)
    out += _prompt_markers(timed, labels, spans, rows, x, axis_y)
    out.append("</svg>")
    return "\n".join(out)


def _timed(items) -> Iterator[tuple[float, dict]]:
    """The entries with a call time, and that time (a damaged record may lack it)."""
    for item in dicts(items):
        t = number(item.get("t"))
        if t is not None:
            yield t, item


def _notices(session: dict, x, top: float, axis_y: float) -> list[str]:
    out = []
    for t, note in _timed(session.get("notices")):
        message = text(note.get("message"))
        label = "gap" if "gap" in message.lower() else "notice"
        out.append(f'<g class="notice-marker"><title>{clock(t)} {escape(label)}: {escape(message)}</title>'
                   f'<line x1="{_f(x(t))}" y1="{top}" x2="{_f(x(t))}" y2="{axis_y}" stroke="{MUTED}" '
                   f'stroke-dasharray="4 3"/><path d="M{_f(x(t))} {axis_y - 7} l4 7 h-8 z" fill="{MUTED}"/>'
                   f'<text x="{_f(x(t) + 6)}" y="{axis_y - 2}" font-size="9" fill="{MUTED}">{escape(label)}</text></g>')
    return out


def _gaps(session: dict, x, talk_y: float, panels: dict[str, tuple[float, float]]) -> list[str]:
    """Device gaps: hatched on the speaker's talk lane, veiled over their panel. Drawn as
    plain lines (a fill pattern would need url(), which the page never uses)."""
    out = []
    for g in device_gaps(session):
        x0, x1 = x(g.start), max(x(g.end), x(g.start) + 2)
        lane_y = talk_y + 3 + ROLES.index(g.speaker) * 12
        top, h = panels.get(g.speaker, (lane_y, 0))
        out.append(f'<g class="gap-band" data-speaker="{g.speaker}" data-start="{g.start:.2f}" '
                   f'data-end="{g.end:.2f}"><title>{escape(g.tip())}</title>'
                   f'<rect x="{_f(x0)}" y="{top}" width="{_f(x1 - x0)}" height="{h}" fill="{MUTED}" '
                   f'fill-opacity="0.12"/><rect class="gap-lane" x="{_f(x0)}" y="{lane_y}" width="{_f(x1 - x0)}" '
                   f'height="10" fill="{GRID}" stroke="{MUTED}" stroke-width="0.6"/>'
                   f'<path d="{_hatch(x0, x1, lane_y, 10)}" stroke="{MUTED}" stroke-width="0.8"/></g>')
    return out


def _hatch(x0: float, x1: float, top: float, h: float) -> str:
    """Diagonal lines (/) filling the rectangle, each cut at its left and right edges."""
    segments = []
    a = x0 - h
    while a < x1:
        sx, sy = (a, top + h) if a >= x0 else (x0, top + h - (x0 - a))
        ex, ey = (a + h, top) if a + h <= x1 else (x1, top + (a + h - x1))
        if ex > sx:
            segments.append(f"M{_f(sx)} {_f(sy)}L{_f(ex)} {_f(ey)}")
        a += HATCH_STEP
    return "".join(segments)


def _withheld(session: dict, x, top: float, axis_y: float) -> list[str]:
    """What the coach would have said: faint, no label."""
    out = []
    for t, w in _timed(session.get("withheld")):
        tip = f"{clock(t)} not shown: {text(w.get('title')) or kind_label(w)} (held back, then dropped)"
        out.append(f'<g class="withheld-marker" data-kind="{escape(text(w.get("kind")))}"><title>{escape(tip)}'
                   f'</title><line x1="{_f(x(t))}" y1="{top}" x2="{_f(x(t))}" y2="{axis_y}" stroke="{WITHHELD}" '
                   f'stroke-width="1.4" stroke-dasharray="1 3"/></g>')
    return out


def _prompt_markers(timed: list, labels: list[str], spans: list, rows: list[int], x, axis_y: float) -> list[str]:
    out = []
    for (n, p, t), label, (a, _), row in zip(timed, labels, spans, rows):
        color = SEVERITY_COLOR[severity(p)]
        base = 6 + row * ROW_H + 10
        px = x(t)
        tx, anchor = (px + 3, "start") if a >= px else (px - 3, "end")
        tip = f"#{n} {clock(t)} {text(p.get('title')) or kind_label(p)} ({severity(p)})"
        out.append(f'<g class="prompt-marker" data-n="{n}" data-kind="{escape(text(p.get("kind")))}">'
                   f'<title>{escape(tip)}</title>'
                   f'<line x1="{_f(px)}" y1="{base - 10}" x2="{_f(px)}" y2="{axis_y}" stroke="{color}" '
                   f'stroke-width="1.6"/><text x="{_f(tx)}" y="{base}" font-size="11" font-weight="600" '
                   f'fill="{color}" text-anchor="{anchor}">{escape(label)}</text></g>')
    return out


def _side_title(title: str, top: float, h: float) -> str:
    cx, cy = 14, top + h / 2
    return (f'<text x="{cx}" y="{_f(cy)}" font-size="11" font-weight="600" fill="{INK}" text-anchor="middle" '
            f'transform="rotate(-90 {cx} {_f(cy)})">{escape(title)}</text>')


def _mood(utterances: list[dict], x, top: float) -> list[str]:
    """Customer sentiment per utterance: a dot at its middle, a thin line for the trend."""

    def y(s: float) -> float:
        return top + 6 + (MOOD_H - 12) * (1 - max(-1.0, min(1.0, s))) / 2

    out = []
    for s, label in ((1, "+1"), (0, "0"), (-1, "−1")):
        dash = ' stroke-dasharray="3 3"' if s == 0 else ""
        out.append(f'<line x1="{LEFT}" y1="{_f(y(s))}" x2="{WIDTH - RIGHT}" y2="{_f(y(s))}" stroke="{FRAME}"{dash}/>')
        out.append(f'<text x="{LEFT - 6}" y="{_f(y(s) + 3)}" font-size="10" fill="{MUTED}" '
                   f'text-anchor="end">{label}</text>')
    points = [(u, (number(u["start"]) + number(u["end"])) / 2, number(u.get("sentiment"))) for u in utterances
              if u.get("speaker") == "customer" and number(u.get("sentiment")) is not None]
    if len(points) > 1:
        path = " ".join(f"{_f(x(t))},{_f(y(s))}" for _, t, s in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{SPEAKER_COLOR["customer"]}" '
                   f'stroke-width="1.5" stroke-opacity="0.6"/>')
    for u, t, s in points:
        color = SEVERITY_COLOR["critical"] if s <= -0.5 else OFF_PACE if s < -0.15 else "#2e9b68"
        out.append(f'<circle cx="{_f(x(t))}" cy="{_f(y(s))}" r="4.5" fill="{color}" stroke="#fff">'
                   f'<title>{clock(u["start"])} customer {s:+.2f}: {escape(text(u.get("text"))[:120])}</title></circle>')
    return out


def _talk(utterances: list[dict], x, top: float) -> list[str]:
    out = []
    for lane, speaker in enumerate(ROLES):
        y = top + 3 + lane * 12
        out.append(f'<text x="{LEFT - 6}" y="{y + 9}" font-size="10" fill="{MUTED}" '
                   f'text-anchor="end">{speaker.capitalize()}</text>')
        for u in utterances:
            if u.get("speaker") == speaker:
                x0, x1 = x(number(u["start"])), x(number(u["end"]))
                out.append(f'<rect x="{_f(x0)}" y="{y}" width="{_f(max(x1 - x0, 1.0))}" height="10" rx="2" '
                           f'fill="{SPEAKER_COLOR[speaker]}"/>')
    return out


def _pace(utterances: list[dict], band: tuple[float, float], x, top: float) -> list[str]:
    """The agent's words per minute per utterance (a bar over its time) against the band."""
    low, high = band
    rates = [(u, number(u.get("wpm"))) for u in utterances if u.get("speaker") == "agent" and number(u.get("wpm"))]
    values = [w for _, w in rates]
    lo = min([low - 40, *(w - 10 for w in values)]) // 20 * 20
    hi = -(-max([high + 40, *(w + 10 for w in values)]) // 20) * 20

    def y(w: float) -> float:
        return top + 6 + (PACE_H - 12) * (hi - w) / (hi - lo)

    out = [f'<rect x="{LEFT}" y="{_f(y(high))}" width="{WIDTH - LEFT - RIGHT}" height="{_f(y(low) - y(high))}" '
           f'fill="#e2f3e8"/>']
    for w in (low, high):
        out.append(f'<text x="{LEFT - 6}" y="{_f(y(w) + 3)}" font-size="10" fill="{MUTED}" '
                   f'text-anchor="end">{w:.0f}</text>')
    for u, w in rates:
        x0, x1 = x(number(u["start"])), x(number(u["end"]))
        color = SPEAKER_COLOR["agent"] if low <= w <= high else OFF_PACE
        out.append(f'<line x1="{_f(x0)}" y1="{_f(y(w))}" x2="{_f(max(x1, x0 + 1))}" y2="{_f(y(w))}" '
                   f'stroke="{color}" stroke-width="5" stroke-linecap="round">'
                   f'<title>{clock(u["start"])} agent {w:.0f} wpm</title></line>')
    if not rates:
        out.append(f'<text x="{LEFT + 8}" y="{top + PACE_H - 10}" font-size="10" fill="{MUTED}">'
                   "no agent pace recorded</text>")
    return out

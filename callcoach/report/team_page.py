"""The team report page: one self-contained HTML file of `TeamFigures` for supervisors.

Inline CSS, no script, nothing fetched. The only links are the example calls' own session
reports (`link(session_id)`, relative to the page), so QA can open the call behind a rule's
not-helpful rate. All text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any

from callcoach import __version__
from callcoach.report.style import CSS
from callcoach.report.team import Figures, RuleFigures, Selection, TeamFigures
from callcoach.session_values import FRUSTRATED, clock

TEAM_CSS = """
table.team td.num, table.team th.num { text-align: right; padding-right: 14px; font-variant-numeric: tabular-nums; }
table.team tr.total td { font-weight: 650; border-top: 2px solid var(--line); }
.rate { display: inline-block; min-width: 44px; }
.bar { display: inline-block; height: 8px; border-radius: 2px; background: var(--critical); vertical-align: middle;
       margin-left: 6px; }
a.example { margin-right: 10px; white-space: nowrap; color: var(--info); }
a.example.unhelpful { color: var(--critical); }
dl.defs dt { font-weight: 600; margin-top: 8px; }
dl.defs dd { margin: 2px 0 0 0; color: #4b5260; }
"""

DEFINITIONS = (
    ("Escalated", "the coach's summary says the call was escalated; a call cut short before its summary "
                  "counts as not escalated."),
    ("Upset customer", "the customer's worst mood in the call was at or below the coach's frustrated "
                       f"threshold ({FRUSTRATED:.2f})."),
    ("Ended calmer", "an upset customer whose mood at the end of the call was above that threshold (calm "
                     "again) or above their mood at the start."),
    ("Talk off pace", "the share of the agent's talk time whose words per minute were outside the band "
                      "that call was coached with."),
    ("Acted on", "the agent pressed Done on the prompt, or the coach saw it followed."),
    ("Not helpful", "the agent pressed Not helpful on the prompt. The not-helpful rate is marked not "
                    "helpful / shown: the rules with the highest rates are the ones to tune."),
)


def _e(x: Any) -> str:
    return escape(str(x), quote=True)


def _ratio(n: int, d: int) -> str:
    return f"{n} of {d} ({n / d:.0%})" if d else "—"


def render_team_html(team: TeamFigures, selection: Selection,
                     link: Callable[[str], str] = lambda sid: f"{sid}.html") -> str:
    """The team report as one HTML document; `link` gives the href of a session's report."""
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    parts = [_header(team, selection), _section("Agents", _agents_table(team), "agents"),
             _section("Prompts by rule, all agents", _rules_table(team.total, link), "rules")]
    for i, (agent, figures) in enumerate(team.agents.items()):
        parts.append(_section(f"Prompts by rule: {agent}", _rules_table(figures, link), f"rules-{i + 1}"))
    parts.append(_section("How the figures are counted", _definitions(), "definitions"))
    parts.append(f"<footer>CallCoach {_e(__version__)} · team report generated {_e(generated)}</footer>")
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Team report {_e(_period(selection))}</title>\n<style>{CSS}{TEAM_CSS}</style>\n"
            "</head>\n<body>\n<main>\n" + "\n".join(parts) + "\n</main>\n</body>\n</html>\n")


def _section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(title)}</h2>\n{body}\n</section>'


def _period(selection: Selection) -> str:
    since = selection.since.isoformat() if selection.since else "the first call"
    until = selection.until.isoformat() if selection.until else "the last call"
    return f"{since} to {until}"


def _header(team: TeamFigures, selection: Selection) -> str:
    facts = [("Agent", selection.agent or "all"), ("Team", selection.team or "all"),
             ("Period", _period(selection)), ("Calls", str(team.total.calls))]
    cells = "".join(f'<div class="fact"><span>{_e(k)}</span><strong>{_e(v)}</strong></div>' for k, v in facts)
    return f'<header>\n<h1>Team report</h1>\n<div class="facts">{cells}</div>\n</header>'


def _agents_table(team: TeamFigures) -> str:
    if not team.total.calls:
        return '<p class="empty">No calls in this selection.</p>'
    head = ("<tr><th>Agent</th><th class=\"num\">Calls</th><th>Escalated</th><th>Upset customers ended calmer</th>"
            "<th>Talk off pace</th><th class=\"num\">Prompts shown</th><th>Acted on</th><th>Not helpful</th></tr>")
    rows = [_agent_row(agent, figures, "agent") for agent, figures in team.agents.items()]
    rows.append(_agent_row("All agents", team.total, "total"))
    return f'<table class="list team">{head}{"".join(rows)}</table>'


def _agent_row(name: str, f: Figures, css: str) -> str:
    shown, acted, unhelpful = f.prompt_totals()
    off = "—" if f.off_pace_share is None else f"{f.off_pace_share:.0%} of {clock(f.talk_s)}"
    cells = [_e(name), str(f.calls), _ratio(f.escalated, f.calls), _ratio(f.calmer, f.upset), off, str(shown),
             _ratio(acted, shown), _ratio(unhelpful, shown)]
    keys = ("agent", "calls", "escalated", "calmer", "off-pace", "shown", "acted", "not-helpful")
    tds = "".join(f'<td class="{"num " if k in ("calls", "shown") else ""}{k}">{c}</td>' for k, c in zip(keys, cells))
    return f'<tr class="{css}" data-agent="{_e(name)}">{tds}</tr>'


def _rules_table(figures: Figures, link: Callable[[str], str]) -> str:
    rules = figures.by_rule()
    if not rules:
        return '<p class="empty">No prompts were shown.</p>'
    head = ("<tr><th>Rule</th><th class=\"num\">Shown</th><th>Acted on</th><th class=\"num\">Not helpful</th>"
            "<th>Not-helpful rate</th><th>Examples</th></tr>")
    return f'<table class="list team">{head}{"".join(_rule_row(r, link) for r in rules)}</table>'


def _rule_row(r: RuleFigures, link: Callable[[str], str]) -> str:
    rate = r.not_helpful_rate or 0.0
    examples = "".join(
        f'<a class="example{" unhelpful" if e.not_helpful else ""}" href="{_e(link(e.session_id))}#transcript" '
        f'title="{"marked not helpful" if e.not_helpful else "shown"} at {clock(e.t)} in call {_e(e.session_id)}">'
        f"{clock(e.t)} · {_e(e.session_id[:8])}{' ✗' if e.not_helpful else ''}</a>" for e in r.examples)
    return (f'<tr class="rule" data-rule="{_e(r.rule)}"><td class="rule-name">{_e(r.rule)}</td>'
            f'<td class="num shown">{r.shown}</td><td class="acted">{_ratio(r.acted, r.shown)}</td>'
            f'<td class="num not-helpful">{r.not_helpful}</td>'
            f'<td class="not-helpful-rate" data-rate="{rate:.4f}"><span class="rate">{rate:.0%}</span>'
            f'<i class="bar" style="width:{rate * 80:.0f}px"></i></td>'
            f'<td class="examples">{examples or "—"}</td></tr>')


def _definitions() -> str:
    items = "".join(f"<dt>{_e(term)}</dt><dd>{_e(meaning)}</dd>" for term, meaning in DEFINITIONS)
    return f'<dl class="defs">{items}</dl>'

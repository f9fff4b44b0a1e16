"""The session report for QA: one self-contained HTML file per call.

Inline CSS and an inline SVG timeline, no script and nothing fetched from anywhere, so the
file can be mailed, archived or printed as it is. Every value comes from the session dict
(`callcoach.session.v1`, as `SessionStore.get` or `callcoach analyze --json` gives it), and
any of it may be missing or of the wrong type in a damaged or incomplete session: what
cannot be read is left out, never raised. All text is escaped. The report shows the text it
is given, so a stored session (already redacted) stays redacted; `load_session` redacts a
JSON file the same way.

    from callcoach.report import render_html, write_report
    write_report(SessionStore(default_store_path(settings)).get(session_id), "call.html")

The team report for supervisors (`team`: the figures, from any iterable of sessions;
`team_page`: its HTML; `team_files`: the page with its example calls' reports, and the
local store as a source) is here too.

No Qt here (import-linter contract in pyproject.toml).
"""

from callcoach.report.files import load_session, redact_session, write_report
from callcoach.report.page import render_html
from callcoach.report.team import Selection, team_figures
from callcoach.report.team_files import write_team_report

__all__ = ["render_html", "write_report", "load_session", "redact_session", "team_figures", "Selection",
           "write_team_report"]

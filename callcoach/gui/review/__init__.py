"""`callcoach review`: the QA reviewer's window over the session store or the team store (PySide6).

window.py          the window: source switch, filter bar, session table, detail, export and report
source_switch.py   "This PC / Team": which SessionSource is listed, busy while the server answers
session_model.py   the table model: sorting, filtering and paging done by the source's SQL
listing.py         one read of the list (counts and a page) as plain data, for any thread
calls.py           a source's calls: at once on this PC, on a background thread for the team store
filters.py         the filter bar (words said, agent, dates, escalated, status, reviewed, worst mood)
detail.py          the selected session: header, chart, transcript, summary, QA panel
timeline_chart.py  mood, pace and prompt markers on one time axis (QPainter)
session_html.py    transcript with prompts inline, and the summary, as rich text
annotate.py        the QA note and score, saved to the listed source
actions.py         CSV export and the HTML report (no Qt; run on a background thread)
values.py          defensive reading and formatting of stored values
style.py           the window's style sheet
app.py             `run()`: the window as an application
"""

"""`callcoach review`: the QA reviewer's window over the session store (PySide6).

window.py          the window: filter bar, session table, detail, export and report
session_model.py   the table model: sorting, filtering and paging done by the store's SQL
filters.py         the filter bar (agent, dates, escalated, status, reviewed, worst mood)
detail.py          the selected session: header, chart, transcript, summary, QA panel
timeline_chart.py  mood, pace and prompt markers on one time axis (QPainter)
session_html.py    transcript with prompts inline, and the summary, as rich text
annotate.py        the QA note and score, saved to the store
actions.py         CSV export and the HTML report (no Qt; run on a background thread)
values.py          defensive reading and formatting of stored values
style.py           the window's style sheet
app.py             `run()`: the window as an application
"""

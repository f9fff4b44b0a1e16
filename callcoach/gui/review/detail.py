"""One session in full: who and when, the timeline chart, the transcript with the prompts
inline, the summary (metrics, handoff note, follow-up checklist), and the QA panel."""

from __future__ import annotations

import bisect

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QTabWidget, QTextBrowser,
                               QVBoxLayout, QWidget)

from callcoach.gui import theme
from callcoach.gui.review.annotate import QAPanel
from callcoach.gui.review.session_html import summary_html, transcript_html
from callcoach.gui.review.timeline_chart import TimelineChart
from callcoach.session_values import NONE, clock, local_time, pace_band, text

PLACEHOLDER = "Select a session in the list to see its timeline, transcript and notes."


class SessionDetail(QWidget):
    report_requested = Signal()

    def __init__(self, band: tuple[float, float], redact: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.band = band  # for sessions stored before the coach recorded the band it used
        self.session: dict | None = None
        self._anchors: list[tuple[float, str]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.setSpacing(6)

        top = QHBoxLayout()
        heading = QVBoxLayout()
        heading.setSpacing(1)
        self.title = QLabel(PLACEHOLDER)
        self.title.setObjectName("DetailTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle = QLabel()
        self.subtitle.setProperty("role", "secondary")
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.problem = QLabel()
        self.problem.setObjectName("DetailProblem")
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        for label in (self.title, self.subtitle, self.problem):
            label.setWordWrap(True)  # long text must not widen the pane
            heading.addWidget(label)
        top.addLayout(heading, 1)
        self.report_button = QPushButton("Open report")
        self.report_button.setToolTip("This session as an HTML report, in your browser")
        self.report_button.clicked.connect(self.report_requested)
        top.addWidget(self.report_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)

        self.chart = TimelineChart()
        self.chart.time_clicked.connect(self.scroll_to)
        self.transcript = QTextBrowser()
        self.transcript.setObjectName("ReviewTranscript")
        self.transcript.setOpenLinks(False)
        self.summary = QTextBrowser()
        self.summary.setObjectName("ReviewSummary")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.transcript, "Transcript")
        self.tabs.addTab(self.summary, "Summary")
        split = QSplitter(Qt.Orientation.Vertical)  # the reviewer chooses chart vs transcript room
        split.addWidget(self.chart)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)

        self.qa = QAPanel(redact)
        box = QGroupBox("QA review")
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(8, 4, 8, 6)
        box_layout.addWidget(self.qa)
        layout.addWidget(box)
        self.clear()

    def clear(self, message: str = PLACEHOLDER) -> None:
        self.session = None
        self._anchors = []
        self.title.setText(message)
        self.subtitle.clear()
        self.problem.hide()
        self.chart.clear()
        self.transcript.clear()
        self.summary.clear()
        self.report_button.setEnabled(False)
        self.qa.show_session(None, None, {})

    def show_session(self, store, session: dict) -> None:
        """Show a session as `store.get()` gave it (complete, rebuilt or damaged)."""
        self.session = session
        agent = text(session.get("agent")) or "no agent"
        self.title.setText(f"{local_time(session.get('started_at')) or NONE}  ·  {agent}")
        status = text(session.get("status")) or "unknown"
        escalated = "escalated" if _escalated(session) else "not escalated"
        parts = [clock(session.get("duration_s")), status, escalated, text(session.get("source"))]
        self.subtitle.setText("  ·  ".join(filter(None, parts)))
        self._show_problem(session)
        self.chart.set_session(session, pace_band(session, self.band))  # the band the coach used
        html, self._anchors = transcript_html(session)
        self.transcript.setHtml(html)
        self.summary.setHtml(summary_html(session))
        self.report_button.setEnabled(True)
        qa = session.get("qa") if isinstance(session.get("qa"), dict) else {}
        self.qa.show_session(store, text(session.get("id")) or None, qa)

    def scroll_to(self, t: float) -> None:
        """The transcript at the last line or prompt that began by call time `t`."""
        if not self._anchors:
            return
        times = [a[0] for a in self._anchors]
        i = max(0, bisect.bisect_right(times, t) - 1)
        self.tabs.setCurrentWidget(self.transcript)
        self.transcript.scrollToAnchor(self._anchors[i][1])

    def _show_problem(self, session: dict) -> None:
        if session.get("damaged") or session.get("status") == "damaged":
            message, color = f"⚠ Damaged record: {text(session.get('problem')) or 'unreadable'}. " \
                             "What could be read is shown.", theme.SEVERITY["critical"]
        elif session.get("complete") is False and session.get("status") != "live":
            message, color = "◐ Incomplete: the call did not end normally; what was saved while it " \
                             "happened is shown.", theme.SEVERITY["warning"]
        else:
            self.problem.hide()
            return
        self.problem.setText(message)
        self.problem.setStyleSheet(f"color: {color};")
        self.problem.show()


def _escalated(session: dict) -> bool:
    metrics = session.get("metrics") if isinstance(session.get("metrics"), dict) else {}
    prompts = session.get("prompts") if isinstance(session.get("prompts"), list) else []
    return metrics.get("escalated") is True or any(isinstance(p, dict) and p.get("kind") == "escalate"
                                                   for p in prompts)

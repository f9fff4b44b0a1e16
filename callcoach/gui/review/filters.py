"""The filter bar: words said in the call, agent, date range, escalated only, status,
reviewed, worst mood.

The search box is the bar's, but the window places it on the row above, beside the "This
PC / Team" switch, so the bar keeps the window's width. `filters()` is the keyword
arguments of a SessionSource's `list_sessions`/`count_sessions`, so every filter is applied
by the source's SQL (this PC's or the team store's). `changed` fires once per edit (typing
in the search or agent field waits for a pause, so a name is not listed letter by letter).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDateEdit, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QWidget)

from callcoach.session_values import ANGRY, FRUSTRATED

TYPING_PAUSE_MS = 300
NO_DATE = QDate(2000, 1, 1)  # the date edits' minimum, shown as "any"

STATUSES = (("Any status", None), ("Complete", "complete"), ("Incomplete", "incomplete"),
            ("Damaged", "damaged"), ("Live", "live"))
REVIEWED = (("Reviewed or not", None), ("Not reviewed", False), ("Reviewed", True))
MOODS = (("Any mood", None), ("Frustrated or worse", FRUSTRATED), ("Angry", ANGRY))


class FilterBar(QWidget):
    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_PAUSE_MS)
        self._typing.timeout.connect(self._emit)

        self.search = self._typed("SearchFilter", "Search what was said",
                                  "Calls in which every one of these words was said (the team store also finds "
                                  "other forms of a word, \"a phrase\", and -word for calls without it)")
        self.search.setMinimumWidth(320)  # placed by the window, beside the source switch
        self.search.setMaximumWidth(560)
        self.agent = self._typed("AgentFilter", "Agent",
                                 "Sessions of this agent (the exact name; names seen so far are offered)")
        self.agent.setMaximumWidth(160)
        self._agents = QStringListModel(self)
        completer = QCompleter(self._agents, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.agent.setCompleter(completer)
        completer.activated.connect(self._emit)
        layout.addWidget(self.agent)

        self.since = _date_edit("From")
        self.until = _date_edit("To (inclusive)")
        layout.addWidget(QLabel("From"))
        layout.addWidget(self.since)
        layout.addWidget(QLabel("to"))
        layout.addWidget(self.until)

        self.status = _combo(STATUSES)
        self.reviewed = _combo(REVIEWED)
        self.mood = _combo(MOODS)
        self.mood.setToolTip("Worst customer mood during the call")
        self.escalated = QCheckBox("Escalated only")
        for widget in (self.status, self.reviewed, self.mood, self.escalated):
            layout.addWidget(widget)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Show every session")
        self.clear_button.clicked.connect(self.clear)
        layout.addWidget(self.clear_button)
        layout.addStretch(1)

        for edit in (self.since, self.until):
            edit.dateChanged.connect(self._emit)
            edit.calendarWidget().installEventFilter(self)
        for combo in (self.status, self.reviewed, self.mood):
            combo.currentIndexChanged.connect(self._emit)
        self.escalated.toggled.connect(self._emit)
        self._last: dict[str, Any] = {}

    def _typed(self, name: str, placeholder: str, tip: str) -> QLineEdit:
        """A text filter: applied after a pause in typing, or at once on Enter."""
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        edit.setToolTip(tip)
        edit.textEdited.connect(self._typing.start)
        edit.returnPressed.connect(self._emit)
        return edit

    def filters(self) -> dict[str, Any]:
        f: dict[str, Any] = {}
        said = self.search.text().strip()
        if said:
            f["search"] = said
        agent = self.agent.text().strip()
        if agent:
            f["agent"] = agent
        if self.since.date() != NO_DATE:
            f["since"] = _utc_midnight(self.since.date())
        if self.until.date() != NO_DATE:
            f["until"] = _utc_midnight(self.until.date().addDays(1))
        if self.escalated.isChecked():
            f["escalated"] = True
        for key, combo in (("status", self.status), ("reviewed", self.reviewed), ("max_worst_mood", self.mood)):
            if combo.currentData() is not None:
                f[key] = combo.currentData()
        return f

    def add_agents(self, names) -> None:
        """Offer these agent names (seen in the listing) for completion."""
        known = set(self._agents.stringList())
        new = {n for n in names if isinstance(n, str) and n} - known
        if new:
            self._agents.setStringList(sorted(known | new, key=str.casefold))

    def clear(self) -> None:
        self._typing.stop()
        for widget in self._editors():
            widget.blockSignals(True)
        self.search.clear()
        self.agent.clear()
        self.since.setDate(NO_DATE)
        self.until.setDate(NO_DATE)
        for combo in (self.status, self.reviewed, self.mood):
            combo.setCurrentIndex(0)
        self.escalated.setChecked(False)
        for widget in self._editors():
            widget.blockSignals(False)
        self._emit()

    def _editors(self) -> tuple[QWidget, ...]:
        return (self.search, self.agent, self.since, self.until, self.status, self.reviewed, self.mood,
                self.escalated)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A calendar opened on "any" shows this month, not January 2000."""
        if event.type() == QEvent.Type.Show and watched.selectedDate() == NO_DATE:
            today = QDate.currentDate()
            watched.setCurrentPage(today.year(), today.month())
        return False

    def stop(self) -> None:
        """The window closes: no filter change may fire after it."""
        self._typing.stop()

    def _emit(self) -> None:
        self._typing.stop()
        f = self.filters()
        if f != self._last:
            self._last = f
            self.changed.emit(f)


def _combo(choices) -> QComboBox:
    combo = QComboBox()
    for label, value in choices:
        combo.addItem(label, value)
    return combo


def _date_edit(tip: str) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("any")  # shown while the date is the minimum: no limit
    edit.setDate(NO_DATE)
    edit.setToolTip(tip)
    return edit


def _utc_midnight(day: QDate) -> str:
    """The reviewer's local midnight of `day`, as the store's UTC ISO-8601 start times are written."""
    local = datetime(day.year(), day.month(), day.day()).astimezone()
    return local.astimezone(timezone.utc).isoformat(timespec="seconds")

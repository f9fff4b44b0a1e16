"""The "Team figures" tab beside the session list: for the calls the filters list (This PC or
Team), per agent and in total, calls, escalation rate, upset customers who ended calmer and
talk off pace; per rule, shown, acted on, marked not helpful and the not-helpful rate (what
QA tunes the playbook by), with example calls that open in the detail when clicked.

The figures read every listed call's summary: always off the GUI thread (calls.py), and
only while the tab is shown (a change of filters or source meanwhile is read when it is
shown again). On Team, a lead can narrow them to one of the teams they lead.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from callcoach.central.reading import CentralSessions
from callcoach.gui import theme
from callcoach.gui.review.calls import SourceCalls
from callcoach.report.team import Figures, RuleFigures
from callcoach.report.team_source import CAP, CallLabel, TeamRead, read_team_figures
from callcoach.session_values import NONE, clock, local_time
from callcoach.store.source import SessionSource

ALL_AGENTS = "All agents"
ALL_TEAMS = "All my teams"
AGENT_COLUMNS = ("Agent", "Calls", "Escalated", "Upset → calmer", "Talk off pace", "Prompts", "Acted on",
                 "Not helpful")
RULE_COLUMNS = ("Rule / example call", "Shown", "Acted on", "Not helpful", "Not-helpful rate")
SESSION_ROLE = Qt.ItemDataRole.UserRole  # an example row's (session id, prompt's call time)
HIGH_RATE = 0.5  # a rule marked not helpful this often is shown in red: the first to tune
AGENT_ROWS = 10  # the agents table's height at most, in rows (it scrolls): the rules need the room


def ratio(n: int, d: int) -> str:
    return f"{n} of {d} ({n / d:.0%})" if d else NONE


class TeamFiguresView(QWidget):
    example_chosen = Signal(str, object)  # an example call clicked: its session id, the prompt's call time
    loading = Signal(bool)
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("TeamFigures")
        self.read: TeamRead | None = None
        self._calls = SourceCalls(self)
        self._source: SessionSource | None = None
        self._filters: dict[str, Any] = {}
        self._stale = True
        self._generation = 0  # an answer to an older request is dropped
        self._reading = False
        self._teams_asked = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        top = QHBoxLayout()
        self.heading = QLabel()
        self.heading.setObjectName("TeamFiguresHeading")
        self.heading.setWordWrap(True)
        top.addWidget(self.heading, 1)
        self.team = QComboBox()
        self.team.setObjectName("TeamFilter")
        self.team.setToolTip("Only the calls of one of the teams you lead")
        self.team.currentIndexChanged.connect(lambda _i: self._changed())
        top.addWidget(self.team, 0)
        layout.addLayout(top)
        self.agents = _agents_table()
        self.agents.currentCellChanged.connect(lambda row, *_: self._show_rules(row))
        layout.addWidget(self.agents, 0)
        self.rules_title = QLabel()
        self.rules_title.setProperty("role", "secondary")
        layout.addWidget(self.rules_title)
        self.rules = _rules_tree()
        self.rules.itemClicked.connect(self._clicked)
        layout.addWidget(self.rules, 1)
        self._set_teams([])
        self._clear("Open this tab to count the figures.")

    # -- what the figures are over -------------------------------------------------------------

    def update_for(self, source: SessionSource | None, filters: dict[str, Any]) -> None:
        """The window lists `source` with `filters`: the figures follow (now if shown)."""
        if source is not self._source:
            self._source = source
            self._teams_asked = False
            self._set_teams([])
        self._filters = dict(filters)
        self._changed()

    def team_filter(self) -> str | None:
        return self.team.currentData()

    def reading(self) -> bool:
        return self._reading

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._refresh()

    def _changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self._refresh()

    def _set_teams(self, teams: list[str]) -> None:
        self.team.blockSignals(True)
        self.team.clear()
        self.team.addItem(ALL_TEAMS, None)
        for name in teams:
            self.team.addItem(name, name)
        self.team.blockSignals(False)
        self.team.setVisible(bool(teams))

    def _refresh(self) -> None:
        self._stale = False
        self._generation += 1
        source, generation = self._source, self._generation
        if source is None:
            self._clear("No store is open.")
            return
        if isinstance(source, CentralSessions) and not self._teams_asked:  # the lead's teams, once per source
            self._teams_asked = True
            self._calls.run(source, "callcoach-review-teams", source.teams,
                            lambda teams: source is self._source and self._set_teams(teams),
                            lambda _message: None)  # no team filter; the figures' read says why
        filters = self._filters | ({"team": self.team_filter()} if self.team_filter() else {})
        self.heading.setText("Counting the figures over the calls listed…")
        self._set_reading(True)
        self._calls.run(source, "callcoach-review-figures", lambda: read_team_figures(source, filters),
                        lambda read: self._done(generation, read), lambda message: self._failed(generation, message),
                        slow=True)  # it reads every listed call's summary

    def _done(self, generation: int, read: TeamRead) -> None:
        if generation == self._generation:
            self._set_reading(False)
            self.show_read(read)

    def _failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self._set_reading(False)
            self._clear("The figures could not be counted.")
            self.failed.emit(message)

    def _set_reading(self, reading: bool) -> None:
        if reading != self._reading:
            self._reading = reading
            self.loading.emit(reading)

    # -- showing them --------------------------------------------------------------------------

    def show_read(self, read: TeamRead) -> None:
        self.read = read
        calls = read.figures.total.calls
        team = f" of {self.team_filter()}" if self.team_filter() else ""
        self.heading.setText(f"Over the newest {calls:,} of the {read.matching:,} calls listed{team} (at most "
                             f"{CAP:,} are counted; narrow the dates or the agent for the rest)" if read.capped
                             else f"Over the {calls:,} call{'' if calls == 1 else 's'} listed{team}")
        rows = [*read.figures.agents.items(), (ALL_AGENTS, read.figures.total)]
        self.agents.setRowCount(len(rows))
        for i, (name, figures) in enumerate(rows):
            for j, cell in enumerate(_agent_cells(name, figures)):
                item = QTableWidgetItem(cell)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if name == ALL_AGENTS:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.agents.setItem(i, j, item)
        _fit_rows(self.agents)
        self.agents.setCurrentCell(len(rows) - 1, 0)  # all agents' rules first
        self._show_rules(len(rows) - 1)

    def agent_shown(self) -> str:
        """Whose rules the tree shows (ALL_AGENTS or an agent's name)."""
        item = self.agents.item(self.agents.currentRow(), 0)
        return item.text() if item is not None else ALL_AGENTS

    def _show_rules(self, row: int) -> None:
        self.rules.clear()
        item = self.agents.item(row, 0)
        if self.read is None or item is None:
            return
        name = item.text()
        figures = self.read.figures.total if name == ALL_AGENTS else self.read.figures.agents.get(name)
        self.rules_title.setText(f"Prompts by rule, {'all agents' if name == ALL_AGENTS else name} · "
                                 "highest not-helpful rate first · click an example call to open it")
        for rule in (figures.by_rule() if figures else []):
            self.rules.addTopLevelItem(_rule_item(rule, self.read.examples))
        self.rules.expandAll()

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        example = item.data(0, SESSION_ROLE)
        if example:
            self.example_chosen.emit(*example)

    def _clear(self, message: str) -> None:
        self.read = None
        self.heading.setText(message)
        self.agents.setRowCount(0)
        _fit_rows(self.agents)
        self.rules.clear()
        self.rules_title.clear()


def _agent_cells(name: str, f: Figures) -> list[str]:
    shown, acted, unhelpful = f.prompt_totals()
    off = NONE if f.off_pace_share is None else f"{f.off_pace_share:.0%} of {clock(f.talk_s)}"
    return [name, f"{f.calls:,}", ratio(f.escalated, f.calls), ratio(f.calmer, f.upset), off, f"{shown:,}",
            ratio(acted, shown), ratio(unhelpful, shown)]


def _rule_item(rule: RuleFigures, labels: dict[str, CallLabel]) -> QTreeWidgetItem:
    rate = rule.not_helpful_rate
    item = QTreeWidgetItem([rule.rule, f"{rule.shown:,}", ratio(rule.acted, rule.shown), f"{rule.not_helpful:,}",
                            NONE if rate is None else f"{rate:.0%}"])
    for column in range(1, len(RULE_COLUMNS)):
        item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if rate is not None and rate >= HIGH_RATE:
        item.setForeground(4, QBrush(QColor(theme.SEVERITY["critical"])))
    for example in rule.examples:
        label = labels.get(example.session_id, CallLabel(None, ""))
        what = "marked not helpful" if example.not_helpful else "shown"
        child = QTreeWidgetItem([f"{local_time(label.started_at) or example.session_id[:8]} · "
                                 f"{label.agent or 'no agent'} · {what} at {clock(example.t)}"])
        child.setData(0, SESSION_ROLE, (example.session_id, example.t))
        child.setToolTip(0, "Open this call in the detail")
        child.setForeground(0, QBrush(QColor(theme.SEVERITY["critical" if example.not_helpful else "info"])))
        item.addChild(child)
    return item


def _agents_table() -> QTableWidget:
    table = QTableWidget(0, len(AGENT_COLUMNS))
    table.setObjectName("TeamAgents")
    table.setHorizontalHeaderLabels(AGENT_COLUMNS)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setToolTip("Select an agent to see their prompts by rule below")
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(24)
    table.setShowGrid(False)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _fit_rows(table: QTableWidget) -> None:
    """As tall as its rows (AGENT_ROWS at most), so the rules below get the rest."""
    rows = max(1, min(table.rowCount(), AGENT_ROWS))
    table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows * table.verticalHeader()
                         .defaultSectionSize() + 2 * table.frameWidth() + 2)


def _rules_tree() -> QTreeWidget:
    tree = QTreeWidget()
    tree.setObjectName("TeamRules")
    tree.setColumnCount(len(RULE_COLUMNS))
    tree.setHeaderLabels(RULE_COLUMNS)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    header = tree.header()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setStretchLastSection(False)
    return tree

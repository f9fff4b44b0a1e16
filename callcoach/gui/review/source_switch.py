"""The "This PC / Team" switch above the list: which sessions the window reviews, and a busy
mark while they are being read off the GUI thread (the team store; a search).

Team is disabled, with the reason as its tooltip, when this PC cannot open it (no team
store in the machine policy, no `central_login` of the reviewer's own).
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from callcoach.central.login import TeamLogin


class Source(StrEnum):
    LOCAL = "This PC"
    TEAM = "Team"


class SourceSwitch(QWidget):
    chosen = Signal(object)  # the Source the reviewer picked

    def __init__(self, login: TeamLogin, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.group = QButtonGroup(self)
        self.buttons: dict[Source, QToolButton] = {}
        for source in Source:
            button = QToolButton()
            button.setObjectName(f"Source{source.name.title()}")
            button.setText(source.value)
            button.setCheckable(True)
            button.setProperty("role", "source")
            self.group.addButton(button)
            layout.addWidget(button)
            self.buttons[source] = button
        self.buttons[Source.LOCAL].setChecked(True)
        self.buttons[Source.LOCAL].setToolTip("The calls stored on this PC")
        team = self.buttons[Source.TEAM]
        team.setEnabled(login.dsn is not None)
        team.setToolTip(f"Your team's calls on the team store, as {login.user}" if login.dsn
                        else f"Team is not available: {login.problem}")
        self.group.buttonClicked.connect(lambda button: self.chosen.emit(self.source()))
        layout.addSpacing(8)
        self.busy = QProgressBar()  # indeterminate: the server's answer cannot be measured
        self.busy.setObjectName("SourceBusy")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedSize(60, 10)
        self.busy_label = QLabel()
        self.busy_label.setProperty("role", "secondary")
        layout.addWidget(self.busy)
        layout.addSpacing(4)
        layout.addWidget(self.busy_label)
        self.set_busy(False)

    def source(self) -> Source:
        return next(s for s, b in self.buttons.items() if b.isChecked())

    def show_source(self, source: Source) -> None:
        """Check `source` without telling anyone (the window chose it)."""
        self.buttons[source].setChecked(True)

    def set_busy(self, busy: bool, what: str = "") -> None:
        self.busy_label.setText(what)
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)

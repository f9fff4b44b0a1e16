"""One live call on the board: who, how long, mood, pace, talk share, dead air, the coach's
prompt; an unanswered escalation with its handoff note and "I'm coming"; a lost call
greyed; an ended call with a way to its session in the review window."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from callcoach.central.board_feed import LiveCall, Need
from callcoach.gui import theme
from callcoach.gui.board import tile_text
from callcoach.gui.elided import WrappedLabel

WIDTH, HEIGHT = 290, 200
NOTE_LINES = 3  # a longer handoff note ends in "…" (whole in the tooltip)


def _label(role: str = "") -> QLabel:
    label = QLabel()
    if role:
        label.setProperty("role", role)
    return label


class CallTile(QFrame):
    coming = Signal(str, str)  # desktop, call_id: the supervisor pressed "I'm coming"
    review = Signal(str)  # call_id: open its session in the review window

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("CallTile")
        self.setFixedSize(WIDTH, HEIGHT)
        self.call: LiveCall | None = None
        self.need: Need | None = None
        self.agent, self.time, self.desktop, self.badge = _label(), _label("timer"), _label("muted"), _label()
        self.agent.setObjectName("TileAgent")
        self.badge.setObjectName("TileBadge")
        self.mood, self.figures, self.dead_air = _label("state"), _label("secondary"), _label()
        self.prompt, self.note, self.state = WrappedLabel(1), WrappedLabel(NOTE_LINES), _label("secondary")
        self.note.setObjectName("HandoffNote")
        self.state.setObjectName("TileState")
        self.on_the_way = _label()
        self.on_the_way.setObjectName("OnTheWay")
        self.coming_button = QPushButton("I'm coming")
        self.coming_button.setObjectName("ComingButton")
        self.coming_button.clicked.connect(self._coming)
        self.review_button = QPushButton("Open in review")
        self.review_button.setObjectName("ReviewButton")
        self.review_button.clicked.connect(lambda: self.call and self.review.emit(self.call.call_id))
        self._lay_out()

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(3)
        for left, right in ((self.agent, self.time), (self.desktop, self.badge), (self.mood, self.dead_air)):
            row = QHBoxLayout()
            row.addWidget(left, 1)
            row.addWidget(right, 0, Qt.AlignmentFlag.AlignRight)
            layout.addLayout(row)
        for widget in (self.figures, self.prompt, self.note):
            layout.addWidget(widget)
        layout.addStretch(1)
        actions = QHBoxLayout()
        for widget in (self.state, self.on_the_way):
            actions.addWidget(widget)
        actions.addStretch(1)
        actions.addWidget(self.coming_button)
        actions.addWidget(self.review_button)
        layout.addLayout(actions)

    def show_call(self, call: LiveCall, now: float) -> None:
        """Everything from the call's latest row; cheap when nothing changed (labels keep their text)."""
        if self.call is None or self.call.call_id != call.call_id:
            self.coming_button.setEnabled(True)  # a new call: any earlier press was for the last one
        self.call = call
        need = call.need(now)
        if need != self.need:
            self.need = need
            self._restyle(need)
        self.agent.setText(call.agent or "(no agent)")
        self.desktop.setText(call.desktop.removeprefix("desktop-"))
        self.time.setText(tile_text.clock(call.call_time(now)))
        self.figures.setText(tile_text.figures(call))
        self._coloured(self.mood, *tile_text.mood(call))
        self._coloured(self.dead_air, *tile_text.dead_air(call))
        self._coloured(self.prompt, *tile_text.prompt(call))
        note = f"“{call.handoff_note}”" if call.escalation and call.handoff_note else ""
        if note != self.note.text():  # a wrapped label re-lays out on every setText
            self.note.setText(note)
        self.note.setVisible(bool(note))
        self.on_the_way.setText(tile_text.on_the_way(call))
        self.on_the_way.setVisible(bool(call.ack_by) and not call.ended)
        self.state.setText(tile_text.state(call, now))
        self.state.setVisible(bool(self.state.text()))
        self.coming_button.setVisible(call.escalation_waiting() and need != Need.LOST)
        self.review_button.setVisible(call.ended)
        self.review_button.setToolTip(f"session {call.call_id}")

    def _coloured(self, label: QLabel, text: str, colour: str) -> None:
        if text != label.text():
            label.setText(text)
        label.setVisible(bool(text))
        if self.need == Need.LOST:
            colour = theme.MUTED  # nothing on a lost tile is current
        if label.property("colour") != colour:
            label.setProperty("colour", colour)
            label.setStyleSheet(f"color: {colour};")

    def _restyle(self, need: Need) -> None:
        lost = need == Need.LOST
        self.badge.setText(tile_text.NEED_LABEL[need])
        self.setStyleSheet(
            f"QFrame#CallTile {{ background: {theme.PANEL}; border: 2px solid {tile_text.NEED_COLOR[need]};"
            f" border-radius: 8px; }}"
            f" QLabel#TileAgent {{ font-size: 11pt; font-weight: 600; color: {theme.MUTED if lost else theme.TEXT}; }}"
            f" QLabel#TileBadge {{ color: {tile_text.NEED_COLOR[need] if need < Need.LOST else theme.MUTED};"
            f" font-size: {theme.SMALL_PT}pt; font-weight: 700; }}"
            f" QLabel#HandoffNote {{ color: {theme.TEXT}; font-style: italic; }}"
            f" QLabel#OnTheWay {{ color: {theme.OK}; font-weight: 600; }}"
            f" QPushButton#ComingButton {{ background: {theme.SEVERITY['critical']}; color: white;"
            f" font-weight: 600; border: none; padding: 3px 12px; }}")

    def _coming(self) -> None:
        if self.call is not None:
            self.coming_button.setEnabled(False)  # until the server's answer comes back in the row
            self.coming.emit(self.call.desktop, self.call.call_id)

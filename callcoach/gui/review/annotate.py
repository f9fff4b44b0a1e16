"""The reviewer's QA note and score (0–100) for one session, saved to its source (this
PC's store, or the team store when Team is open: there the server records who wrote it).

The note is redacted like everything else the store keeps (unless redaction is off), so
after saving the panel shows the note as stored. `save()` is also called by the window
when the reviewer moves to another session or closes the window with unsaved changes. On
the team store the save runs off the GUI thread (calls.py); `saved` or `failed` follows.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from callcoach.gui.review.calls import SourceCalls
from callcoach.session_values import number, text
from callcoach.store.source import SessionSource

NOT_SCORED = -1  # the spin box's minimum, shown as "not scored"


class QAPanel(QWidget):
    saved = Signal(str, object, object)  # session id, note, score as stored
    failed = Signal(str)

    def __init__(self, redact: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.redact = redact
        self.store: SessionSource | None = None
        self._calls = SourceCalls(self)
        self.session_id: str | None = None
        self._stored: tuple[str, int] = ("", NOT_SCORED)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.note = QPlainTextEdit()
        self.note.setObjectName("QANote")
        self.note.setPlaceholderText("QA note: what went well, what to coach next time…")
        self.note.setMaximumHeight(80)
        self.note.setTabChangesFocus(True)
        layout.addWidget(self.note)
        row = QHBoxLayout()
        row.addWidget(QLabel("QA score"))
        self.score = QSpinBox()
        self.score.setObjectName("QAScore")
        self.score.setRange(NOT_SCORED, 100)
        self.score.setSpecialValueText("not scored")
        self.score.setSuffix(" / 100")
        self.score.setMinimumWidth(110)
        row.addWidget(self.score)
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save the note and score (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.save_button)
        self.state = QLabel()
        self.state.setProperty("role", "secondary")
        row.addWidget(self.state, 1)
        layout.addLayout(row)
        self.note.textChanged.connect(self._edited)
        self.score.valueChanged.connect(self._edited)
        shortcut = QShortcut(QKeySequence.StandardKey.Save, self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.save)
        self.show_session(None, None, {})

    def show_session(self, store, session_id: str | None, qa: dict) -> None:
        """Show a session's stored note and score (`qa` as `store.get()` gives it)."""
        self.store, self.session_id = store, session_id
        note = qa.get("note").strip() if isinstance(qa.get("note"), str) else ""
        score = number(qa.get("score"))
        self._stored = (note, NOT_SCORED if score is None else int(round(max(0.0, min(100.0, score)))))
        for widget in (self.note, self.score):
            widget.blockSignals(True)
        self.note.setPlainText(self._stored[0])
        self.score.setValue(self._stored[1])
        for widget in (self.note, self.score):
            widget.blockSignals(False)
        self.setEnabled(session_id is not None)
        by = text(qa.get("by"))  # the team store records who wrote the note
        self.state.setText(f"Last saved by {by}" if by else "")
        self._edited()

    def dirty(self) -> bool:
        return self.session_id is not None and self._current() != self._stored

    def save(self) -> None:
        """Store the note and score; `saved` when stored, `failed` when the source refuses."""
        if not self.dirty():
            return
        store, session_id, redact = self.store, self.session_id, self.redact
        note, score = self._current()

        def work() -> dict | None:
            found = store.set_qa(session_id, note or None, None if score == NOT_SCORED else score, redact=redact)
            return store.get(session_id) if found else None

        self.state.setText("Saving…")
        self._calls.run(store, "callcoach-review-qa", work,
                        lambda stored: self._stored_as(store, session_id, (note, score), stored),
                        lambda message: self.failed.emit(f"The QA note was not saved: {message}"))

    def _stored_as(self, store: SessionSource, session_id: str, sent: tuple[str, int], stored: dict | None) -> None:
        if stored is None:
            self.failed.emit("The QA note was not saved: the session is no longer there, or you may not review it")
            return
        qa = stored.get("qa") if isinstance(stored.get("qa"), dict) else {}
        if (self.store, self.session_id) == (store, session_id):
            if self._current() == sent:  # not edited while it was being saved
                self.show_session(store, session_id, qa)
                self.state.setText("Saved")
            else:
                self._stored = sent
                self._edited()
        self.saved.emit(session_id, qa.get("note"), qa.get("score"))

    def _current(self) -> tuple[str, int]:
        return self.note.toPlainText().strip(), self.score.value()

    def _edited(self) -> None:
        dirty = self.dirty()
        self.save_button.setEnabled(dirty)
        if dirty:
            self.state.setText("Not saved yet")

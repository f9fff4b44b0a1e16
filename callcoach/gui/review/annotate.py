"""The reviewer's QA note and score (0–100) for one session, saved to the store.

The note is redacted like everything else the store keeps (unless redaction is off), so
after saving the panel shows the note as stored. `save()` is also called by the window
when the reviewer moves to another session or closes the window with unsaved changes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from callcoach.errors import CallCoachError
from callcoach.session_values import number

NOT_SCORED = -1  # the spin box's minimum, shown as "not scored"


class QAPanel(QWidget):
    saved = Signal(str, object, object)  # session id, note, score as stored
    failed = Signal(str)

    def __init__(self, redact: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.redact = redact
        self.store = None
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
        self.state.setText("")
        self._edited()

    def dirty(self) -> bool:
        return self.session_id is not None and self._current() != self._stored

    def save(self) -> bool:
        """Store the note and score; False (and `failed`) when the store refuses."""
        if not self.dirty():
            return True
        note, score = self._current()
        try:
            found = self.store.set_qa(self.session_id, note or None, None if score == NOT_SCORED else score,
                                      redact=self.redact)
            stored = self.store.get(self.session_id) if found else None
        except (CallCoachError, ValueError) as exc:
            self.failed.emit(f"The QA note was not saved: {exc}")
            return False
        if stored is None:
            self.failed.emit("The QA note was not saved: the session is no longer in the store")
            return False
        qa = stored.get("qa") if isinstance(stored.get("qa"), dict) else {}
        self.show_session(self.store, self.session_id, qa)
        self.state.setText("Saved")
        self.saved.emit(self.session_id, qa.get("note"), qa.get("score"))
        return True

    def _current(self) -> tuple[str, int]:
        return self.note.toPlainText().strip(), self.score.value()

    def _edited(self) -> None:
        dirty = self.dirty()
        self.save_button.setEnabled(dirty)
        if dirty:
            self.state.setText("Not saved yet")

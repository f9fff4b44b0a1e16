"""A setting in the settings dialog: its editor, its error line, its locked note."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from callcoach.settings import Key


class Field:
    """One setting's editor, its error line and how to read/write its value."""

    def __init__(self, key: Key, editor: QWidget, read: Callable[[], Any], write: Callable[[Any], None]):
        self.key, self.editor, self.read, self.write = key, editor, read, write
        self.error = QLabel()
        self.error.setObjectName(f"error_{key}")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.row = QWidget()
        column = QVBoxLayout(self.row)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(editor)
        self.locked_note = QLabel("locked by policy")
        self.locked_note.setObjectName(f"locked_{key}")
        self.locked_note.setProperty("role", "locked")
        self.locked_note.hide()
        column.addWidget(self.locked_note)
        column.addWidget(self.error)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def lock(self, locked: bool, policy: object) -> None:
        """Greyed out with a note when the machine policy holds the value."""
        self.editor.setEnabled(not locked)
        self.locked_note.setVisible(locked)
        if locked:
            self.locked_note.setText(f"locked by policy ({policy})")

"""The optional live transcript: final lines, and each speaker's text in progress shown as
such (grey, italic, with an ellipsis) until its final text replaces it."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy, QTextEdit, QWidget

from callcoach.gui import theme

MAX_LINES = 40
SPEAKERS = {"agent": "You", "customer": "Customer"}


class TranscriptPane(QTextEdit):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("Transcript")
        self.setReadOnly(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(1)  # gives way to everything else
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.lines: list[tuple[float, str, str]] = []  # (start, role, text), final
        self.partials: dict[str, tuple[float, str]] = {}  # role -> (start, text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._scroll_to_end()

    def add_final(self, role: str, start: float, text: str) -> None:
        self.partials.pop(role, None)
        self.lines.append((start, role, text))
        self.lines.sort(key=lambda line: line[0])
        del self.lines[:-MAX_LINES]
        self._render()

    def set_partial(self, role: str, start: float, text: str) -> None:
        if text.strip():
            self.partials[role] = (start, text)
            self._render()

    def clear_all(self) -> None:
        self.lines.clear()
        self.partials.clear()
        self._render()

    def plain_text(self) -> str:
        return self.toPlainText()

    def _render(self) -> None:
        rows = [(start, role, text, False) for start, role, text in self.lines]
        rows += [(start, role, text, True) for role, (start, text) in self.partials.items()]
        rows.sort(key=lambda r: r[0])
        parts = []
        for _, role, text, partial in rows:
            who = html.escape(SPEAKERS.get(role, role))
            color = theme.TEXT if role == "customer" else theme.SECONDARY
            body = html.escape(text.strip())
            if partial:
                body = f'<i style="color:{theme.MUTED}">{body}…</i>'
            else:
                body = f'<span style="color:{color}">{body}</span>'
            parts.append(f'<p style="margin:0 0 2px 0"><b style="color:{theme.MUTED}">{who}:</b> {body}</p>')
        self.setHtml("".join(parts))
        self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        """Show the newest lines, starting at a whole line: no half-cut line at the top."""
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        top = bar.value()
        if top <= 0:
            return
        layout = self.document().documentLayout()
        block = self.document().begin()
        while block.isValid():
            y = layout.blockBoundingRect(block).y()
            lines = block.layout()
            for i in range(lines.lineCount()):
                line_top = y + lines.lineAt(i).y()
                if line_top >= top:  # past the end by less than a line: room below, not above
                    value = int(line_top + 0.999)
                    bar.setRange(0, max(bar.maximum(), value))
                    bar.setValue(value)
                    return
            block = block.next()

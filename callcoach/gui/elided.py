"""Labels that end in "…" when their text does not fit (the full text is their tooltip):
one line, or wrapped in a few lines."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QTextLayout, QTextOption
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it does not fit."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.full_text = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight,
                                                   max(0, self.width())))


class WrappedLabel(QLabel):
    """Plain text wrapped to the label's width in at most `max_lines` lines: words wrap at
    spaces, a word wider than a line (a file path) breaks anywhere, and what does not fit
    ends in "…" on the last line (the full text is then the tooltip). `text()` stays the
    whole text; the height follows the width, so a layout never gives it too little room."""

    def __init__(self, max_lines: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.max_lines = max_lines
        self.setTextFormat(Qt.TextFormat.PlainText)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._update_tooltip()
        self.updateGeometry()

    def lines(self, width: int) -> list[str]:
        """The lines shown at `width` pixels."""
        return self._wrap(width)[0]

    def elided(self) -> bool:
        return self._wrap(self.contentsRect().width())[1]

    def _wrap(self, width: int) -> tuple[list[str], bool]:
        text = self.text()
        if not text:
            return [], False
        layout = QTextLayout(text, self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        layout.beginLayout()
        starts: list[int] = []
        while len(starts) <= self.max_lines:  # one more than shown says whether to elide
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(max(1, width))
            starts.append(line.textStart())
        layout.endLayout()
        ends = [*starts[1:], len(text)]
        lines = [text[a:b].rstrip() for a, b in zip(starts, ends)]
        if len(lines) <= self.max_lines:
            return lines, False
        last = self.max_lines - 1
        rest = self.fontMetrics().elidedText(text[starts[last]:], Qt.TextElideMode.ElideRight, width)
        return [*lines[:last], rest], True

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        m = self.contentsMargins()
        lines = len(self.lines(width - m.left() - m.right()))
        return lines * self.fontMetrics().lineSpacing() + m.top() + m.bottom() if lines else 0

    def sizeHint(self) -> QSize:
        width = min(self.fontMetrics().horizontalAdvance(self.text()), 300)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("M" * 6), self.fontMetrics().lineSpacing())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_tooltip()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        area, metrics = self.contentsRect(), self.fontMetrics()
        y = area.top() + metrics.ascent()
        for line in self.lines(area.width()):
            painter.drawText(area.left(), y, line)
            y += metrics.lineSpacing()
        painter.end()

    def _update_tooltip(self) -> None:
        self.setToolTip(self.text() if self.elided() else "")

"""The thin bar the pace, talk-share and mood gauges draw on."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


class Track(QWidget):
    """8 px high, as wide as it is given; subclasses paint with `begin()` and `marker()`."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedHeight(8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def begin(self, fill: QColor | QBrush) -> tuple[QPainter, QRectF]:
        """A painter on this track with the rounded track drawn in `fill`, and its rect."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0, 1, 0, -1)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawRoundedRect(r, 3, 3)
        return p, r

    def marker(self, p: QPainter, x: float, color: str) -> None:
        """A round-capped upright line at x, the track's full height."""
        p.setPen(QPen(QColor(color), 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(x, self.rect().top() + 1, x, self.rect().bottom() - 1)

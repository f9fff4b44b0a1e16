"""Input level meters: one thin bar per channel, so the agent sees the mic works.

Levels arrive ten times a second per channel; a meter only stores the value and asks for
a repaint (Qt merges repaints), so nothing heavy happens per event.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from callcoach.gui import theme

FLOOR_DB = -60.0  # the left end of the bar
PEAK_HOLD_S = 1.0
STALE_S = 1.5  # no level for this long: the meter shows nothing


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumWidth(40)
        self.setFixedHeight(6)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.db: float | None = None
        self._peak = FLOOR_DB
        self._peak_at = 0.0
        self._updated = 0.0

    def set_level(self, db: float) -> None:
        now = time.monotonic()
        self.db = db
        self._updated = now
        if db >= self._peak or now - self._peak_at > PEAK_HOLD_S:
            self._peak, self._peak_at = db, now
        self.update()

    def clear(self) -> None:
        self.db = None
        self._peak = FLOOR_DB
        self.update()

    def fraction(self) -> float:
        if self.db is None or time.monotonic() - self._updated > STALE_S:
            return 0.0
        return min(1.0, max(0.0, (self.db - FLOOR_DB) / -FLOOR_DB))

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect())
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(theme.TRACK))
        p.drawRoundedRect(r, 3, 3)
        f = self.fraction()
        if f > 0:
            loud = self.db is not None and self.db > -6
            p.setBrush(QColor(theme.SEVERITY["warning"] if loud else theme.OK))
            p.drawRoundedRect(QRectF(r.x(), r.y(), r.width() * f, r.height()), 3, 3)
            peak = min(1.0, max(0.0, (self._peak - FLOOR_DB) / -FLOOR_DB))
            p.setBrush(QColor(theme.TEXT))
            p.drawRect(QRectF(r.x() + r.width() * peak - 1, r.y(), 2, r.height()))
        p.end()


class MeterRow(QWidget):
    """"You ▬▬▬  Customer ▬▬▬": both channels on one line."""

    LABELS = {"agent": "You", "customer": "Customer"}

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.meters: dict[str, LevelMeter] = {}
        for role, text in self.LABELS.items():
            label = QLabel(text)
            label.setProperty("role", "secondary")
            meter = LevelMeter()
            self.meters[role] = meter
            layout.addWidget(label)
            layout.addWidget(meter, 1)

    def set_level(self, role: str, db: float) -> None:
        meter = self.meters.get(role)
        if meter is not None:
            meter.set_level(db)

    def clear(self) -> None:
        for meter in self.meters.values():
            meter.clear()

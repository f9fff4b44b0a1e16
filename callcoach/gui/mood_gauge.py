"""The customer's mood: a horizontal bar calm -> frustrated -> angry with a trend arrow."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QLinearGradient
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from callcoach.gui import theme
from callcoach.gui.track import Track

ARROWS = {"improving": "↑", "steady": "→", "worsening": "↓"}
STATES = ("calm", "frustrated", "angry")


# The coach's thresholds (callcoach.coach.sentiment): calm above -0.25, angry below -0.55.
_ZONES = {"calm": (1.0, -0.25), "frustrated": (-0.25, -0.55), "angry": (-0.55, -1.0)}


def mood_position(mood: float, state: str) -> float:
    """Where the marker sits, 0 (left, calm) .. 1 (right, angry): each state has its own
    third of the bar, so the marker always agrees with the word (anger alone can make a
    customer "angry" at a middling level)."""
    zone = STATES.index(state) if state in STATES else 0
    top, bottom = _ZONES[STATES[zone]]
    within = min(1.0, max(0.0, (top - mood) / (top - bottom)))
    return (zone + within) / 3


class _MoodBar(Track):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.position: float | None = None

    def paintEvent(self, _event) -> None:
        r = QRectF(self.rect()).adjusted(0, 1, 0, -1)
        gradient = QLinearGradient(r.topLeft(), r.topRight())
        dim = 0.55 if self.position is not None else 0.25
        for stop, state in ((0.0, "calm"), (0.5, "frustrated"), (1.0, "angry")):  # thirds
            c = QColor(theme.MOOD[state])
            c.setAlphaF(dim)
            gradient.setColorAt(stop, c)
        p, r = self.begin(QBrush(gradient))
        if self.position is not None:
            self.marker(p, r.x() + 3 + (r.width() - 6) * self.position, theme.TEXT)
        p.end()


class MoodGauge(QWidget):
    """`state_text()` is what the agent reads, e.g. "Frustrated ↓"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)
        left = QVBoxLayout()
        left.setSpacing(0)
        caption = QLabel("Customer")
        caption.setProperty("role", "secondary")
        self.state_label = QLabel("—")
        self.state_label.setObjectName("MoodState")
        self.state_label.setMinimumWidth(104)
        left.addWidget(caption)
        left.addWidget(self.state_label)
        right = QVBoxLayout()
        right.setSpacing(1)
        right.addStretch(1)
        self.bar = _MoodBar()
        right.addWidget(self.bar)
        scale = QHBoxLayout()
        scale.setContentsMargins(0, 0, 0, 0)
        self.scale = [QLabel(s) for s in STATES]
        for label, align in zip(self.scale, (Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignCenter,
                                            Qt.AlignmentFlag.AlignRight)):
            label.setProperty("role", "scale")
            label.setAlignment(align)
            scale.addWidget(label, 1)
        right.addLayout(scale)
        outer.addLayout(left)
        outer.addLayout(right, 1)
        self.state: str | None = None
        self.trend: str | None = None
        self.mood: float | None = None

    def set_mood(self, mood: float, state: str, trend: str) -> None:
        if (mood, state, trend) == (self.mood, self.state, self.trend):
            return
        self.mood, self.state, self.trend = mood, state, trend
        self.bar.position = mood_position(mood, state)
        self.state_label.setText(self.state_text())
        self.state_label.setStyleSheet(f"color: {theme.MOOD.get(state, theme.TEXT)}; font-weight: 600;"
                                       f" font-size: {theme.STATE_PT}pt;")
        self.state_label.setToolTip(f"{state}, {trend} (mood {mood:+.2f})")
        self.bar.update()

    def state_text(self) -> str:
        if self.state is None:
            return "—"
        return f"{self.state.capitalize()} {ARROWS.get(self.trend, '')}".strip()

    def reset(self) -> None:
        self.mood = self.state = self.trend = None
        self.bar.position = None
        self.state_label.setText("—")
        self.state_label.setStyleSheet("")
        self.bar.update()

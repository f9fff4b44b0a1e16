"""The agent's pace against the target band, and the talk share as a split bar."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from callcoach.gui import theme
from callcoach.gui.track import Track

PACE_MIN, PACE_MAX = 60.0, 280.0  # words per minute at the ends of the pace bar


def _x(wpm: float, r: QRectF) -> float:
    f = (min(PACE_MAX, max(PACE_MIN, wpm)) - PACE_MIN) / (PACE_MAX - PACE_MIN)
    return r.x() + r.width() * f


class _PaceTrack(Track):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.band = (120.0, 190.0)
        self.wpm: float | None = None

    def paintEvent(self, _event) -> None:
        p, r = self.begin(QColor(theme.TRACK))
        band = QColor(theme.OK)
        band.setAlphaF(0.45)
        p.setBrush(band)
        lo, hi = _x(self.band[0], r), _x(self.band[1], r)
        p.drawRect(QRectF(lo, r.y(), hi - lo, r.height()))
        if self.wpm is not None:
            inside = self.band[0] <= self.wpm <= self.band[1]
            self.marker(p, _x(self.wpm, r), theme.TEXT if inside else theme.SEVERITY["warning"])
        p.end()


class _CaptionedBar(QWidget):
    """A caption and a value on one line, a drawn track under them."""

    def __init__(self, caption: str, placeholder: str, value_name: str, track: QWidget,
                 parent: QWidget | None = None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        top = QHBoxLayout()
        label = QLabel(caption)
        label.setProperty("role", "secondary")
        self.value = QLabel(placeholder)
        self.value.setObjectName(value_name)
        self.value.setProperty("role", "secondary")
        top.addWidget(label)
        top.addStretch(1)
        top.addWidget(self.value)
        self.track = track
        outer.addLayout(top)
        outer.addWidget(self.track)


class PaceBar(_CaptionedBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Pace", "— wpm", "PaceValue", _PaceTrack(), parent)

    def set_pace(self, wpm: float | None, band: tuple[float, float]) -> None:
        self.track.wpm, self.track.band = wpm, tuple(band)
        if wpm is None:
            self.value.setText("— wpm")
        else:
            where = "fast" if wpm > band[1] else "slow" if wpm < band[0] else "ok"
            self.value.setText(f"{wpm:.0f} wpm · {where}")
        self.value.setToolTip(f"target {band[0]:.0f}-{band[1]:.0f} wpm")
        self.track.update()

    def reset(self) -> None:
        self.set_pace(None, self.track.band)


class _SplitTrack(Track):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.share: float | None = None

    def paintEvent(self, _event) -> None:
        p, r = self.begin(QColor(theme.TRACK))
        if self.share is not None:
            p.setBrush(QColor(theme.SEVERITY["info"]))
            p.drawRoundedRect(QRectF(r.x(), r.y(), r.width() * self.share, r.height()), 3, 3)
            customer = QColor(theme.SECONDARY)
            customer.setAlphaF(0.6)
            p.setBrush(customer)
            left = r.x() + r.width() * self.share + 1
            p.drawRoundedRect(QRectF(left, r.y(), max(0.0, r.right() - left), r.height()), 3, 3)
        p.end()


class TalkShareBar(_CaptionedBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Talk", "—", "TalkValue", _SplitTrack(), parent)

    def set_share(self, agent_share: float | None) -> None:
        self.track.share = None if agent_share is None else min(1.0, max(0.0, agent_share))
        if agent_share is None:
            self.value.setText("—")
        else:
            self.value.setText(f"you {agent_share:.0%} · them {1 - agent_share:.0%}")
        self.track.update()

    def reset(self) -> None:
        self.set_share(None)

"""The call on one time axis, drawn with QPainter: the customer's mood (the sentiment of
each customer line, with the frustrated and angry zones), the agent's pace (words per
minute of each agent line, against the target band), a marker for every prompt in its
severity's color, and the notices (device gaps, errors) on the time axis. A device gap
(that speaker's audio does not exist) is a hatched grey band over the speaker's panel:
the mood panel for the customer, the pace panel for the agent.

Hovering a marker shows what it was; clicking anywhere emits the call time there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from callcoach.gui import theme
from callcoach.session_values import ANGRY, FRUSTRATED, Gap, clock, device_gaps, dicts, mood_state, number, text

LEFT, RIGHT, TOP, AXIS = 46, 12, 32, 30  # margins: y labels, right edge, legend row and prompt flags, time axis
GAP = 12  # between the mood and the pace panels
MOOD_SHARE = 0.55  # of the plot height
NOTICE_COLOR = {"error": theme.SEVERITY["critical"], "warning": theme.SEVERITY["warning"]}
PACE_COLOR = "#a48cf0"  # not blue: info prompts are blue
HIT_PX = 6
TICK_STEPS = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


@dataclass(frozen=True)
class Mark:
    t: float
    color: str
    label: str  # the tooltip


class TimelineChart(QWidget):
    time_clicked = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumHeight(200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMouseTracking(True)
        self.band = (120.0, 190.0)
        self.clear()

    def sizeHint(self) -> QSize:
        return QSize(600, 230)

    def clear(self) -> None:
        self.duration = 0.0
        self.mood: list[tuple[float, float]] = []
        self.pace: list[tuple[float, float]] = []
        self.prompts: list[Mark] = []
        self.notices: list[Mark] = []
        self.gaps: list[Gap] = []
        self.update()

    def set_session(self, session: dict, band: tuple[float, float]) -> None:
        """Take what can be drawn from a session; values that are not numbers are skipped."""
        self.band = band
        mood, pace, ends = [], [], [0.0]
        for u in dicts(session.get("utterances")):
            start, end = number(u.get("start")), number(u.get("end"))
            if start is None or end is None:
                continue
            ends.append(end)
            mid = (start + end) / 2
            if u.get("speaker") == "customer" and number(u.get("sentiment")) is not None:
                mood.append((mid, max(-1.0, min(1.0, number(u["sentiment"])))))
            elif u.get("speaker") == "agent" and number(u.get("wpm")) is not None:
                pace.append((mid, number(u["wpm"])))
        prompts = []
        for p in dicts(session.get("prompts")):
            t = number(p.get("t"))
            if t is not None:
                severity = text(p.get("severity"))
                prompts.append(Mark(t, theme.SEVERITY.get(severity, theme.SEVERITY["info"]),
                                    f"{clock(t)}  {text(p.get('title')) or text(p.get('kind'))} ({severity or 'info'})"))
        notices = []
        for n in dicts(session.get("notices")):
            t = number(n.get("t"))
            if t is not None:
                notices.append(Mark(t, NOTICE_COLOR.get(text(n.get("level")), theme.SECONDARY),
                                    f"{clock(t)}  {text(n.get('message'))}"))
        self.gaps = device_gaps(session)
        ends += [m.t for m in prompts + notices] + [g.end for g in self.gaps]
        self.duration = max(number(session.get("duration_s")) or 0.0, max(ends), 1.0)
        self.mood, self.pace = sorted(mood), sorted(pace)
        self.prompts, self.notices = sorted(prompts, key=lambda m: m.t), sorted(notices, key=lambda m: m.t)
        self.update()

    # -- geometry --------------------------------------------------------------------------

    def plot_rect(self) -> QRectF:
        return QRectF(LEFT, TOP, max(1.0, self.width() - LEFT - RIGHT), max(1.0, self.height() - TOP - AXIS))

    def panels(self) -> tuple[QRectF, QRectF]:
        """(mood, pace) panel rectangles."""
        r = self.plot_rect()
        mood_h = (r.height() - GAP) * MOOD_SHARE
        return (QRectF(r.left(), r.top(), r.width(), mood_h),
                QRectF(r.left(), r.top() + mood_h + GAP, r.width(), r.height() - mood_h - GAP))

    def x_of(self, t: float) -> float:
        r = self.plot_rect()
        return r.left() + r.width() * min(max(t / self.duration, 0.0), 1.0) if self.duration else r.left()

    def gap_rect(self, gap: Gap) -> QRectF:
        """A device gap's band: its time span over its speaker's panel."""
        mood_r, pace_r = self.panels()
        panel = mood_r if gap.speaker == "customer" else pace_r
        x0 = self.x_of(gap.start)
        return QRectF(x0, panel.top(), max(self.x_of(gap.end) - x0, 2.0), panel.height())

    def pace_range(self) -> tuple[float, float]:
        values = [w for _, w in self.pace] + list(self.band)
        return 20 * math.floor((min(values) - 20) / 20), 20 * math.ceil((max(values) + 20) / 20)

    # -- painting --------------------------------------------------------------------------

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(theme.PANEL))
        if not self.duration:  # no session: the detail's heading says what to do
            p.end()
            return
        font = QFont(self.font())
        font.setPointSizeF(theme.SMALL_PT)
        p.setFont(font)
        mood_r, pace_r = self.panels()
        self._legend(p)
        self._mood_panel(p, mood_r)
        self._pace_panel(p, pace_r)
        for gap in self.gaps:
            _hatched(p, self.gap_rect(gap))
        self._time_axis(p)
        for mark in self.prompts:  # across both panels, a flag on top
            x = self.x_of(mark.t)
            p.setPen(QPen(QColor(mark.color), 1.5, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x, mood_r.top()), QPointF(x, pace_r.bottom()))
            _flag(p, x, mood_r.top(), mark.color)
        for mark in self.notices:
            _diamond(p, self.x_of(mark.t), pace_r.bottom() + 6, mark.color)
        p.end()

    def _legend(self, p: QPainter) -> None:
        entries = [("Customer mood", theme.TEXT, _dot), ("Agent wpm", PACE_COLOR, _dot), ("Prompts:", None, None)]
        entries += [(name, theme.SEVERITY[name], _flag) for name in ("info", "warning", "critical")]
        if self.notices:
            entries.append(("notice", NOTICE_COLOR["warning"], _diamond))
        if self.gaps:
            entries.append(("device gap", theme.SECONDARY, _gap_swatch))
        metrics = p.fontMetrics()
        x, y = 8.0, 11.0
        for label, color, mark in entries:
            if mark:
                mark(p, x + 4, y + 4 if mark is _flag else y, color)
                x += 11
            p.setPen(QColor(theme.SECONDARY))
            p.drawText(QPointF(x, y + metrics.ascent() / 2 - 1), label)
            x += metrics.horizontalAdvance(label) + 10

    def _mood_panel(self, p: QPainter, r: QRectF) -> None:
        def y(v: float) -> float:
            return r.top() + (1 - v) / 2 * r.height()

        p.setPen(Qt.PenStyle.NoPen)
        for top, bottom, state in ((FRUSTRATED, ANGRY, "frustrated"), (ANGRY, -1.0, "angry")):
            zone = QColor(theme.MOOD[state])
            zone.setAlphaF(0.13)
            p.fillRect(QRectF(r.left(), y(top), r.width(), y(bottom) - y(top)), zone)
        p.setPen(QPen(QColor(theme.BORDER), 1))
        p.drawLine(QPointF(r.left(), y(0)), QPointF(r.right(), y(0)))
        self._y_labels(p, r, [("+1", y(1)), ("0", y(0)), ("−1", y(-1))])
        if not self.mood:
            self._empty(p, r, "no scored customer lines")
            return
        path = QPainterPath(QPointF(self.x_of(self.mood[0][0]), y(self.mood[0][1])))
        for t, v in self.mood[1:]:
            path.lineTo(self.x_of(t), y(v))
        p.setPen(QPen(QColor(theme.TEXT), 1.6))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        p.setPen(Qt.PenStyle.NoPen)
        for t, v in self.mood:
            p.setBrush(QColor(theme.MOOD[mood_state(v)]))
            p.drawEllipse(QPointF(self.x_of(t), y(v)), 3, 3)

    def _pace_panel(self, p: QPainter, r: QRectF) -> None:
        low, high = self.pace_range()

        def y(w: float) -> float:
            return r.bottom() - (w - low) / (high - low) * r.height()

        band = QColor(theme.OK)
        band.setAlphaF(0.16)
        p.fillRect(QRectF(r.left(), y(self.band[1]), r.width(), y(self.band[0]) - y(self.band[1])), band)
        p.setPen(QPen(QColor(theme.BORDER), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(r)
        self._y_labels(p, r, [(f"{self.band[1]:g}", y(self.band[1])), (f"{self.band[0]:g}", y(self.band[0]))])
        if not self.pace:
            self._empty(p, r, "no agent pace")
            return
        p.setPen(QPen(QColor(PACE_COLOR), 1.2))
        for (t1, w1), (t2, w2) in zip(self.pace, self.pace[1:]):
            p.drawLine(QPointF(self.x_of(t1), y(w1)), QPointF(self.x_of(t2), y(w2)))
        p.setPen(Qt.PenStyle.NoPen)
        for t, w in self.pace:
            inside = self.band[0] <= w <= self.band[1]
            p.setBrush(QColor(PACE_COLOR if inside else theme.SEVERITY["warning"]))
            p.drawEllipse(QPointF(self.x_of(t), y(w)), 2.6, 2.6)

    def _time_axis(self, p: QPainter) -> None:
        r = self.plot_rect()
        step = next((s for s in TICK_STEPS if self.duration / s <= max(2, r.width() // 70)), TICK_STEPS[-1])
        p.setPen(QColor(theme.MUTED))
        t = 0.0
        while t <= self.duration + 1e-6:
            x = self.x_of(t)
            p.drawLine(QPointF(x, r.bottom() + 12), QPointF(x, r.bottom() + 15))
            p.drawText(QRectF(x - 30, r.bottom() + 14, 60, 14), Qt.AlignmentFlag.AlignCenter, clock(t))
            t += step

    def _y_labels(self, p: QPainter, r: QRectF, labels: list[tuple[str, float]]) -> None:
        p.setPen(QColor(theme.MUTED))
        for label, y in labels:
            p.drawText(QRectF(0, y - 7, LEFT - 6, 14), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       label)

    def _empty(self, p: QPainter, r: QRectF, message: str) -> None:
        p.setPen(QColor(theme.MUTED))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, message)

    # -- interaction -----------------------------------------------------------------------

    def mark_at(self, x: float, y: float) -> Mark | None:
        """The prompt or notice marker under a point, if any."""
        mood_r, pace_r = self.panels()
        if mood_r.top() - 10 <= y <= pace_r.bottom():
            candidates = self.prompts
        elif y > pace_r.bottom():
            candidates = self.notices
        else:
            return None
        near = [(abs(self.x_of(m.t) - x), m) for m in candidates]
        hit = min(near, key=lambda d: d[0], default=None)
        if hit and hit[0] <= HIT_PX:
            return hit[1]
        gap = next((g for g in self.gaps if self.gap_rect(g).contains(QPointF(x, y))), None)
        return Mark(gap.start, theme.SECONDARY, gap.tip()) if gap else None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            pos = event.pos()
            mark = self.mark_at(pos.x(), pos.y())
            if mark:
                QToolTip.showText(event.globalPos(), mark.label, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event) -> None:
        r = self.plot_rect()
        x = event.position().x()
        if self.duration and event.button() == Qt.MouseButton.LeftButton and r.left() <= x <= r.right():
            self.time_clicked.emit((x - r.left()) / r.width() * self.duration)
        super().mousePressEvent(event)


def _dot(p: QPainter, x: float, y: float, color: str) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(color))
    p.drawEllipse(QPointF(x, y), 3.5, 3.5)


def _flag(p: QPainter, x: float, y: float, color: str) -> None:
    """A prompt's marker: a triangle pointing down at (x, y)."""
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(color))
    p.drawPolygon(QPolygonF([QPointF(x - 5, y - 8), QPointF(x + 5, y - 8), QPointF(x, y)]))


def _hatched(p: QPainter, r: QRectF) -> None:
    """A device gap: greyed, with diagonal hatching, so it reads as "no audio here"."""
    veil = QColor(theme.SECONDARY)
    veil.setAlphaF(0.18)
    p.fillRect(r, veil)
    hatch = QColor(theme.SECONDARY)
    hatch.setAlphaF(0.6)
    p.fillRect(r, QBrush(hatch, Qt.BrushStyle.BDiagPattern))


def _gap_swatch(p: QPainter, x: float, y: float, _color: str) -> None:
    _hatched(p, QRectF(x - 4, y - 4, 8, 8))


def _diamond(p: QPainter, x: float, y: float, color: str) -> None:
    """A notice's marker (device gap, error) on the time axis."""
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(color))
    p.drawPolygon(QPolygonF([QPointF(x, y - 4), QPointF(x + 4, y), QPointF(x, y + 4), QPointF(x - 4, y)]))

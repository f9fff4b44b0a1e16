"""The tray icon and its menu: show/hide, start/stop, collapse, settings, quit."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from callcoach.gui import theme


def app_icon(accent: str = theme.SEVERITY["info"]) -> QIcon:
    """A speech bubble in the accent color, drawn (no image files to ship)."""
    icon = QIcon()
    for size in (16, 22, 32, 64):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(accent))
        s = size / 16
        p.drawRoundedRect(QRectF(1 * s, 2 * s, 14 * s, 10 * s), 3 * s, 3 * s)
        p.drawPolygon([QPointF(4 * s, 11 * s), QPointF(4 * s, 15 * s), QPointF(8 * s, 11 * s)])
        p.setBrush(QColor(theme.BACKGROUND))
        for x in (4.5, 8, 11.5):
            p.drawEllipse(QRectF((x - 1) * s, 6 * s, 2 * s, 2 * s))
        p.end()
        icon.addPixmap(pixmap)
    return icon


class Tray(QObject):
    toggle_window = Signal()
    call = Signal()
    collapse = Signal()
    settings = Signal()
    quit = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.menu = QMenu()
        self.show_action = self._action("Hide window", self.toggle_window)
        self.call_action = self._action("Start call", self.call)
        self.collapse_action = self._action("Collapse to a bar", self.collapse)
        self.menu.addSeparator()
        self._action("Settings…", self.settings)
        self.menu.addSeparator()
        self._action("Quit CallCoach", self.quit)
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.icon.setToolTip("CallCoach")
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)

    def _action(self, text: str, signal) -> QAction:
        action = QAction(text, self.menu)
        action.triggered.connect(signal)
        self.menu.addAction(action)
        return action

    def show(self) -> None:
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def update(self, window_visible: bool, call_active: bool, collapsed: bool, status: str) -> None:
        self.show_action.setText("Hide window" if window_visible else "Show window")
        self.call_action.setText("Stop call" if call_active else "Start call")
        self.collapse_action.setText("Expand" if collapsed else "Collapse to a bar")
        self.icon.setToolTip(f"CallCoach: {status}")

    def _activated(self, reason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window.emit()

"""The window's position and size, remembered per screen in the "window_geometry" setting.

The setting is {screen name: {"x", "y", "w", "h"}}; the screen used last is the last key.
Saving waits until moving or resizing has paused, so a drag writes the file once.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QRect, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from callcoach.settings import Key, Settings, SettingsError

log = logging.getLogger(__name__)

DEFAULT_SIZE = (360, 220)
MARGIN = 24  # from the screen's corner, by default top right
SAVE_DELAY_MS = 400


def screen_key(screen) -> str:
    """The setting's key for a screen: its name (some platforms leave it empty)."""
    size = screen.size()
    return screen.name() or f"screen-{size.width()}x{size.height()}"


class GeometryKeeper(QObject):
    def __init__(self, window: QWidget, settings: Settings):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.expanded_height = DEFAULT_SIZE[1]
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save)
        self.restoring = False

    def saved(self) -> dict:
        value = self.settings.get(Key.WINDOW_GEOMETRY)
        return value if isinstance(value, dict) else {}

    def restore(self) -> None:
        """Put the window where it was on a screen that is still there, else top right."""
        screens = {screen_key(s): s for s in QGuiApplication.screens()}
        saved = self.saved()
        name = next((n for n in reversed(list(saved)) if n in screens), None)
        self.restoring = True
        try:
            if name is not None:
                g = saved[name]
                rect = QRect(int(g["x"]), int(g["y"]), int(g["w"]), int(g["h"]))
                if screens[name].availableGeometry().intersects(rect):
                    self.expanded_height = rect.height()
                    self.window.resize(rect.size())
                    self.window.move(rect.topLeft())
                    return
            screen = QGuiApplication.primaryScreen()
            self.window.resize(*DEFAULT_SIZE)
            self.expanded_height = DEFAULT_SIZE[1]
            if screen is not None:
                area = screen.availableGeometry()
                self.window.move(area.right() - DEFAULT_SIZE[0] - MARGIN, area.top() + MARGIN)
        finally:
            self.restoring = False

    def changed(self) -> None:
        """The window moved or was resized."""
        if not self.restoring:
            self._timer.start()

    def save(self) -> None:
        self._timer.stop()
        screen = self.window.screen()
        if screen is None:
            return
        g = self.window.geometry()
        key = screen_key(screen)
        geometry = {k: v for k, v in self.saved().items() if k != key}
        geometry[key] = {"x": g.x(), "y": g.y(), "w": g.width(), "h": self.expanded_height}
        try:
            self.settings.set(Key.WINDOW_GEOMETRY, geometry)
            self.settings.save()
        except (SettingsError, OSError) as exc:  # locked by policy, read-only profile: keep going
            log.warning("window geometry not saved: %s", exc)

    def flush(self) -> None:
        """Save now if a save is waiting (the window is closing)."""
        if self._timer.isActive():
            self.save()

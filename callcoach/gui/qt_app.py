"""What every window CallCoach opens from a command (the review window, the board) starts
with: a display, the one QApplication with the app's name and icon, and Ctrl+C closing it."""

from __future__ import annotations

import os
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from callcoach.errors import CallCoachError
from callcoach.gui.tray import app_icon


def qt_application(what: str) -> QApplication:
    """The application; one line, not Qt's abort, when there is no display for `what`."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise CallCoachError(f"no display: run {what} in a desktop session")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CallCoach")
    app.setWindowIcon(app_icon())
    return app


def close_on_ctrl_c(window: QWidget) -> QTimer:
    """Ctrl+C in the terminal closes the window. Python sees the signal only between Qt's
    events, so a timer wakes it; keep the timer while the window runs."""
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return wake

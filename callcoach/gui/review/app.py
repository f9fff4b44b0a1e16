"""`callcoach review [--store PATH] [--central]`: the review window until the reviewer closes it."""

from __future__ import annotations

import os
import signal
import sys

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from callcoach.errors import CallCoachError
from callcoach.gui.bridge import finish_threads
from callcoach.gui.review.window import ReviewWindow
from callcoach.gui.tray import app_icon
from callcoach.settings import Settings


def run(store_path: str | None = None, central: bool = False) -> int:
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise CallCoachError("no display: run the review window in a desktop session")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CallCoach")
    app.setWindowIcon(app_icon())
    window = ReviewWindow(store_path, Settings(), central=central)  # opens the store, recovers calls cut short
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer()  # lets Python see Ctrl+C while Qt's loop runs
    wake.timeout.connect(lambda: None)
    wake.start(250)
    window.show()
    status = app.exec()
    if window.busy():  # an export or a report still being written: let it finish
        loop = QEventLoop()
        window.idle.connect(loop.quit)
        loop.exec()
    finish_threads()
    wake.stop()
    return status


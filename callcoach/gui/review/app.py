"""`callcoach review [--store PATH] [--central]`: the review window until the reviewer closes it."""

from __future__ import annotations

from PySide6.QtCore import QEventLoop

from callcoach.gui.bridge import finish_threads
from callcoach.gui.review.window import ReviewWindow
from callcoach.gui.qt_app import close_on_ctrl_c, qt_application
from callcoach.settings import Settings


def run(store_path: str | None = None, central: bool = False) -> int:
    app = qt_application("the review window")
    window = ReviewWindow(store_path, Settings(), central=central)  # opens the store, recovers calls cut short
    wake = close_on_ctrl_c(window)
    window.show()
    status = app.exec()
    if window.busy():  # an export or a report still being written: let it finish
        loop = QEventLoop()
        window.idle.connect(loop.quit)
        loop.exec()
    finish_threads()
    wake.stop()
    return status


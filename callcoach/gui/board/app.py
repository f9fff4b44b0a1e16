"""`callcoach board`: the supervisor's live board until they close it."""

from __future__ import annotations

import os
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from callcoach.errors import CallCoachError
from callcoach.gui.board.window import BoardWindow
from callcoach.gui.bridge import finish_threads
from callcoach.gui.tray import app_icon
from callcoach.settings import Settings


def run(dsn: str, user: str | None, settings: Settings) -> int:
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise CallCoachError("no display: run the board in a desktop session")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CallCoach")
    app.setWindowIcon(app_icon())
    window = BoardWindow(dsn, user)
    reviews = []  # review windows opened from ended calls, kept alive while shown
    window.review_requested.connect(lambda session_id: reviews.append(open_review(session_id, settings)))
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer()  # lets Python see Ctrl+C while Qt's loop runs
    wake.timeout.connect(lambda: None)
    wake.start(250)
    window.show()
    window.start()
    status = app.exec()
    finish_threads()
    wake.stop()
    return status


def open_review(session_id: str, settings: Settings):
    """The review window on Team, opened on the session the supervisor came for (read from
    the team store once the desktop has sent it: moments after the call ended)."""
    from callcoach.gui.review.window import ReviewWindow

    review = ReviewWindow(None, settings, central=True)
    review.show()
    review.show_message("info", f"From the live board: session {session_id}")
    review.open_session(session_id)
    return review

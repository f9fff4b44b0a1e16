"""`callcoach board`: the supervisor's live board until they close it."""

from __future__ import annotations

from callcoach.gui.board.window import BoardWindow
from callcoach.gui.bridge import finish_threads
from callcoach.gui.qt_app import close_on_ctrl_c, qt_application
from callcoach.settings import Settings


def run(dsn: str, user: str | None, settings: Settings) -> int:
    app = qt_application("the board")
    window = BoardWindow(dsn, user)
    reviews = []  # review windows opened from ended calls, kept alive while shown
    window.review_requested.connect(lambda session_id: reviews.append(open_review(session_id, settings)))
    wake = close_on_ctrl_c(window)
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

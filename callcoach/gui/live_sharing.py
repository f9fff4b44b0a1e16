"""The widget's side of the supervisor's live board: shares each call's status while the
policy says so, and tells the agent so, and when their supervisor is on the way."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from callcoach.gui.bridge import EventBridge
from callcoach.settings import Settings


class LiveSharing(QObject):
    sharing = Signal(bool)  # live status of this call is being shared (or not any more)
    supervisor_coming = Signal(str)  # who acknowledged the escalation
    problem = Signal(object)  # a one-line reason it is not reaching the board, or None when it is

    def __init__(self, settings: Settings, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.publisher = None
        self._posted = EventBridge()  # the publisher's thread hands its news to the GUI thread
        self._posted.connect_to(lambda call: call())

    def start(self, pipeline, agent: str | None) -> None:
        from callcoach.central.live_status import share_live_status

        self.stop()
        self.publisher = share_live_status(
            pipeline, self.settings, agent,
            on_ack=lambda who: self._posted.post(lambda: self.supervisor_coming.emit(who)),
            on_problem=lambda why: self._posted.post(lambda: self.problem.emit(why)))
        self.sharing.emit(self.publisher is not None)

    def stop(self) -> None:
        """The call ended: the publisher sends its last status on its own thread; no wait here."""
        if self.publisher is not None:
            self.publisher.close(timeout=0)
            self.publisher = None
            self.sharing.emit(False)

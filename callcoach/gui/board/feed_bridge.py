"""The board feed on a background thread, its updates on the GUI thread.

BoardFeed.run() blocks (it waits on the server's notifications), so it runs in a
`Background`; its callbacks only post to an EventBridge, whose queued signal reaches the
window on the GUI thread. "I'm coming" is one short connection, on a thread of its own.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from callcoach.central.board_feed import BoardFeed, BoardUpdate, FeedStatus, acknowledge
from callcoach.gui.bridge import Background, EventBridge


class FeedBridge(QObject):
    updated = Signal(object)  # BoardUpdate
    status = Signal(object)  # FeedStatus
    acknowledged = Signal(str, str, bool)  # desktop, call_id, whether the server took it
    ack_failed = Signal(str)  # one line

    def __init__(self, dsn: str, parent: QObject | None = None):
        super().__init__(parent)
        self.dsn = dsn
        self._bridge = EventBridge()
        self._bridge.connect_to(self._deliver)
        self._feed = BoardFeed(dsn, self._bridge.post, self._bridge.post)
        self._task = Background(self._feed.run, "callcoach-board-feed")
        self._task.failed.connect(lambda message: self.status.emit(FeedStatus(False, message)))
        self._acks: set[Background] = set()

    def start(self) -> None:
        self._task.start()

    def stop(self) -> None:
        """Returns at once; the thread ends within a fraction of a second (running() says when)."""
        self._feed.stop()

    def running(self) -> bool:
        return self._task.is_running() or bool(self._acks)

    def acknowledge(self, desktop: str, call_id: str) -> None:
        task = Background(lambda: acknowledge(self.dsn, desktop, call_id), "callcoach-board-ack")
        task.done.connect(lambda taken: self.acknowledged.emit(desktop, call_id, bool(taken)))
        task.failed.connect(self.ack_failed)
        task.finished.connect(lambda: self._acks.discard(task))
        self._acks.add(task)
        task.start()

    def _deliver(self, item: object) -> None:
        if isinstance(item, BoardUpdate):
            self.updated.emit(item)
        elif isinstance(item, FeedStatus):
            self.status.emit(item)

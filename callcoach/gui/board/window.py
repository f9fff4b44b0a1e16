"""The board window: a one-line status (live, or why not and when it tries again), then
the tiles of the supervisor's teams' calls, most need first.

Nothing here waits: rows come from the feed's thread through FeedBridge; "I'm coming" runs
on a thread of its own. A 1 s timer re-reads the clock only (call time, lost desktops,
the order): no query, the server is never polled.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QPoint, QTimer, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from callcoach.central.board_feed import BoardUpdate, FeedStatus, LiveCall, sort_key
from callcoach.gui import theme
from callcoach.gui.board import tile
from callcoach.gui.board.feed_bridge import FeedBridge
from callcoach.gui.board.tile import CallTile
from callcoach.gui.review.style import STYLE

TICK_MS = 1000
COLUMNS_MIN = 1
GAP = 10


class BoardWindow(QWidget):
    review_requested = Signal(str)  # a session id the supervisor wants to review

    def __init__(self, dsn: str, user: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("BoardWindow")
        self.setWindowTitle(f"CallCoach — live board{f' ({user})' if user else ''}")
        self.setStyleSheet(STYLE + f"QWidget#BoardWindow, QWidget#Tiles {{ background: {theme.BACKGROUND}; }}"
                                   f" QScrollArea {{ border: none; background: {theme.BACKGROUND}; }}")
        self.resize(4 * (tile.WIDTH + GAP) + 30, 3 * (tile.HEIGHT + GAP) + 60)
        self.calls: dict[str, LiveCall] = {}
        self.tiles: dict[str, CallTile] = {}
        self.order: list[str] = []
        self.connected = False
        self.status = QLabel("connecting to the team store…")
        self.status.setObjectName("BoardStatus")
        self.status.setProperty("role", "secondary")
        self.empty = QLabel("No calls right now.")
        self.empty.setProperty("role", "muted")
        # The tiles are placed by hand, not by a layout: when the order changes, only the tiles
        # whose place changed move (a grid layout re-laid and repainted all 50).
        self.grid_host = QWidget()
        self.grid_host.setObjectName("Tiles")
        self.places: dict[str, QPoint] = {}
        self.laid_columns = 0
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.status)
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)
        self.feed = FeedBridge(dsn, self)
        self.feed.updated.connect(self.apply)
        self.feed.status.connect(self.show_status)
        self.feed.acknowledged.connect(self._acknowledged)
        self.feed.ack_failed.connect(self._ack_failed)
        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self.refresh)

    def start(self) -> None:
        self.feed.start()
        self.ticker.start()

    def apply(self, update: BoardUpdate) -> None:
        if update.full:
            self.calls.clear()
        for desktop in update.gone:
            self.calls.pop(desktop, None)
        self.calls.update((call.desktop, call) for call in update.calls)
        self.refresh(None if update.full else {call.desktop for call in update.calls})

    def refresh(self, changed: set[str] | None = None) -> None:
        """Tiles for the calls (only the `changed` ones' content, else all: the clock moved),
        in order of need."""
        now = time.monotonic()
        for desktop in [d for d in self.tiles if d not in self.calls]:
            self.tiles.pop(desktop).deleteLater()
            self.places.pop(desktop, None)
        for desktop, call in self.calls.items():
            if changed is not None and desktop not in changed:
                continue
            shown = self.tiles.get(desktop)
            if shown is None:
                shown = self.tiles[desktop] = CallTile(self.grid_host)
                shown.coming.connect(self.feed.acknowledge)
                shown.review.connect(self.review_requested)
            shown.show_call(call, now)
        order = [call.desktop for call in sorted(self.calls.values(), key=lambda c: sort_key(c, now))]
        if order != self.order or self._columns() != self.laid_columns:
            self._lay_out(order)
        self.empty.setVisible(not self.calls and self.connected)

    def _columns(self) -> int:
        return max(COLUMNS_MIN, (self.scroll.viewport().width() + GAP) // (tile.WIDTH + GAP))

    def _lay_out(self, order: list[str]) -> None:
        columns = self._columns()
        for index, desktop in enumerate(order):
            place = QPoint(index % columns * (tile.WIDTH + GAP), index // columns * (tile.HEIGHT + GAP))
            if self.places.get(desktop) != place:
                self.places[desktop] = place
                self.tiles[desktop].move(place)
                self.tiles[desktop].show()
        rows = -(-len(order) // columns)
        self.grid_host.setMinimumSize(min(columns, len(order)) * (tile.WIDTH + GAP), rows * (tile.HEIGHT + GAP))
        self.order = order
        self.laid_columns = columns

    def show_status(self, status: FeedStatus) -> None:
        self.connected = status.connected
        self.status.setText(status.message)
        self.status.setStyleSheet("" if status.connected else f"color: {theme.SEVERITY['warning']};")
        self.empty.setVisible(not self.calls and self.connected)

    def _acknowledged(self, desktop: str, call_id: str, taken: bool) -> None:
        if not taken:  # ended, or no longer this supervisor's: the next row says which
            self.status.setText(f"{desktop.removeprefix('desktop-')}: that call can no longer be answered")
            self._enable_coming(desktop)

    def _ack_failed(self, message: str) -> None:
        self.status.setText(message)
        for desktop in self.tiles:
            self._enable_coming(desktop)

    def _enable_coming(self, desktop: str) -> None:
        if desktop in self.tiles:
            self.tiles[desktop].coming_button.setEnabled(True)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.order and self._columns() != self.laid_columns:
            self._lay_out(self.order)

    def closeEvent(self, event) -> None:
        self.ticker.stop()
        self.feed.stop()  # its thread ends within a fraction of a second
        super().closeEvent(event)

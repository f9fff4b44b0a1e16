"""The session list as a Qt table model over a session source (this PC's store or the team
store), one page at a time.

Sorting and filtering are the source's SQL (`list_sessions(sort=, descending=, filters...,
limit=, offset=)`); the model only holds the pages loaded so far, so 10,000 sessions cost
what the first 200 do until the reviewer scrolls (`canFetchMore`/`fetchMore`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from callcoach.gui import theme
from callcoach.gui.review.calls import SourceCalls
from callcoach.gui.review.listing import Listing, ListingRequest, read_listing
from callcoach.gui.review.values import score_text, signed
from callcoach.session_values import NONE, clock, local_time, mood_state, number
from callcoach.store.source import SessionSource

PAGE = 200
ROW_ROLE = Qt.ItemDataRole.UserRole  # the listing row (dict) of a session

INCOMPLETE_TIP = ("The call did not end normally (the app closed or the PC stopped mid-call); "
                  "what was saved during the call is shown.")
LIVE_TIP = "Being recorded by a running CallCoach right now."


@dataclass(frozen=True)
class Column:
    key: str  # listing row key
    title: str
    sort: str | None  # the store's sort key; None: the store cannot sort by it
    sample: str  # typical widest content, for the column's first width
    numeric: bool = False


COLUMNS = (
    Column("started_at", "Date", "started_at", "2025-12-31 23:59"),
    Column("agent", "Agent", "agent", "jordan"),
    # The recording's file name, or "live": calls analyzed together are told apart by it.
    Column("source", "Source", None, "call-2025-12-31.wav"),
    Column("duration_s", "Duration", "duration_s", "12:59", True),
    Column("worst_mood", "Worst mood", "worst_mood", "frustrated −0.55", True),
    Column("escalated", "Escalated", "escalated", "yes"),
    Column("prompts_shown", "Prompts", "prompts_shown", "10", True),
    Column("prompts_acted", "Acted on", "prompts_acted", "10", True),
    Column("status", "Status", "status", "◐ incomplete"),
    Column("qa_score", "QA score", "qa_score", "✎ 85", True),
)
STATUS_MARK = {"complete": "", "incomplete": "◐ ", "damaged": "⚠ ", "live": "● "}
STATUS_COLOR = {"incomplete": theme.SEVERITY["warning"], "damaged": theme.SEVERITY["critical"],
                "live": theme.SEVERITY["info"]}


class SessionModel(QAbstractTableModel):
    """Rows are the source's listing dicts. `error(message)` when the source cannot be read;
    `counted(shown, total)` after each (re)load; `loading(bool)` while a read is under way
    (a remote source's reads run off the GUI thread, see calls.py)."""

    error = Signal(str)
    counted = Signal(int, int)
    loading = Signal(bool)

    def __init__(self, source: SessionSource | None, parent=None):
        super().__init__(parent)
        self.source = source
        self.filters: dict[str, Any] = {}
        self.sort_key = "started_at"
        self.descending = True
        self.total = 0  # sessions matching the filters
        self.unfiltered_total = 0
        self._rows: list[dict] = []
        self._exhausted = False
        self._calls = SourceCalls(self)
        self._generation = 0  # a read answering an older reload is dropped
        self._reading = False

    # -- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Count, then load the first page, with the current filters and sort."""
        self._generation += 1
        if self.source is None:
            self._first_page(self._generation, Listing())
            return
        self._read(ListingRequest(dict(self.filters), self.sort_key, self.descending, 0, PAGE, True),
                   self._first_page)

    def set_filters(self, filters: dict[str, Any]) -> None:
        if filters != self.filters:
            self.filters = dict(filters)
            self.reload()

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return (not parent.isValid() and not self._reading and not self._exhausted
                and len(self._rows) < self.total)

    def fetchMore(self, parent=QModelIndex()) -> None:
        if self.canFetchMore(parent) and self.source is not None:
            self._read(ListingRequest(dict(self.filters), self.sort_key, self.descending, len(self._rows), PAGE,
                                      False), self._next_page)

    def reading(self) -> bool:
        return self._reading

    def _read(self, request: ListingRequest, apply) -> None:
        source, generation = self.source, self._generation
        self._set_reading(True)
        self._calls.run(source, "callcoach-review-list", lambda: read_listing(source, request),
                        lambda listing: apply(generation, listing),
                        lambda message: apply(generation, Listing(errors=[message], page_failed=True)),
                        slow=bool(request.filters.get("search")))  # it reads every transcript

    def _set_reading(self, reading: bool) -> None:
        if reading != self._reading:
            self._reading = reading
            self.loading.emit(reading)

    def _first_page(self, generation: int, listing: Listing) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self._rows, self._exhausted = [], listing.page_failed
        self.total, self.unfiltered_total = listing.total, listing.unfiltered_total
        self._take(listing.rows)
        self.endResetModel()
        self._done(listing)

    def _next_page(self, generation: int, listing: Listing) -> None:
        if generation != self._generation:
            return
        page = listing.rows
        if len(page) > PAGE:  # the store's fallback (below): the list starts again
            self.beginResetModel()
            self._rows = []
            self._take(page)
            self.endResetModel()
        elif page:
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()
        else:
            self._exhausted = True
        self._done(listing)

    def _done(self, listing: Listing) -> None:
        """Counted, not reading, then the errors: a listener may start another read."""
        self.counted.emit(self.total, self.unfiltered_total)
        self._set_reading(False)
        if len(listing.rows) > PAGE:
            listing.errors.append("The session store is damaged in places: every session that could be read "
                                  "is listed, without the filters and sorting.")
        for message in listing.errors:
            self.error.emit(message)

    def _take(self, page: list[dict]) -> None:
        """Rows read during a reset. More than a page is the store's fallback for a file
        damaged where the listing query reads: every row it could read, unfiltered."""
        if len(page) > PAGE:
            self.total = self.unfiltered_total = len(page)
            self._exhausted = True
        self._rows.extend(page)

    # -- sorting ---------------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column].sort if 0 <= column < len(COLUMNS) else None
        descending = order == Qt.SortOrder.DescendingOrder
        if key is None or (key, descending) == (self.sort_key, self.descending):
            return
        self.sort_key, self.descending = key, descending
        self.reload()

    def sort_column(self) -> int:
        return next(i for i, c in enumerate(COLUMNS) if c.sort == self.sort_key)

    # -- rows ------------------------------------------------------------------------------

    def row(self, index: int) -> dict | None:
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def row_of(self, session_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.get("id") == session_id), -1)

    def rows_loaded(self) -> int:
        return len(self._rows)

    def update_row(self, session_id: str, **values: Any) -> None:
        """Show what changed in one session (a saved QA note, damage found on reading it)
        without listing again."""
        i = self.row_of(session_id)
        if i >= 0:
            self._rows[i].update(values)
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    # -- QAbstractTableModel ---------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            column = COLUMNS[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return column.title
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(row, column.key)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row, column.key)
        if role == Qt.ItemDataRole.ForegroundRole:
            return _foreground(row, column.key)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _display(row: dict, key: str) -> str:
    value = row.get(key)
    if key == "started_at":
        return local_time(value) or NONE
    if key in ("agent", "source"):
        return value if isinstance(value, str) and value else NONE
    if key == "duration_s":
        return clock(value)
    if key == "worst_mood":
        state = mood_state(value)
        return f"{state} {signed(value)}" if state else NONE
    if key == "escalated":
        return "yes" if value is True else ""
    if key == "status":
        status = str(value)
        return STATUS_MARK.get(status, "⚠ ") + status
    if key == "qa_score":
        note = "✎" if _has_note(row) else ""
        score = score_text(value) if number(value) is not None else ""
        return " ".join(filter(None, (note, score))) or NONE
    v = number(value)
    return NONE if v is None else f"{v:g}"


def _tooltip(row: dict, key: str) -> str | None:
    status = row.get("status")
    if status == "damaged":
        return f"Damaged record: {row.get('problem') or 'unreadable'}"
    if status == "incomplete":
        return INCOMPLETE_TIP
    if status == "live":
        return LIVE_TIP
    if key == "qa_score" and _has_note(row):
        return row["qa_note"]
    return None


def _has_note(row: dict) -> bool:
    return isinstance(row.get("qa_note"), str) and bool(row["qa_note"].strip())


def _foreground(row: dict, key: str) -> QColor | None:
    if key == "status":
        return QColor(STATUS_COLOR.get(str(row.get("status")), theme.SECONDARY))
    if key == "worst_mood":
        state = mood_state(row.get("worst_mood"))
        return QColor(theme.MOOD[state]) if state and state != "calm" else None
    if key == "escalated" and row.get("escalated") is True:
        return QColor(theme.SEVERITY["critical"])
    return None

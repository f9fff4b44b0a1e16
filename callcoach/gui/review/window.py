"""The QA review window: the "This PC / Team" switch, the filter bar, the session table
(paged from the source), the detail of the selected session, and export / report.

Nothing here waits on anything slow: on this PC a page of 200 rows or one session is read
on the GUI thread (milliseconds); on the team store every read and QA note, and anywhere a
search of every transcript, goes through a `Background` thread (calls.py), with a busy
mark meanwhile; the CSV export and the HTML report always run on one. Problems (a store that cannot be read, a team store that cannot
be reached, a file that cannot be written) are one line in the message bar, never a
traceback; a team store that cannot be read puts the window back on This PC.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget)

from callcoach.central.login import team_login
from callcoach.central.reading import CentralSessions
from callcoach.errors import CallCoachError
from callcoach.gui.bridge import Background
from callcoach.gui.message_bar import MessageBar
from callcoach.gui.review import actions
from callcoach.gui.review.calls import SourceCalls
from callcoach.gui.review.detail import SessionDetail
from callcoach.gui.review.filters import FilterBar
from callcoach.gui.review.session_model import COLUMNS, ROW_ROLE, SessionModel
from callcoach.gui.review.source_switch import Source, SourceSwitch
from callcoach.gui.review.style import STYLE
from callcoach.gui.review.team_view import TeamFiguresView
from callcoach.settings import Key, Settings
from callcoach.store import SessionStore, default_store_path
from callcoach.store.source import SessionSource

MESSAGE_S = 8  # how long a confirmation stays
MIN_DETAIL = 470  # px the detail keeps when the window is too narrow for every column
TRY_TEAM = "Try Team again"


class ReviewWindow(QWidget):
    idle = Signal()  # the last background task (export, report) has finished

    def __init__(self, store_path: str | os.PathLike | None, settings: Settings, parent: QWidget | None = None,
                 *, central: bool = False):
        """`store_path`: None for the settings' store; `settings`: the process's, read once
        by the command; `central`: open on Team (the team store) rather than This PC."""
        super().__init__(parent)
        self.setObjectName("ReviewWindow")
        self.setWindowTitle("CallCoach — QA review")
        self.setStyleSheet(STYLE)
        self.resize(1280, 800)
        # Reports go to the app's data folder, whichever store is being reviewed.
        self.data_folder = default_store_path(settings).parent
        self.store_path = Path(store_path) if store_path else default_store_path(settings)
        self.store: SessionStore | None = None  # this PC's, open while the window is
        self.login = team_login(settings.get(Key.CENTRAL_STORE), settings.get(Key.CENTRAL_LOGIN))
        self.team = CentralSessions(self.login.dsn) if self.login.dsn else None
        self.source: SessionSource | None = None  # what the list shows: the store or the team
        self.calls = SourceCalls(self)
        self.export_dialog: QFileDialog | None = None
        self.export_folder = Path.home()
        self._count_text = ""  # the status line when nothing is being read
        self._example: tuple[str, float | None] | None = None  # (id, prompt's call time) of a team figures' example
        self._tasks: set[Background] = set()
        self._closed = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 8)
        layout.setSpacing(8)
        self.switch = SourceSwitch(self.login)
        self.filters = FilterBar()
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(self.switch, 0)
        top.addWidget(self.filters.search, 1)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(self.filters)
        self.message = MessageBar()
        layout.addWidget(self.message)

        self.model = SessionModel(None, self)
        self.table = self._session_table()

        self.detail = SessionDetail((float(settings.get(Key.PACE_LOW)), float(settings.get(Key.PACE_HIGH))),
                                    redact=bool(settings.get(Key.REDACT)))
        self.team_view = TeamFiguresView()
        self.views = self._views()
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.views)
        self.split.addWidget(self.detail)
        self.split.setChildrenCollapsible(False)
        self.split.setStretchFactor(1, 1)  # the detail takes what a wider window adds
        layout.addWidget(self.split, 1)
        self._table_width = self._fit_columns()
        self._sized = False

        layout.addLayout(self._bottom_bar())
        self._connect()
        self.open_store()
        if central:
            self.choose_source(Source.TEAM)

    def _session_table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("SessionTable")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(24)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)  # newest first, as the model starts
        table.setSortingEnabled(True)
        header.sortIndicatorChanged.connect(self._sort_indicator_changed)
        return table

    def _views(self) -> QTabWidget:
        """The list, or the figures over the calls it lists."""
        views = QTabWidget()
        views.setObjectName("ReviewViews")
        views.addTab(self.table, "Sessions")
        views.addTab(self.team_view, "Team figures")
        views.setTabToolTip(1, "Per agent and per rule, over the calls listed: escalations, calmer customers, "
                               "pace, and the prompts marked not helpful")
        return views

    def _bottom_bar(self) -> QHBoxLayout:
        bottom = QHBoxLayout()
        self.status = QLabel()
        self.status.setObjectName("StatusLine")
        bottom.addWidget(self.status, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("List again: calls stored since the window opened (F5)")
        self.refresh_button.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("The sessions listed (all pages, with these filters) as a CSV file")
        bottom.addWidget(self.refresh_button)
        bottom.addWidget(self.export_button)
        return bottom

    def _connect(self) -> None:
        """What the window does when its parts change (the parts are built by now)."""
        self.filters.changed.connect(self.model.set_filters)
        self.filters.changed.connect(lambda _f: self.team_view.update_for(self.source, self.model.filters))
        self.team_view.loading.connect(self._loading)
        self.team_view.failed.connect(lambda message: self.show_message("error", message))
        self.team_view.example_chosen.connect(self.open_session)
        self.model.error.connect(self._listing_failed)
        self.model.loading.connect(self._loading)
        self.switch.chosen.connect(self.choose_source)
        self.message.action.connect(lambda label: label == TRY_TEAM and self.choose_source(Source.TEAM))
        self.model.counted.connect(self._counted)
        self.model.modelReset.connect(self._listing_reset)
        self.model.rowsInserted.connect(lambda _parent, first, last: self._agents_seen(first, last))
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.detail.report_requested.connect(self.open_report)
        self.detail.qa.saved.connect(lambda sid, note, score: self.model.update_row(sid, qa_note=note, qa_score=score))
        self.detail.qa.failed.connect(lambda message: self.show_message("error", message))
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.export_csv)

    def _fit_columns(self) -> int:
        """Column widths for the title and its sort arrow, or typical content; the total."""
        header = self.table.horizontalHeader()
        for widget in (self.table, header):  # in the window now: the style sheet's fonts
            widget.ensurePolished()
        cells, titles = self.table.fontMetrics(), header.fontMetrics()
        for i, column in enumerate(COLUMNS):
            self.table.setColumnWidth(i, 10 + max(cells.horizontalAdvance(column.sample),
                                                  titles.horizontalAdvance(column.title) + 8))
        return sum(self.table.columnWidth(i) for i in range(len(COLUMNS))) + 16

    # -- the store ---------------------------------------------------------------------------

    def open_store(self) -> None:
        """Open the store (sessions of writers that died become 'incomplete') and list it."""
        try:
            store = SessionStore(self.store_path)
        except CallCoachError as exc:
            self.show_message("error", str(exc))
            self._use(None)
            return
        try:
            recovered = store.recover()
        except CallCoachError as exc:  # a read-only store can still be reviewed
            recovered = []
            self.show_message("warning", str(exc))
        self.store = store
        if self.switch.source() is Source.LOCAL:
            self._use(store)
        if recovered:
            n = len(recovered)
            self.show_message("info", f"{n} call{' was' if n == 1 else 's were'} cut short earlier (CallCoach "
                              "closed mid-call): listed as incomplete", MESSAGE_S)

    def choose_source(self, source: Source) -> None:
        """List This PC's store or the team store (Team only when this PC can open it)."""
        self._save_notes()
        if source is Source.TEAM and self.team is None:
            self.show_message("warning", f"Team is not available: {self.login.problem}")
            source = Source.LOCAL
        self.switch.show_source(source)
        if source is Source.TEAM:
            self.message.dismiss()
            self._use(self.team)
        elif self.store is None:
            self.open_store()
        else:
            self._use(self.store)

    def _use(self, source: SessionSource | None) -> None:
        self.source = self.model.source = source
        self.detail.clear()  # the same call may be in both: the detail must be the listed source's
        self.model.reload()
        self.team_view.update_for(source, self.model.filters)

    def _listing_failed(self, message: str) -> None:
        if self.source is None or not self.source.remote:
            self.show_message("error", message)
            return
        self.switch.show_source(Source.LOCAL)
        self.show_message("error", f"Team: {message}",
                          todo=("The sessions on this PC are shown.", TRY_TEAM))
        if self.store is None:
            self.open_store()
        else:
            self._use(self.store)

    def _loading(self, _reading: bool) -> None:
        """Shown while a read runs off the GUI thread (one on the GUI thread ends before a repaint):
        the list's, or the team figures'."""
        remote = self.source is not None and self.source.remote
        reading = self.model.reading() or self.team_view.reading()
        what = ("Reading the team store…" if remote else "Searching the calls on this PC…") if self.model.reading() \
            else "Counting the team figures…"
        self.switch.set_busy(reading, what)
        self.status.setText(what if reading else self._count_text)

    def show_message(self, level: str, message: str, timeout_s: float | None = None,
                     todo: tuple[str, str | None] = ("", None)) -> None:
        # The widget's advice is about devices and models; none of it applies here.
        self.message.show_message(level, message, timeout_s, todo=todo)

    # -- the list ----------------------------------------------------------------------------

    def _sort_indicator_changed(self, column: int, _order) -> None:
        if COLUMNS[column].sort is None:  # the store cannot sort by it: keep showing the real order
            order = Qt.SortOrder.DescendingOrder if self.model.descending else Qt.SortOrder.AscendingOrder
            self.table.horizontalHeader().setSortIndicator(self.model.sort_column(), order)

    def _counted(self, shown: int, total: int) -> None:
        noun = "session" if shown == 1 else "sessions"
        self._count_text = f"{shown:,} {noun}" + (f" (of {total:,})" if total != shown else "")
        self.status.setText(self._count_text)
        self.export_button.setEnabled(self.source is not None and shown > 0)

    def _listing_reset(self) -> None:
        """After a new sort or filter: keep the shown session selected if it is still listed."""
        self._save_notes()
        self._agents_seen(0, self.model.rows_loaded() - 1)
        self.table.scrollToTop()  # a new order starts at its top (not at the bottom, fetching a page more)
        shown = self.detail.session.get("id") if self.detail.session else None
        row = self.model.row_of(shown) if shown else -1
        if row < 0:
            self.detail.clear()
            return
        selection = self.table.selectionModel()
        selection.blockSignals(True)  # the detail already shows it
        selection.setCurrentIndex(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)
        selection.blockSignals(False)
        self.table.viewport().update()

    def _agents_seen(self, first: int, last: int) -> None:
        self.filters.add_agents(self.model.row(i).get("agent") for i in range(first, last + 1))

    def refresh(self) -> None:
        """List again; a store that could not be opened is tried again."""
        if self.source is None:
            self.message.dismiss()
            self.open_store()
        else:
            self.model.reload()
            self.team_view.update_for(self.source, self.model.filters)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._save_notes()
        self._example = None
        row = current.data(ROW_ROLE) if current.isValid() else None
        if row is None or self.source is None:
            self.detail.clear()
            return
        self._read_session(self.source, row)

    def open_session(self, session_id: str, t: float | None = None) -> None:
        """An example call from the team figures, in the detail at call time `t` (its prompt);
        selected in the list if listed."""
        self._save_notes()
        if self.source is None:
            return
        row = self.model.row_of(session_id)
        selection = self.table.selectionModel()
        selection.blockSignals(True)  # read here, once
        if row >= 0:
            selection.setCurrentIndex(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                      | QItemSelectionModel.SelectionFlag.Rows)
        else:
            selection.clear()
        selection.blockSignals(False)
        self.table.viewport().update()
        self._example = (session_id, t)
        self._read_session(self.source, self.model.row(row) if row >= 0 else {"id": session_id})

    def _read_session(self, source: SessionSource, row: dict) -> None:
        session_id = row["id"]
        if source.remote:
            self.detail.clear("Reading this session from the team store…")
        self.calls.run(source, "callcoach-review-session", lambda: source.get(session_id),
                       lambda session: self._session_read(source, row, session),
                       lambda message: self._session_failed(source, session_id, message))

    def _still_current(self, source: SessionSource, session_id: str) -> bool:
        """A read that comes back after the reviewer moved on (or switched) is dropped."""
        row = self.table.selectionModel().currentIndex().data(ROW_ROLE)
        shown = row.get("id") if isinstance(row, dict) else self._example and self._example[0]
        return source is self.source and shown == session_id

    def _session_failed(self, source: SessionSource, session_id: str, message: str) -> None:
        if self._still_current(source, session_id):
            self.detail.clear("This session could not be read.")
            self.show_message("error", message)

    def _session_read(self, source: SessionSource, row: dict, session: dict | None) -> None:
        if not self._still_current(source, row["id"]):
            return
        if session is None:
            self.detail.clear("This session is no longer in the store; press Refresh.")
            return
        if session.get("status") == "damaged" and row.get("status") != "damaged":  # found out by reading it
            self.model.update_row(row["id"], status="damaged", problem=session.get("problem"))
        self.detail.show_session(source, session)
        if self._example and self._example[0] == row["id"] and self._example[1] is not None:
            self.detail.scroll_to(self._example[1])  # at the example's prompt

    def _save_notes(self) -> None:
        """Notes typed for the shown session are kept when the reviewer moves on."""
        if self.detail.qa.dirty():
            self.detail.qa.save()

    # -- export and report ---------------------------------------------------------------------

    def export_csv(self) -> None:
        """Ask where, then write every session the filters select (not only the loaded pages)."""
        if self.source is None or self.export_dialog is not None:
            return
        dialog = QFileDialog(self, "Export the listed sessions as CSV")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # the same dialog everywhere, and testable
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.setDefaultSuffix("csv")
        dialog.setDirectory(str(self.export_folder))
        dialog.selectFile(f"callcoach-sessions-{date.today().isoformat()}.csv")
        dialog.fileSelected.connect(self._export_to)
        dialog.finished.connect(self._export_dialog_closed)
        self.export_dialog = dialog
        dialog.open()

    def _export_dialog_closed(self) -> None:
        dialog, self.export_dialog = self.export_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _export_to(self, path: str) -> None:
        self.export_folder = Path(path).parent
        store, m = self.source, self.model
        filters, sort, descending = dict(m.filters), m.sort_key, m.descending
        self._run("callcoach-review-export", lambda: actions.export_listed(store, filters, sort, descending, path),
                  lambda n: self.show_message("info", f"Wrote {n:,} session{'' if n == 1 else 's'} to {path}",
                                              MESSAGE_S))

    def open_report(self) -> None:
        """Write the shown session's HTML report (in the background) and open it in the browser."""
        session = self.detail.session
        if session is None:
            return
        try:
            from callcoach.report import write_report  # the report's own dependencies load only now
        except ImportError as exc:
            self.show_message("error", f"the HTML report is not part of this installation ({exc})")
            return
        self._run("callcoach-review-report",
                  lambda: actions.write_private_report(session, write_report, self.data_folder), self._report_written)

    def _report_written(self, path) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.show_message("warning", f"No browser could be started; the report is at {path}")

    def _run(self, name: str, work, on_done) -> None:
        task = Background(work, name)
        task.done.connect(on_done)
        task.failed.connect(lambda message: self.show_message("error", message))
        task.finished.connect(lambda: self._task_finished(task))
        self._tasks.add(task)
        task.start()

    def _task_finished(self, task: Background) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            if self._closed:
                self._close_store()
            self.idle.emit()

    def busy(self) -> bool:
        """An export or a report is still being written (reads and QA notes: see app.py)."""
        return bool(self._tasks)

    # -- showing and closing ---------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._sized:  # the splitter knows its width only now: the table gets its columns' room
            self._sized = True
            self.layout().activate()
            width = self.split.width()
            table = min(self._table_width, max(width - MIN_DETAIL, width // 2))
            self.split.setSizes([table, width - table])


    def closeEvent(self, event) -> None:
        self._save_notes()
        self._closed = True
        self.filters.stop()
        self.message.dismiss()
        if self.export_dialog is not None:
            self.export_dialog.reject()
        if not self._tasks:  # else when the last one has finished
            self._close_store()
        super().closeEvent(event)

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()
        self.store = self.source = self.model.source = None

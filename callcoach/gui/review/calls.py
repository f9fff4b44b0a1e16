"""Calls on a session source from the GUI thread, without ever waiting on the network there.

A local store answers in milliseconds: its calls run at once, as the window always did (a
page of rows, one session, a QA note). A remote one (the team store) may take as long as
a connection timeout, and a search of every transcript on a big local store a second or
so: those calls run on a `Background` thread (`slow`), and the answer comes back to the
GUI thread as a callback. Either way the callbacks run on the GUI thread, and a failure is
one line.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

from PySide6.QtCore import QObject

from callcoach.errors import CallCoachError
from callcoach.gui.bridge import Background
from callcoach.store.source import SessionSource


class SourceCalls(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._tasks: set[Background] = set()

    def run(self, source: SessionSource, name: str, work: Callable[[], Any], on_done: Callable[[Any], None],
            on_failed: Callable[[str], None], *, slow: bool = False) -> None:
        """`work()` then `on_done(result)`, or `on_failed(message)`; off the GUI thread when
        the source is remote or the caller knows this call is `slow`."""
        if not (source.remote or slow):
            try:
                result = work()
            except (CallCoachError, sqlite3.Error, ValueError) as exc:
                on_failed(str(exc))
                return
            on_done(result)
            return
        task = Background(work, name)
        task.done.connect(on_done)
        task.failed.connect(on_failed)
        task.finished.connect(lambda: self._tasks.discard(task))
        self._tasks.add(task)
        task.start()

    def busy(self) -> bool:
        return bool(self._tasks)

"""Review window benchmark: the first page of 10,000 sessions on screen in under a second.

    .venv/bin/python -m benchmarks.review_bench [--sessions 10000] [--utterances 40] [--db PATH]

Creates the same synthetic store as `benchmarks.store_bench` (or uses --db), then times
`ReviewWindow(path)` from construction until the table holds its first page (the store
opened, recovered, counted and the first 200 rows listed) and until the window has been
shown and painted. Also: the next page (scrolling to the bottom), a sort by worst mood,
a filter (one agent, escalated only), and opening one session in the detail view (read,
chart, transcript). Warm: median of 5 fresh windows; cold: median of 3 right after the
store's files were dropped from the page cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.store_bench import evict, populate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--utterances", type=int, default=40, help="per synthetic session")
    parser.add_argument("--db", help="keep the store here (default: a temporary folder)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CALLCOACH_CONFIG_DIR"] = tmp  # default settings, not the developer's
        os.environ["CALLCOACH_POLICY_FILE"] = os.path.join(tmp, "policy.toml")
        path = Path(args.db) if args.db else Path(tmp) / "sessions.db"
        if not path.exists():
            print(f"created {args.sessions} sessions in {populate(path, args.sessions, args.utterances):.1f} s")

        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QApplication

        from callcoach.gui.review.window import ReviewWindow
        from callcoach.settings import Settings

        app = QApplication.instance() or QApplication(["review-bench"])
        settings = Settings()  # once, as `callcoach review` reads them

        def first_page(cold: bool) -> tuple[float, float]:
            """Seconds to the table populated, and to the window shown and painted."""
            if cold:
                evict(path)
            began = time.perf_counter()
            window = ReviewWindow(path, settings)
            listed = time.perf_counter() - began
            assert window.model.rowCount() == min(200, args.sessions), window.model.rowCount()
            window.show()
            window.table.viewport().repaint()
            app.processEvents()
            painted = time.perf_counter() - began
            window.close()
            window.deleteLater()
            app.processEvents()
            return listed, painted

        def step(action) -> float:
            """Seconds for one action on an open window (median of 5)."""
            window = ReviewWindow(path, settings)
            window.show()
            app.processEvents()
            times = []
            for _ in range(5):
                began = time.perf_counter()
                action(window)
                app.processEvents()
                times.append(time.perf_counter() - began)
                window.model.sort_key, window.model.descending, window.model.filters = "started_at", True, {}
                window.model.reload()
            window.close()
            window.deleteLater()
            app.processEvents()
            return statistics.median(times)

        warm = [first_page(cold=False) for _ in range(5)]
        can_evict = hasattr(os, "posix_fadvise")
        cold = [first_page(cold=True) for _ in range(3)] if can_evict else []
        print(f"{'review window, ' + str(args.sessions) + ' sessions':52s} {'warm':>9s} {'cold':>9s}")
        for i, name in enumerate(("construct -> first page listed", "construct -> shown and painted")):
            c = f"{statistics.median(t[i] for t in cold) * 1000:6.1f} ms" if cold else "n/a"
            print(f"{name:52s} {statistics.median(t[i] for t in warm) * 1000:6.1f} ms {c:>9s}")
        for name, action in (
            ("next page (scroll to the bottom)", lambda w: w.table.scrollToBottom()),
            ("sort by worst mood", lambda w: w.model.sort(3, Qt.SortOrder.AscendingOrder)),
            ("filter: one agent, escalated only", lambda w: w.model.set_filters({"agent": "sam", "escalated": True})),
            ("open a session in the detail view", lambda w: w.table.selectRow(3)),
        ):
            print(f"{name:52s} {step(action) * 1000:6.1f} ms")
        print(f"machine: {os.cpu_count()} cores; python {'.'.join(map(str, os.sys.version_info[:3]))}")


if __name__ == "__main__":
    main()

"""The two things the review window writes to disk, run off the GUI thread: the CSV of
the listed sessions and a session's HTML report. No Qt here."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from callcoach.errors import CallCoachError

REPORT_FOLDER = "reports"
REPORT_KEEP_S = 24 * 3600  # a report is a throwaway view of the stored session


def export_listed(store, filters: dict, sort: str, descending: bool, path: str | os.PathLike) -> int:
    """Every session the filters select, in the listing's order, as CSV; the row count."""
    return store.export_csv(store.list_sessions(**filters, sort=sort, descending=descending), path)


def report_folder(data_folder: Path) -> Path:
    """Private (0700) folder for reports under the app's data folder."""
    folder = data_folder / REPORT_FOLDER
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    except OSError as exc:
        raise CallCoachError(f"cannot create the report folder {folder}: {exc.strerror or exc}") from None
    return folder


def write_private_report(session: dict, write_report, data_folder: Path) -> Path:
    """The session's HTML report (`callcoach.report.write_report`) in the private folder;
    older reports there are removed, since each holds a transcript."""
    folder = report_folder(data_folder)
    now = time.time()
    for old in folder.glob("*.html"):
        try:
            if now - old.stat().st_mtime > REPORT_KEEP_S:
                old.unlink()
        except OSError:
            pass
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(session.get("id") or "session"))[:80]
    return Path(write_report(session, folder / f"session-{name}.html"))  # written 0600

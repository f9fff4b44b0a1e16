"""A folder of recordings run through `analyze` as QA would: each session is dated by the
recording's own time (its date tag, else the file's modification time), named after its
file, and the review list tells them apart without opening any."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone

import numpy as np
import pytest
import soundfile as sf

from callcoach.audio.recorded import DatedBy, recorded_at
from callcoach.settings import Settings
from tests import callgen

MONDAY = datetime(2025, 3, 10, 9, 0, 5, tzinfo=timezone.utc)
TUESDAY = datetime(2025, 3, 11, 14, 30, 0, tzinfo=timezone.utc)
WEDNESDAY = datetime(2025, 3, 12, 16, 45, 30, tzinfo=timezone.utc)


def _silence(path, **tags) -> None:
    """A short file with the given tags, written as it is created (FLAC cannot be re-tagged)."""
    with sf.SoundFile(path, "w", 8000, 2, format=path.suffix[1:].upper()) as f:
        for key, value in tags.items():
            setattr(f, key, value)
        f.write(np.zeros((800, 2)))


def _touch(path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_a_date_tag_with_a_time_dates_the_recording(tmp_path):
    path = tmp_path / "tagged.wav"
    _silence(path, date="2025-03-11T14:30:00+00:00")
    _touch(path, WEDNESDAY)
    assert recorded_at(path).when == TUESDAY and recorded_at(path).by is DatedBy.METADATA
    assert recorded_at(path).iso() == "2025-03-11T14:30:00+00:00"


def test_a_day_alone_keeps_the_file_time_on_that_day(tmp_path):
    same_day, other_day = tmp_path / "same.flac", tmp_path / "other.flac"
    local_day = TUESDAY.astimezone().date().isoformat()
    _silence(same_day, date=local_day)
    _silence(other_day, date="2025-01-02")
    _touch(same_day, TUESDAY)
    _touch(other_day, TUESDAY)
    assert recorded_at(same_day).when == TUESDAY and recorded_at(same_day).by is DatedBy.METADATA
    assert recorded_at(other_day).when == datetime(2025, 1, 2).astimezone().astimezone(timezone.utc)


@pytest.mark.parametrize("tags", [{}, {"date": "last Tuesday"}, {"date": "2025"}])
def test_without_a_usable_tag_the_file_time_dates_it(tmp_path, tags):
    path = tmp_path / "call.wav"
    _silence(path, **tags)
    _touch(path, MONDAY)
    assert recorded_at(path).when == MONDAY and recorded_at(path).by is DatedBy.MODIFIED


@pytest.mark.slow
def test_a_folder_of_calls_is_dated_and_named_by_its_recordings(tmp_path, qtbot):
    """Three short calls with the file times of three days: three sessions with those start
    times and file names, which the review list shows apart."""
    from PySide6.QtCore import Qt

    from callcoach.analyze_folder import analyze_folder
    from callcoach.gui.review.session_model import COLUMNS, SessionModel
    from callcoach.store import SessionStore, default_store_path

    folder = tmp_path / "calls"
    folder.mkdir()
    callgen.render_call(callgen.BILLING_CALL[:2], folder / "monday-0900.wav")
    shutil.copy(folder / "monday-0900.wav", folder / "tuesday-1430.wav")
    shutil.copy(folder / "monday-0900.wav", folder / "wednesday-1645.wav")
    days = {"monday-0900.wav": MONDAY, "tuesday-1430.wav": TUESDAY, "wednesday-1645.wav": WEDNESDAY}
    for name, when in days.items():
        _touch(folder / name, when)
    results = analyze_folder(folder, settings=Settings(), agent_name="sam")
    assert [r.error for r in results] == [None, None, None]
    assert {r.path.name: r.summary["started_at"] for r in results} == {n: w.isoformat() for n, w in days.items()}

    store = SessionStore(default_store_path(Settings()))
    stored = store.list_sessions()
    assert [(s["source"], s["started_at"], s["agent"]) for s in stored] == [
        ("wednesday-1645.wav", WEDNESDAY.isoformat(), "sam"), ("tuesday-1430.wav", TUESDAY.isoformat(), "sam"),
        ("monday-0900.wav", MONDAY.isoformat(), "sam")], "newest call first, by when it happened"
    assert store.get(stored[0]["id"])["started_at"] == WEDNESDAY.isoformat()

    model = SessionModel(store)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    shown = [tuple(model.data(model.index(r, c)) for c in range(len(COLUMNS))) for r in range(3)]
    source = [c.key for c in COLUMNS].index("source")
    assert [row[source] for row in shown] == ["wednesday-1645.wav", "tuesday-1430.wav", "monday-0900.wav"]
    date = [c.key for c in COLUMNS].index("started_at")
    assert len({row[date] for row in shown}) == 3, "three different dates"
    assert model.headerData(source, Qt.Orientation.Horizontal) == "Source"

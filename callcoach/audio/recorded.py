"""When a recording was made: its own date tag, else the file's modification time.

A folder of recordings analyzed today must not all be dated today: QA tells the calls apart
by when they happened. libsndfile reads the date tag of WAV (LIST/INFO ICRD), FLAC and Ogg
(Vorbis comment DATE) files; MP3 tags are not read, so an MP3 is dated by its file time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from enum import StrEnum

import soundfile as sf


class DatedBy(StrEnum):
    METADATA = "metadata"  # the file's own date tag
    MODIFIED = "modified"  # the file's modification time


@dataclass(frozen=True)
class RecordedAt:
    when: datetime  # aware, UTC
    by: DatedBy

    def iso(self) -> str:
        return self.when.isoformat(timespec="seconds")


def recorded_at(path: str | os.PathLike) -> RecordedAt:
    """The recording's start time. A tag with a time of day wins; a tag with only a day wins
    too, at the file's modification time when that falls on the same day (a recorder that
    writes the day only still leaves the file's time), else at midnight, local time."""
    modified = datetime.fromtimestamp(os.stat(path).st_mtime, timezone.utc)
    tagged = _date_tag(path)
    if isinstance(tagged, datetime):
        return RecordedAt(_utc(tagged), DatedBy.METADATA)
    if isinstance(tagged, date):
        if modified.astimezone().date() == tagged:
            return RecordedAt(modified.replace(microsecond=0), DatedBy.METADATA)
        return RecordedAt(_utc(datetime.combine(tagged, time())), DatedBy.METADATA)
    return RecordedAt(modified.replace(microsecond=0), DatedBy.MODIFIED)


def _date_tag(path: str | os.PathLike) -> datetime | date | None:
    """The date tag as a time (naive means local) or a day; None when absent or unreadable."""
    try:
        with sf.SoundFile(path) as f:
            raw = (f.copy_metadata().get("date") or "").strip()
    except (sf.LibsndfileError, OSError, RuntimeError):
        return None
    if len(raw) == 10:  # YYYY-MM-DD: a day, no time of day
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:  # a year alone, free text: no use for ordering calls
        return None


def _utc(when: datetime) -> datetime:
    aware = when if when.tzinfo else when.astimezone()  # naive: the machine's local time
    return aware.astimezone(timezone.utc).replace(microsecond=0)

"""Where the store lives, and its folder and files kept private (0700 / 0600)."""

from __future__ import annotations

import os
from pathlib import Path

from callcoach.errors import CallCoachError, one_line
from callcoach.settings import Key, Settings, expand_path

STORE_FILE = "sessions.db"
SIDE_FILES = ("-wal", "-shm", "-journal")


def default_store_path(settings: Settings) -> Path:
    """sessions.db in the `session_folder` setting (IT may set and lock it), else in
    CALLCOACH_DATA_DIR, else in the per-user data folder. `settings`: the process's, read
    once by the command."""
    folder = expand_path(settings.get(Key.SESSION_FOLDER)) or os.environ.get("CALLCOACH_DATA_DIR")
    if not folder:
        from platformdirs import user_data_dir

        folder = user_data_dir("CallCoach", appauthor=False)
    return Path(folder) / STORE_FILE


def private_folder(folder: Path) -> None:
    """Create the folder readable by the user only (0700).

    An existing folder is tightened only when it is CallCoach's own data folder; a folder
    the user pointed CALLCOACH_DATA_DIR at is theirs (the files in it are still 0600).
    """
    created = False
    if not folder.exists():
        try:
            folder.mkdir(mode=0o700, parents=True)
            created = True
        except FileExistsError:
            pass
        except OSError as exc:
            raise CallCoachError(f"cannot create the session folder {folder}: {one_line(exc)}") from None
    if not folder.is_dir():
        raise CallCoachError(f"{folder} is not a folder; cannot keep sessions there")
    if created or folder.name == "CallCoach":
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass


def private_files(path: Path) -> None:
    """The database and its side files (-wal, -shm, -journal): 0600."""
    for candidate in [path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)]:
        try:
            os.chmod(candidate, 0o600)
        except OSError:
            pass

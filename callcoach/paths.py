"""Where CallCoach's shipped assets live: a source checkout, a pip install, or the bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def _asset_dirs() -> list[Path]:
    dirs = []
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files here
    if bundle:
        dirs.append(Path(bundle) / "assets")
    dirs.append(Path(__file__).resolve().parent.parent / "assets")  # checkout / editable install
    dirs.append(Path(sys.prefix) / "share" / "callcoach" / "assets")  # pip install (data-files)
    return dirs


def asset_path(name: str) -> Path:
    """The shipped file `name`; FileNotFoundError naming every place looked in."""
    for folder in _asset_dirs():
        candidate = folder / name
        if candidate.exists():
            return candidate
    looked = ", ".join(str(d) for d in _asset_dirs())
    raise FileNotFoundError(f"asset {name} not found (looked in {looked})")

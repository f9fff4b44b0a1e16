"""`callcoach analyze FOLDER`: every recording in a folder, one after another, under one
progress bar. A file that cannot be analyzed is reported and skipped; the others go on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import soundfile as sf

from callcoach.analyze import analyze_call
from callcoach.audio.files import FileSource
from callcoach.errors import CallCoachError
from callcoach.progress import ProgressBar


@dataclass
class FileResult:
    path: Path
    summary: dict | None = None
    out: Path | None = None
    error: str | None = None


def recordings(folder: str | os.PathLike) -> list[Path]:
    """The audio files directly in `folder` (by the extensions the audio reader knows), sorted."""
    root = Path(folder)
    try:
        entries = sorted(p for p in root.iterdir() if p.is_file())
    except OSError as exc:
        raise CallCoachError(f"cannot read the folder {root}: {exc.strerror or exc}") from None
    known = {f".{ext.lower()}" for ext in sf.available_formats()} | {".oga", ".opus"}
    found = [p for p in entries if p.suffix.lower() in known]
    if not found:
        raise CallCoachError(f"no recordings in {root} (looked for {', '.join(sorted(known))})")
    return found


def analyze_folder(folder: str | os.PathLike, *, out_dir: str | os.PathLike | None = None,
                   on_result: Callable[[int, int, FileResult], None] | None = None, stream=None,
                   **options) -> list[FileResult]:
    """Analyze each recording (options as for analyze_call); JSON files go to `out_dir`,
    named after the recordings. The bar's fraction is by audio duration, not file count."""
    files = recordings(folder)
    out_root = Path(out_dir) if out_dir else None
    if out_root:
        try:
            out_root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CallCoachError(f"cannot create {out_root}: {exc.strerror or exc}") from None
    durations = [_duration(p) for p in files]
    total = sum(durations) or 1.0
    state = {"done": 0.0, "source": None, "current": 0.0}

    def fraction() -> float:
        source: FileSource | None = state["source"]
        playing = source.progress * state["current"] if source else 0.0
        return (state["done"] + playing) / total

    def watch(source: FileSource) -> None:
        state["source"] = source

    results = []
    with ProgressBar(f"analyzing {len(files)} recordings", fraction, stream):
        for i, (path, seconds) in enumerate(zip(files, durations)):
            state.update(source=None, current=seconds)
            result = FileResult(path, out=_out_path(out_root, path, files) if out_root else None)
            try:
                result.summary = analyze_call(call=str(path), out=str(result.out) if result.out else None,
                                              progress=False, on_source=watch, **options)
            except CallCoachError as exc:
                result.error = str(exc)
            state.update(done=state["done"] + seconds, source=None)
            results.append(result)
            if on_result:
                on_result(i + 1, len(files), result)
    return results


def _duration(path: Path) -> float:
    try:
        return float(sf.info(str(path)).duration)
    except Exception:  # unreadable: analyze_call will say why; it adds nothing to the bar
        return 0.0


def _out_path(root: Path, path: Path, files: list[Path]) -> Path:
    """call1.wav -> call1.json, unless call1.flac is there too: then call1.wav.json."""
    shared_stem = sum(p.stem == path.stem for p in files) > 1
    return root / (f"{path.name}.json" if shared_stem else f"{path.stem}.json")

"""A terminal progress bar for long work, drawn from a background thread."""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable


class ProgressBar:
    """Polls `fraction()` and redraws one line on stderr; silent when stderr is not a terminal."""

    def __init__(self, label: str, fraction: Callable[[], float], stream=None):
        self._label = label
        self._fraction = fraction
        self._stream = stream or sys.stderr
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def __enter__(self) -> ProgressBar:
        if self._stream.isatty():
            self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
            self._draw(final=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._draw()

    def _draw(self, final: bool = False) -> None:
        frac = 1.0 if final else min(1.0, max(0.0, self._fraction()))
        width = 30
        filled = int(frac * width)
        elapsed = time.monotonic() - self._started
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if final else ""
        self._stream.write(f"\r{self._label} [{bar}] {frac * 100:5.1f}%  {elapsed:5.1f}s{end}")
        self._stream.flush()

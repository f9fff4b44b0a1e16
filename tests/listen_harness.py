"""`callcoach listen --events` as an outside observer sees it: the real command in its own
process, every line it prints stamped with this process's clock the moment it is read.

Used by the device tests and by benchmarks/live_latency.py, which measures latency from the
moment a turn's audio is played to the moment its text line appears.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Line:
    at: float  # time.monotonic() when the line was read
    event: dict


class Listen:
    """A running `callcoach listen --events` (stop() ends it with SIGTERM, as a user would)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, cpu_affinity: set[int] | None = None):
        command = [sys.executable, "-m", "callcoach", "listen", "--events", *args]
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})}, bufsize=1)
        self.lines: list[Line] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.stderr = ""

    def _read(self) -> None:
        for raw in self.proc.stdout:
            at = time.monotonic()
            try:
                event = json.loads(raw)
            except ValueError:
                event = {"type": "unparsed", "text": raw.rstrip("\n")}
            with self._cond:
                self.lines.append(Line(at, event))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until predicate(list of Lines) holds, or the process has ended."""
        with self._cond:
            self._cond.wait_for(lambda: predicate(self.lines) or self.proc.poll() is not None, timeout)
            return predicate(self.lines)

    def ready(self, timeout: float = 60) -> float:
        """When the `ready` line came (model loaded, devices open); fails with stderr if never."""
        if not self.wait_for(lambda lines: any(line.event.get("type") == "ready" for line in lines), timeout):
            self.stop()
            raise AssertionError(f"listen never became ready:\n{self.stderr}")
        return next(line.at for line in self.lines if line.event.get("type") == "ready")

    def of(self, kind: str, speaker: str | None = None) -> list[Line]:
        with self._cond:
            return [line for line in self.lines if line.event.get("type") == kind
                    and (speaker is None or line.event.get("speaker") == speaker)]

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for the session to be written; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        self.stderr = self.proc.stderr.read()
        self.proc.stderr.close()
        return self.proc.returncode

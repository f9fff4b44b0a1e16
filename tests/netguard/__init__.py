"""Run commands with the internet off limits, and collect every attempt to use it.

Two layers: `sitecustomize.py` (this folder on PYTHONPATH) refuses internet sockets and
host name lookups inside any Python process; and, where strace works, every socket() and
connect() system call of the whole process tree is traced, so native code (the model
runtime, Qt, PortAudio) is covered too, and so is a frozen bundle, where no
sitecustomize runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

GUARD_DIR = Path(__file__).resolve().parent
_STRACE = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=socket,connect", "-e", "signal=none"]
_INTERNET = re.compile(r"\bAF_INET6?\b")


def strace_works() -> bool:
    if not shutil.which("strace"):
        return False
    probe = subprocess.run([*_STRACE, "-o", os.devnull, "true"], capture_output=True)
    return probe.returncode == 0  # ptrace may be forbidden in a container


class NetGuard:
    def __init__(self, folder: Path, use_strace: bool | None = None):
        self.folder = folder
        self.log = folder / "netguard.log"
        self.trace = folder / "netguard.strace"
        self.strace = strace_works() if use_strace is None else use_strace

    def command(self, cmd: list[str]) -> list[str]:
        return [*_STRACE, "-o", str(self.trace), *cmd] if self.strace else list(cmd)

    def env(self, base: dict | None = None) -> dict:
        env = dict(os.environ if base is None else base)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(GUARD_DIR), env.get("PYTHONPATH")) if p)
        env["NETGUARD_LOG"] = str(self.log)
        # A fresh cache: state cached by an earlier run (onnxruntime's telemetry uploads on
        # a first run) must not hide an attempt.
        env["XDG_CACHE_HOME"] = str(self.folder / "cache")
        return env

    def attempts(self) -> list[str]:
        """Every blocked Python-level attempt, and every internet socket the kernel saw."""
        found = self.log.read_text().split("\n\n") if self.log.exists() else []
        if self.trace.exists():
            found += [line for line in self.trace.read_text().splitlines() if _INTERNET.search(line)]
        return [f for f in found if f.strip()]

"""A real X desktop for tests and screenshots: Xvfb, a window manager with a taskbar and a
system tray (IceWM), and a compositor (xcompmgr) so window opacity is real. Windows are
inspected and driven with xdotool, xwininfo and xprop, like a user's desktop would be."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from typing import Callable

TOOLS = ("Xvfb", "icewm", "xcompmgr", "xdotool", "xprop", "xwininfo")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if not shutil.which(tool)]


def wait_until(predicate: Callable[[], object], timeout: float, every: float = 0.05):
    """Poll a condition (another process's state) until it holds; its value, or None."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


class Desktop:
    def __init__(self, size: str = "1280x800"):
        self.size = size
        self.display = None
        self._procs: list[subprocess.Popen] = []

    def __enter__(self) -> Desktop:
        read, write = os.pipe()
        server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{self.size}x24",
                                   "-nolisten", "tcp"], pass_fds=(write,), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as fh:
            number = fh.readline().strip()
        self._procs.append(server)
        if not number:
            self.__exit__()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        for command in (["icewm"], ["xcompmgr"]):
            self._procs.append(subprocess.Popen(command, env=self.env(), stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL))
        # The taskbar's tray is up once IceWM owns the tray selection.
        if not wait_until(lambda: "_NET_SYSTEM_TRAY" in self.x("xprop", "-root"), 10):
            raise RuntimeError("IceWM did not start its system tray")
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self._procs):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display, **extra}

    def x(self, *command: str) -> str:
        """Run an X tool on this desktop; its output ("" when it fails)."""
        done = subprocess.run(command, env=self.env(), capture_output=True, text=True, timeout=30)
        return done.stdout if done.returncode == 0 else ""

    def windows(self, name: str) -> list[str]:
        """Ids of visible windows whose title is exactly `name`."""
        return self.x("xdotool", "search", "--onlyvisible", "--name", f"^{re.escape(name)}$").split()

    def active_name(self) -> str:
        return self.x("xdotool", "getactivewindow", "getwindowname").strip()

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        """x, y, width, height on the screen."""
        info = self.x("xwininfo", "-id", window)
        get = {k: int(re.search(rf"{k}:\s+(-?\d+)", info).group(1))
               for k in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")}
        return tuple(get.values())

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.x("xdotool", "mousemove", "--sync", str(x), str(y), "click", str(button))

    def screenshot(self, path) -> None:
        """The whole screen as a PNG (grabbed by Qt, in a process of its own on this display)."""
        grab = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
                "sys.exit(not app.primaryScreen().grabWindow(0).save(sys.argv[1]))")
        subprocess.run([sys.executable, "-c", grab, str(path)], env=self.env(QT_QPA_PLATFORM="xcb"), check=True,
                       timeout=30)

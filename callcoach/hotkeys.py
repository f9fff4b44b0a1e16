"""The system-wide start/stop shortcut.

The widget never takes keyboard focus (the agent types in the CRM), so a Qt shortcut would
only fire in the rare moment a CallCoach window is active. The key is registered with the
OS instead: on X11 with XGrabKey on the root window, on Windows with RegisterHotKey. Each
runs its own thread with its own connection; `on_press` is called there and must only post.

macOS (needs the accessibility permission) and Wayland (no global grabs) have no backend:
`register` raises HotkeyUnavailable and the widget keeps its in-window shortcut.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

from callcoach.errors import CallCoachError

MODIFIERS = ("Ctrl", "Shift", "Alt", "Meta")
_KEY_NAMES = {"space": "space", "return": "Return", "enter": "Return", "tab": "Tab", "pause": "Pause",
              "insert": "Insert", "home": "Home", "end": "End", "pgup": "Prior", "pgdown": "Next",
              "scrolllock": "Scroll_Lock"}


class HotkeyUnavailable(CallCoachError):
    pass


@dataclass(frozen=True)
class Hotkey:
    modifiers: frozenset[str]
    key: str  # an X keysym name: "space", "F9", "k"

    def __str__(self) -> str:
        mods = [m for m in MODIFIERS if m in self.modifiers]
        return "+".join(mods + [self.key[0].upper() + self.key[1:]])  # "space" -> "Space", "k" -> "K"


def parse(text: str) -> Hotkey:
    """"Ctrl+Shift+Space" -> Hotkey; at least one modifier, so typing never triggers it."""
    parts = [p.strip() for p in str(text).split("+")]
    if len(parts) < 2 or not all(parts):
        raise ValueError(f"{text!r} is not a shortcut like Ctrl+Shift+Space")
    mods = set()
    for part in parts[:-1]:
        name = part.capitalize().replace("Control", "Ctrl").replace("Win", "Meta").replace("Super", "Meta")
        if name not in MODIFIERS:
            raise ValueError(f"{part!r} is not a modifier ({', '.join(MODIFIERS)})")
        mods.add(name)
    key = parts[-1]
    low = key.lower()
    if low in _KEY_NAMES:
        key = _KEY_NAMES[low]
    elif len(key) == 1 and key.isascii() and key.isalnum():
        key = low
    elif low[:1] == "f" and low[1:].isdigit() and 1 <= int(low[1:]) <= 24:
        key = "F" + low[1:]
    else:
        raise ValueError(f"{key!r} is not a key a shortcut can use (a letter, digit, F1-F24, Space, ...)")
    return Hotkey(frozenset(mods), key)


def valid(text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def register(text: str, on_press: Callable[[], None], display: str | None = None):
    """Grab the shortcut system-wide; returns a handle with close(). Raises HotkeyUnavailable."""
    try:
        hotkey = parse(text)
    except ValueError as exc:
        raise HotkeyUnavailable(str(exc)) from None
    if sys.platform == "win32":
        return _WindowsHotkey(hotkey, on_press)
    if sys.platform == "darwin":
        raise HotkeyUnavailable("a system-wide shortcut needs the accessibility permission on macOS")
    display = display or os.environ.get("DISPLAY")
    if not display:
        raise HotkeyUnavailable("a system-wide shortcut needs X11 (this desktop has no X display)")
    return _X11Hotkey(hotkey, on_press, display)


class _Listener:
    """A thread that registers the key, reports whether that worked, then listens."""

    def __init__(self, hotkey: Hotkey, on_press: Callable[[], None]):
        self.hotkey = hotkey
        self.on_press = on_press
        self._ready = threading.Event()
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name="callcoach-hotkey", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        if self._error or not self._ready.is_set():
            self._thread.join(1)
            raise HotkeyUnavailable(self._error or f"{hotkey} could not be registered in time")

    def _run(self) -> None:
        try:
            self._listen()
        except HotkeyUnavailable as exc:
            self._error = str(exc)
            self._ready.set()


# --- X11 -------------------------------------------------------------------------------------

_KEY_PRESS, _KEY_RELEASE = 2, 3
_X_MODS = {"Shift": 1, "Ctrl": 4, "Alt": 8, "Meta": 64}
_LOCKS = (0, 2, 16, 2 | 16)  # CapsLock and NumLock must not stop the shortcut working
_BAD_ACCESS = 10
_BOUNCE_S = 0.25


class _XEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("pad", ctypes.c_long * 24)]


class _XErrorEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("display", ctypes.c_void_p), ("resourceid", ctypes.c_ulong),
                ("serial", ctypes.c_ulong), ("error_code", ctypes.c_ubyte), ("request_code", ctypes.c_ubyte),
                ("minor_code", ctypes.c_ubyte)]


_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_XErrorEvent))


def _xlib():
    name = ctypes.util.find_library("X11")
    if not name:
        raise HotkeyUnavailable("libX11 is not installed")
    x = ctypes.CDLL(name)
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XDefaultRootWindow.restype = ctypes.c_ulong
    x.XStringToKeysym.restype = ctypes.c_ulong
    x.XStringToKeysym.argtypes = [ctypes.c_char_p]
    x.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x.XKeysymToKeycode.restype = ctypes.c_ubyte
    x.XSetErrorHandler.restype = ctypes.c_void_p
    x.XSetErrorHandler.argtypes = [ctypes.c_void_p]
    for fn in ("XDefaultRootWindow", "XConnectionNumber", "XPending", "XCloseDisplay"):
        getattr(x, fn).argtypes = [ctypes.c_void_p]
    x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(_XEvent)]
    x.XGrabKey.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int,
                           ctypes.c_int, ctypes.c_int]
    x.XUngrabKey.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_ulong]
    x.XkbSetDetectableAutoRepeat.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    return x


class _X11Hotkey(_Listener):
    def __init__(self, hotkey: Hotkey, on_press: Callable[[], None], display: str):
        self.display_name = display
        self._wake_r, self._wake_w = os.pipe()
        try:
            super().__init__(hotkey, on_press)
        except HotkeyUnavailable:
            self._close_pipe()
            raise

    def _listen(self) -> None:
        x = _xlib()
        d = x.XOpenDisplay(self.display_name.encode())
        if not d:
            raise HotkeyUnavailable(f"cannot open the X display {self.display_name}")
        try:
            root = x.XDefaultRootWindow(d)
            code = x.XKeysymToKeycode(d, x.XStringToKeysym(self.hotkey.key.encode()))
            if not code:
                raise HotkeyUnavailable(f"this keyboard has no {self.hotkey.key} key")
            mods = sum(_X_MODS[m] for m in self.hotkey.modifiers)
            self._grab(x, d, root, code, mods)
            self._ready.set()
            self._loop(x, d)
            for lock in _LOCKS:
                x.XUngrabKey(d, code, mods | lock, root)
            x.XSync(d, 0)
        finally:
            x.XCloseDisplay(d)

    def _grab(self, x, d, root, code: int, mods: int) -> None:
        """Grab with every lock state; another program holding the key gives BadAccess."""
        errors = []

        def on_error(_display, event):
            errors.append(event.contents.error_code)
            return 0

        handler = _ERROR_HANDLER(on_error)
        # Xlib's default handler would exit the process; ours is set only around the grab.
        previous = x.XSetErrorHandler(ctypes.cast(handler, ctypes.c_void_p))
        try:
            for lock in _LOCKS:
                x.XGrabKey(d, code, mods | lock, root, 1, 1, 1)  # GrabModeAsync for both
            x.XSync(d, 0)
        finally:
            x.XSetErrorHandler(previous)
        if errors:
            taken = _BAD_ACCESS in errors
            raise HotkeyUnavailable(f"{self.hotkey} is already used by another program" if taken
                                    else f"{self.hotkey} could not be registered (X error {errors[0]})")
        x.XkbSetDetectableAutoRepeat(d, 1, None)  # holding the key: one press, not a stream

    def _loop(self, x, d) -> None:
        fd = x.XConnectionNumber(d)
        event = _XEvent()
        armed = True  # fire once per press, whatever the key repeat does
        released_at = 0.0
        while True:
            ready, _, _ = select.select([fd, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            while x.XPending(d):
                x.XNextEvent(d, ctypes.byref(event))
                if event.type == _KEY_PRESS and armed:
                    armed = False
                    # Letting go of the modifiers first can repeat the key once more; a
                    # press this soon after a release is that, not a second toggle.
                    if time.monotonic() - released_at > _BOUNCE_S:
                        self.on_press()
                elif event.type == _KEY_RELEASE:
                    armed = True
                    released_at = time.monotonic()

    def close(self) -> None:
        if self._wake_w is not None:
            os.write(self._wake_w, b"x")
            self._thread.join(2)
            self._close_pipe()

    def _close_pipe(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._wake_r = self._wake_w = None


# --- Windows ---------------------------------------------------------------------------------

_WIN_MODS = {"Alt": 0x1, "Ctrl": 0x2, "Shift": 0x4, "Meta": 0x8}
_MOD_NOREPEAT = 0x4000
_WM_HOTKEY, _WM_QUIT = 0x0312, 0x0012
_VK = {"space": 0x20, "Return": 0x0D, "Tab": 0x09, "Pause": 0x13, "Insert": 0x2D, "Home": 0x24,
       "End": 0x23, "Prior": 0x21, "Next": 0x22, "Scroll_Lock": 0x91}


def _virtual_key(key: str) -> int:
    if key in _VK:
        return _VK[key]
    if key.startswith("F") and key[1:].isdigit():
        return 0x6F + int(key[1:])  # VK_F1 is 0x70
    return ord(key.upper())  # letters and digits are their ASCII codes


class _WindowsHotkey(_Listener):
    """RegisterHotKey on a thread with its own message loop (WM_HOTKEY goes to that thread)."""

    def _listen(self) -> None:
        from ctypes import wintypes

        user32 = ctypes.windll.user32
        self._thread_id = ctypes.windll.kernel32.GetCurrentThreadId()
        mods = sum(_WIN_MODS[m] for m in self.hotkey.modifiers) | _MOD_NOREPEAT
        if not user32.RegisterHotKey(None, 1, mods, _virtual_key(self.hotkey.key)):
            raise HotkeyUnavailable(f"{self.hotkey} is already used by another program")
        self._ready.set()
        msg = wintypes.MSG()
        try:
            while user32.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
                if msg.message == _WM_HOTKEY:
                    self.on_press()
        finally:
            user32.UnregisterHotKey(None, 1)

    def close(self) -> None:
        ctypes.windll.user32.PostThreadMessageW(self._thread_id, _WM_QUIT, 0, 0)
        self._thread.join(2)

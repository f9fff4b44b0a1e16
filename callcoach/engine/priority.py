"""The model's compute threads run at a lower scheduling priority than the rest of the app.

On a busy PC (the agent's softphone and browser take the cores too) the widget's GUI thread
and the audio intake wait for a core like everyone else; CTranslate2's threads, busy for
~0.2 s per transcription, were among the threads they waited for (event-loop stalls of
73-133 ms with other busy processes). Transcription can wait a little; the window and the
audio cannot, nor should the agent's softphone wait for us.

Only threads that never hold Python's GIL are lowered: CTranslate2's worker and its OpenMP
team. The Python thread that hands them work (`callcoach-transcriber`) keeps normal
priority, because a low-priority thread holding the GIL would stall the GUI thread in turn
(priority inversion). Voice activity runs on the intake thread, also at normal priority: it
is cheap (~2 % of a core) and must keep up with real time.

* Linux: nice is per thread, and a thread starts with its creator's nice. The model is
  loaded on a short-lived thread with a raised nice, so CTranslate2's worker thread, created
  by the load, inherits it, and so does the OpenMP team that worker creates later.
* Windows: threads do not inherit priority; threads created while the model loads and warms
  up are set to THREAD_PRIORITY_BELOW_NORMAL one by one. Windows priorities are strict
  (below-normal runs only when no normal thread wants the core, plus its anti-starvation
  boosts), so on cores kept fully busy transcription lags more than on Linux. (Not run
  here: no Windows machine.)
* Elsewhere (macOS): unchanged.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Callable, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Added to the process's nice value (Linux). A nice-5 thread weighs ~1/3 of a nice-0 one:
# the GUI, the audio intake and the agent's other programs (a softphone's audio) come first,
# and transcription still gets enough of a shared core to keep up. Beside two busy
# processes on 2 cores (benchmarks/cpu_load.py): final text p50 1.3 s at nice 5, 3.2-3.6 s
# at nice 10; the GUI's longest stall 20-31 ms at nice 0, 5 and 10 alike (what fixed the
# stalls was fewer spinning threads: transcriber.default_cpu_threads, _single_threaded_blas).
BACKGROUND_NICE = 5


def at_background_priority(fn: Callable[[], T]) -> T:
    """Run `fn()` (which creates threads, e.g. loads a model) so that the threads it creates
    run at background priority; returns its result, raises what it raises."""
    if sys.platform.startswith("linux"):
        return _on_lowered_thread(fn)
    if sys.platform == "win32":
        return _lowering_new_threads(fn)
    return fn()


def _on_lowered_thread(fn: Callable[[], T]) -> T:
    outcome: dict = {}

    def run() -> None:
        tid = threading.get_native_id()
        try:
            nice = min(19, os.getpriority(os.PRIO_PROCESS, tid) + BACKGROUND_NICE)
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        except OSError as exc:  # e.g. a sandbox refusing it: run at normal priority
            log.warning("could not lower the model threads' priority: %s", exc)
        try:
            outcome["result"] = fn()
        except BaseException as exc:  # re-raised on the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="callcoach-model-load", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome.pop("error")
    return outcome["result"]


def _lowering_new_threads(fn: Callable[[], T]) -> T:
    before = _windows_thread_ids()
    result = fn()
    for tid in _windows_thread_ids() - before:
        _windows_lower(tid)
    return result


def _windows_thread_ids() -> set[int]:
    """Ids of this process's threads (Toolhelp snapshot)."""
    import ctypes
    from ctypes import wintypes

    class THREADENTRY32(ctypes.Structure):
        _fields_ = [("dwSize", wintypes.DWORD), ("cntUsage", wintypes.DWORD),
                    ("th32ThreadID", wintypes.DWORD), ("th32OwnerProcessID", wintypes.DWORD),
                    ("tpBasePri", wintypes.LONG), ("tpDeltaPri", wintypes.LONG), ("dwFlags", wintypes.DWORD)]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateToolhelp32Snapshot.restype = wintypes.HANDLE
    kernel32.CreateToolhelp32Snapshot.argtypes = [wintypes.DWORD, wintypes.DWORD]
    kernel32.Thread32First.argtypes = kernel32.Thread32Next.argtypes = [wintypes.HANDLE,
                                                                        ctypes.POINTER(THREADENTRY32)]
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    snapshot = kernel32.CreateToolhelp32Snapshot(0x00000004, 0)  # TH32CS_SNAPTHREAD
    if snapshot in (None, wintypes.HANDLE(-1).value):
        return set()
    pid, ids = os.getpid(), set()
    try:
        entry = THREADENTRY32()
        entry.dwSize = ctypes.sizeof(THREADENTRY32)
        ok = kernel32.Thread32First(snapshot, ctypes.byref(entry))
        while ok:
            if entry.th32OwnerProcessID == pid:
                ids.add(entry.th32ThreadID)
            ok = kernel32.Thread32Next(snapshot, ctypes.byref(entry))
    finally:
        kernel32.CloseHandle(snapshot)
    return ids


def _windows_lower(tid: int) -> None:
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenThread.restype = wintypes.HANDLE
    kernel32.OpenThread.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    kernel32.SetThreadPriority.argtypes = [wintypes.HANDLE, ctypes.c_int]
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    handle = kernel32.OpenThread(0x0020, False, tid)  # THREAD_SET_INFORMATION
    if not handle:
        return  # it has ended already
    try:
        if not kernel32.SetThreadPriority(handle, -1):  # THREAD_PRIORITY_BELOW_NORMAL
            log.warning("could not lower thread %d's priority (error %d)", tid, ctypes.get_last_error())
    finally:
        kernel32.CloseHandle(handle)

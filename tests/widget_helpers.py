"""What the widget tests share: a real event loop to wait in, the event-loop stall meter,
and a fixture that fails a test which leaves a background thread running.

`run_until` spins a real QEventLoop (not QTest.qWait, which sleeps 10 ms between
rounds of events) so a stall measured meanwhile is the application's, not the test's.
"""

from __future__ import annotations

import time
from typing import Callable

import pytest
from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from callcoach.gui.bridge import running_threads

THREAD_GRACE_S = 15.0  # a stopped call still finishes its last utterance


def run_until(predicate: Callable[[], bool], timeout_s: float, poll_ms: int = 20) -> bool:
    """Run the Qt event loop until predicate() holds; False on timeout."""
    if predicate():
        return True
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    result = {"ok": False}

    def check():
        if predicate():
            result["ok"] = True
            loop.quit()
        elif time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(poll_ms)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    return result["ok"]


class StallMeter(QObject):
    """A 10 ms timer on the GUI thread; the longest gap between its ticks is how long the
    event loop was kept from running, and `over(limit_s)` counts the gaps longer than that.

    Why a count as well as the longest: a stall the application causes recurs (every
    utterance, every garbage collection, every prompt), while on a shared 2-core machine the
    operating system now and then keeps any thread off the CPU once for 60 ms (seen once
    in CI). The tests allow that one, never a second, and never a freeze.
    """

    def __init__(self, interval_ms: int = 10):
        super().__init__()
        self.interval_ms = interval_ms
        self.max_gap_s = 0.0
        self.gaps_s: list[float] = []  # every gap over 2.5 intervals, in order
        # The GUI thread's own CPU time in each of those gaps: near the gap, the application
        # was working; near zero, the thread was kept off the CPU (or waited for the GIL).
        self.gaps_cpu_s: list[float] = []
        self.ticks = 0
        self._last: float | None = None
        self._last_cpu = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = None
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def over(self, limit_s: float) -> int:
        return sum(gap > limit_s for gap in self.gaps_s)

    def assert_no_recurring_stall(self, limit_s: float, freeze_s: float, what: str) -> None:
        """At most one gap over `limit_s` (a scheduling hiccup), and none over `freeze_s`."""
        long_ones = [f"{gap * 1000:.0f}" for gap in self.gaps_s if gap > limit_s]
        assert len(long_ones) <= 1, f"{what}: the GUI thread stalled over {limit_s * 1000:.0f} ms " \
            f"{len(long_ones)} times ({', '.join(long_ones)} ms)"
        assert self.max_gap_s < freeze_s, f"{what}: the GUI thread froze {self.max_gap_s * 1000:.0f} ms"

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self._last is not None:
            gap = now - self._last
            self.max_gap_s = max(self.max_gap_s, gap)
            if gap > 2.5 * self.interval_ms / 1000:
                self.gaps_s.append(gap)
                self.gaps_cpu_s.append(cpu - self._last_cpu)
        self._last, self._last_cpu = now, cpu
        self.ticks += 1


def wait_threads_finished(timeout_s: float = THREAD_GRACE_S) -> list[str]:
    """Let background threads that are ending finish; the names of those still running."""
    run_until(lambda: not running_threads(), timeout_s)
    return running_threads()


@pytest.fixture
def no_leftover_threads(qapp):
    """Fails the test if a call, meter or device listing thread outlives it."""
    yield
    left = wait_threads_finished()
    assert not left, f"background threads still running after the test: {left}"


def shut_down(coach) -> None:
    """Stop a CoachApp's call and meters, close its window, wait for its threads."""
    coach.shutdown()
    wait_threads_finished()
    coach.window.deleteLater()
    QApplication.processEvents()


def items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def pick(combo, text: str) -> None:
    """Choose an entry as the agent does (activated, not only a new current index)."""
    index = combo.findText(text)
    assert index >= 0, f"{text!r} is not in {items(combo)}"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)

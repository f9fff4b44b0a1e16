"""The transcription backlog and the load policy that keeps it bounded.

Policy, in order (also in the README):
1. Final text always comes before partial text; finals are never dropped. A final may be
   started speculatively when a pause begins, and is withdrawn if the speaker goes on.
2. Only the newest partial per speaker is kept; an older one still waiting is replaced.
3. No partial is queued while any final is waiting.
4. Finals that pile up are transcribed together in one batch (up to `max_batch`), which
   costs far less than one by one.
5. When `max_backlog` finals are waiting, `put_final` blocks the audio intake. For files this
   is plain back-pressure; for live devices the capture queue then fills and its blocks are
   dropped and counted, so lag and memory stay bounded.
"""

from __future__ import annotations

import threading
from collections import deque

from callcoach.engine.transcriber import Job


class WorkQueue:
    def __init__(self, max_batch: int = 8, max_backlog: int = 16):
        self.max_batch = max_batch
        self.max_backlog = max_backlog
        self._finals: deque[Job] = deque()
        self._partials: dict[str, Job] = {}
        self._busy = False
        self._closed = False
        self.max_waiting = 0  # the most finals that have waited at once (it stays <= max_backlog)
        self._cond = threading.Condition()

    def put_final(self, job: Job) -> None:
        with self._cond:
            while len(self._finals) >= self.max_backlog and not self._closed:
                self._cond.wait()
            self._finals.append(job)
            self.max_waiting = max(self.max_waiting, len(self._finals))
            self._partials.pop(job.role, None)  # the utterance is over; its partial is moot
            self._cond.notify_all()

    def withdraw(self, job: Job) -> bool:
        """Take back a job not yet started; False if the worker already has it."""
        with self._cond:
            try:
                self._finals.remove(job)
            except ValueError:
                return False
            self._cond.notify_all()
            return True

    def offer_partial(self, job: Job) -> bool:
        """Queue a partial unless finals are waiting; returns whether it was taken."""
        with self._cond:
            if self._finals or self._closed:
                return False
            self._partials[job.role] = job
            self._cond.notify_all()
            return True

    def partial_waiting(self, role: str) -> bool:
        with self._cond:
            return role in self._partials

    @property
    def finals_waiting(self) -> int:
        with self._cond:
            return len(self._finals)

    def take(self) -> list[Job] | None:
        """Next batch for the worker; None once closed and empty."""
        with self._cond:
            while not self._finals and not self._partials and not self._closed:
                self._cond.wait()
            if self._finals:
                n = min(self.max_batch, len(self._finals))
                batch = [self._finals.popleft() for _ in range(n)]
            elif self._partials:
                batch = list(self._partials.values())
                self._partials.clear()
            else:
                return None
            self._busy = True
            self._cond.notify_all()
            return batch

    def done(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def wait_idle(self) -> None:
        """Block until every final queued so far has been transcribed."""
        with self._cond:
            while self._finals or self._busy:
                self._cond.wait()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._partials.clear()
            self._cond.notify_all()

"""What the review window reads sessions from: the store on this PC or the team store.

Both implement `SessionSource`; the window depends on this protocol only. Listing keys are
LIST_COLUMNS; filters are the keyword arguments of `list_sessions` (see
`SessionReading.list_sessions`), `search` included.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class SessionSource(Protocol):
    # True when every call may wait on the network: the window then calls it off the GUI thread.
    remote: bool

    def list_sessions(self, *, sort: str = "started_at", descending: bool = True, limit: int | None = None,
                      offset: int = 0, **filters: Any) -> list[dict]: ...

    def count_sessions(self, **filters: Any) -> int: ...

    def get(self, session_id: str) -> dict | None: ...

    # The sessions `get` gives, as a stream (the team figures read thousands).
    def get_many(self, session_ids: Sequence[str]) -> Iterator[dict]: ...

    def set_qa(self, session_id: str, note: str | None, score: float | None, *, redact: bool = True) -> bool: ...

    def export_csv(self, rows: Iterable[dict], path: str | os.PathLike) -> int: ...

    def close(self) -> None: ...

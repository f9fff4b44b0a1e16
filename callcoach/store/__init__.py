"""The crash-safe session store: one SQLite file (WAL) in the user's data folder.

A call is written while it happens, as a journal of events (utterances, prompts, agent
feedback, notices such as device gaps), by `StoreWriter` on its own thread, committed at
least every 0.5 s. A process killed mid-call therefore loses at most the last half second
or so; on the next start `SessionStore.recover()` marks the call `incomplete` and `get()`
rebuilds its session JSON from the journal. A call that ends normally gets its session
summary (DESIGN.md, `callcoach.session.v1`) and its journal is dropped.

What is stored has been through `callcoach.redact` first (unless redaction is switched off
and no policy forces it): the record never holds a card number, even when the live
transcript on screen did. The folder is 0700 and the files 0600.

Nothing a damaged record holds reaches the caller as an exception: a row or a JSON
document that cannot be read is shown as a `damaged` session. A file that is not a
session store at all gives one line (CallCoachError) and is left exactly as it was.

No Qt here: the widget, the QA review and the tests all use this module.

The package: `database` (SessionStore: opening, schema, writing, CSV export) with
`reading` (its listing and reading side), `writer` (StoreWriter), `redaction` (what is
stored, redacted), `events` (journal events <-> JSON), `paths` (where the file lives, its
permissions), `schema` (the file's layout), `search` (the words-said filter), `source` (the
SessionSource protocol the review window reads, which the team store implements too) and
`common` (shared helpers).
"""

from callcoach.store.common import HEARTBEAT_S, STALE_S, summary_figures
from callcoach.store.database import SessionStore
from callcoach.store.events import STORED_KINDS
from callcoach.store.paths import SIDE_FILES, STORE_FILE, default_store_path
from callcoach.store.redaction import EventRedactor, redact_text, redacted_recorder
from callcoach.store.schema import LIST_COLUMNS, SCHEMA_VERSION, SORT_KEYS, STATUSES
from callcoach.store.writer import StoreWriter

__all__ = ["SessionStore", "StoreWriter", "default_store_path", "redacted_recorder", "EventRedactor",
           "redact_text", "summary_figures", "STATUSES", "LIST_COLUMNS", "SORT_KEYS", "STORE_FILE",
           "SIDE_FILES", "SCHEMA_VERSION", "HEARTBEAT_S", "STALE_S", "STORED_KINDS"]

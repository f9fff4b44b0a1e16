"""The crash-safe session store (moved to callcoach.store.database; split up next)."""

from callcoach.store.database import (  # noqa: F401
    HEARTBEAT_S,
    SCHEMA_VERSION,
    SIDE_FILES,
    LIST_COLUMNS,
    SORT_KEYS,
    STALE_S,
    STATUSES,
    STORE_FILE,
    STORED_KINDS,
    EventRedactor,
    SessionStore,
    StoreWriter,
    default_store_path,
    redact_text,
    redacted_recorder,
    summary_figures,
)

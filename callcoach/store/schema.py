"""The store file's layout: its SQLite schema and version, session statuses, listing columns."""

SCHEMA_VERSION = 2  # 2: the outbox of uploads to the team store; sessions' revision and redacted
STATUSES = ("live", "complete", "incomplete", "damaged")
SQLITE_MAGIC = b"SQLite format 3\x00"

# Columns list_sessions() returns (everything but the summary JSON), in CSV order too.
LIST_COLUMNS = ("id", "started_at", "agent", "source", "status", "duration_s", "worst_mood",
                "escalated", "prompts_shown", "prompts_acted", "qa_score", "qa_note", "updated_at")
SORT_KEYS = ("started_at", "duration_s", "worst_mood", "escalated", "prompts_shown", "prompts_acted",
             "qa_score", "agent", "status", "updated_at")

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id            TEXT PRIMARY KEY,
    started_at    TEXT NOT NULL,
    agent         TEXT,
    source        TEXT,
    status        TEXT NOT NULL,
    writer_pid    INTEGER,
    duration_s    REAL,
    worst_mood    REAL,
    escalated     INTEGER NOT NULL DEFAULT 0,
    prompts_shown INTEGER NOT NULL DEFAULT 0,
    prompts_acted INTEGER NOT NULL DEFAULT 0,
    qa_score      REAL,
    updated_at    TEXT NOT NULL,
    qa_note       TEXT,
    revision      INTEGER NOT NULL DEFAULT 0,  -- each end state (finished, incomplete...) one more
    redacted      INTEGER  -- 1 or 0 as stored, NULL: stored before the store recorded it
);
-- The summary JSON (tens of kB) lives in its own table: the sessions table stays a few
-- hundred bytes a row, so listing 10,000 of them reads ~2 MB, not the whole file.
CREATE TABLE IF NOT EXISTS summaries (
    session_id    TEXT PRIMARY KEY,
    summary_json  TEXT
);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (started_at);
CREATE INDEX IF NOT EXISTS sessions_status ON sessions (status, started_at);
CREATE INDEX IF NOT EXISTS sessions_agent ON sessions (agent, started_at);
CREATE INDEX IF NOT EXISTS sessions_mood ON sessions (worst_mood);
CREATE INDEX IF NOT EXISTS sessions_duration ON sessions (duration_s);
CREATE TABLE IF NOT EXISTS events (
    session_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    t          REAL,
    kind       TEXT NOT NULL,
    json       TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
-- Sessions still to go to the team store: one row per session, its newest revision. Written
-- in the transaction that ends the session, deleted once the server has it. Never expires.
CREATE TABLE IF NOT EXISTS outbox (
    session_id  TEXT PRIMARY KEY,
    revision    INTEGER NOT NULL,
    queued_at   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try    REAL NOT NULL DEFAULT 0,  -- Unix time: not before (backoff after a failure)
    last_error  TEXT
);
"""

# A store written by version 1 gets the new columns; its ended sessions join the outbox, so
# turning the team store on uploads the calls from before the upgrade too.
MIGRATIONS = {
    1: ("ALTER TABLE sessions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN redacted INTEGER",
        "UPDATE sessions SET revision = 1 WHERE status != 'live'",
        "INSERT OR IGNORE INTO outbox (session_id, revision, queued_at) "
        "SELECT id, revision, updated_at FROM sessions WHERE status != 'live'"),
}

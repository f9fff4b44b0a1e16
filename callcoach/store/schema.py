"""The store file's layout: its SQLite schema and version, session statuses, listing columns."""

SCHEMA_VERSION = 1
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
    qa_note       TEXT
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
"""

"""The team store: every desktop's sessions in one PostgreSQL (issue 14).

`schema` (the server's tables, roles and ingest function, as SQL), `admin` (what IT runs:
`central init`, `central person`), `connect` (bounded connections, one-line errors),
`payload` (what a session sends: redacted again, without word timings) and `uploader`
(the outbox sent in batches, with backoff; `sync` and the background uploader).

Nothing here runs, or opens a socket, unless the machine policy sets `central_store`.
psycopg is imported only when it does.
"""

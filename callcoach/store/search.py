"""The free-text search over what was said, in the local store (SQLite).

Every word of the query must occur in the session's utterances (case-insensitive for ASCII,
as LIKE is): in the stored summary of a call that ended, in the journal of one that did not.
A plain LIKE over the raw summary JSON narrows the rows first (fast, in C); only those are
opened with json_each, so a key or a prompt title that matches does not count as said.
Summaries and events that are not valid JSON are skipped, never an error: a damaged row
must not break the listing of all the others.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w'’-]+")
_MAX_WORDS = 8  # each word is one more pass over the candidate rows

_SAID_IN_SUMMARY = (
    "EXISTS (SELECT 1 FROM summaries s WHERE s.session_id = sessions.id AND s.summary_json LIKE ? ESCAPE '\\'"
    " AND EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(s.summary_json) THEN s.summary_json"
    " ELSE '{}' END, '$.utterances') u WHERE json_extract(u.value, '$.text') LIKE ? ESCAPE '\\'))")
_SAID_IN_JOURNAL = (
    "EXISTS (SELECT 1 FROM events e WHERE e.session_id = sessions.id AND e.kind = 'Utterance'"
    " AND e.json LIKE ? ESCAPE '\\'"
    " AND (CASE WHEN json_valid(e.json) THEN json_extract(e.json, '$.text') END) LIKE ? ESCAPE '\\')")


def search_words(query: str) -> list[str]:
    """The words a query looks for (quotes and operators dropped), at most _MAX_WORDS."""
    return [w.strip("-'’") for w in _WORD.findall(query or "") if w.strip("-'’")][:_MAX_WORDS]


def search_clause(query: str) -> tuple[str | None, list]:
    """SQL for the sessions table (alias-free) and its arguments; None when the query has no words."""
    clauses, args = [], []
    for word in search_words(query):
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", word) + "%"
        clauses.append(f"({_SAID_IN_SUMMARY} OR {_SAID_IN_JOURNAL})")
        args += [pattern] * 4
    return (" AND ".join(clauses) if clauses else None), args

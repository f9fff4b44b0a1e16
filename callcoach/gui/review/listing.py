"""One read of the session list: the counts and a page, as plain data (no Qt), so it can run
on a background thread and be handed to the model whole. Never raises for a store or server
that cannot be read: the errors travel with the result."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from callcoach.errors import CallCoachError
from callcoach.store.source import SessionSource


@dataclass(frozen=True)
class ListingRequest:
    filters: dict[str, Any]
    sort: str
    descending: bool
    offset: int
    limit: int
    count: bool  # the first page of a (re)load counts too


@dataclass
class Listing:
    rows: list[dict] = field(default_factory=list)
    total: int = 0  # sessions matching the filters (when counted)
    unfiltered_total: int = 0
    errors: list[str] = field(default_factory=list)
    page_failed: bool = False  # no page could be read: nothing more to fetch


def read_listing(source: SessionSource, request: ListingRequest) -> Listing:
    listing = Listing()
    if request.count:
        try:
            listing.total = source.count_sessions(**request.filters)
            listing.unfiltered_total = source.count_sessions() if request.filters else listing.total
        except (CallCoachError, sqlite3.Error) as exc:
            listing.errors.append(str(exc))
            if source.remote:  # the server did not answer: asking for the page would wait again
                listing.page_failed = True
                return listing
    try:
        listing.rows = source.list_sessions(**request.filters, sort=request.sort, descending=request.descending,
                                            limit=request.limit, offset=request.offset)
    except (CallCoachError, sqlite3.Error) as exc:
        listing.errors.append(str(exc))
        listing.page_failed = True
    return listing

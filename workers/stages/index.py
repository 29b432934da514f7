"""Index queued documents for search: the stage after the write, in batches.

Why apart from the write: the vector (`parsers/search.py`) costs several times what the
rest of a document write does, and a reader searching a moment later loses nothing. The
write transaction queues the document (migration 0110); `index_queued` claims up to
`limit` of the queue, computes their vectors with no transaction open and stores them in
one short transaction (`db/search_index.py` says why a lease, not row locks). The process
stage calls it after every batch it writes, so search follows the crawl by one batch.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import psycopg

from govingest.db import search_index
from govingest.db.connect import server_at_fault
from govingest.parsers.search import search_vector
from govingest.stats import Stats

log = logging.getLogger(__name__)

BATCH = 200  # documents per claim: one round trip each way for the batch


def index_queued(conn: psycopg.Connection, *, limit: int = BATCH, stats: Stats | None = None) -> int:
    """Index up to `limit` queued documents; how many were claimed (0: the queue is empty,
    or other workers hold all of it)."""
    stats = stats if stats is not None else Stats()
    with stats.track("index"):
        batch = search_index.claim(conn, limit)
        rows = [search_index.IndexRow(d.document_id, d.ticket, d.site, d.kind, d.published_date,
                                      search_vector(d.title, d.text, d.doc_number)) for d in batch]
        stored = _store(conn, rows, stats)
    stats.update("documents_indexed", stored)
    stats.update("documents_index_superseded", len(rows) - stored)  # queued again meanwhile
    return len(rows)


def _store(conn: psycopg.Connection, rows: Sequence[search_index.IndexRow], stats: Stats) -> int:
    """Store the batch; if the server refuses it, row by row, and a row refused alone (a
    vector past PostgreSQL's 1 MB tsvector limit: a huge attachment) leaves the queue
    unindexed, logged and counted, rather than failing every later batch it would join."""
    try:
        return search_index.write(conn, rows)
    except psycopg.DatabaseError as exc:
        if server_at_fault(conn, exc):
            raise  # the database is gone or busy: the claim's lease runs out, a later batch retries
        if len(rows) > 1:
            return sum(_store(conn, [r], stats) for r in rows)
        log.error("search index refused a document; it is stored but not searchable",
                  extra={"document_id": rows[0].document_id, "error": str(exc).strip().splitlines()[0][:300]})
        search_index.drop(conn, rows[0])
        stats.update("documents_index_refused")
        return 0


def index_all(conn: psycopg.Connection, *, stats: Stats | None = None) -> int:
    """Index until the queue has nothing this worker can take; how many were claimed."""
    total = 0
    while (n := index_queued(conn, stats=stats)) > 0:
        total += n
    return total

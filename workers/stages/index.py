"""Index queued documents for search: the stage after the write, in batches.

Why apart from the write: the vector (`parsers/search.py`) costs several times what the
rest of a document write does, and a reader searching a moment later loses nothing. The
write transaction queues the document (migration 0110); `index_queued` claims up to
`limit` of the queue, computes their vectors with no transaction open and stores them in
one short transaction (`db/search_index.py` says why a lease, not row locks). The process
stage calls it after every batch it writes, so search follows the crawl by one batch.
"""
from __future__ import annotations

import psycopg

from govingest.db import search_index
from govingest.parsers.search import search_vector
from govingest.stats import Stats

BATCH = 200  # documents per claim: one round trip each way for the batch


def index_queued(conn: psycopg.Connection, *, limit: int = BATCH, stats: Stats | None = None) -> int:
    """Index up to `limit` queued documents; how many were claimed (0: the queue is empty,
    or other workers hold all of it)."""
    stats = stats if stats is not None else Stats()
    with stats.track("index"):
        batch = search_index.claim(conn, limit)
        rows = [search_index.IndexRow(d.document_id, d.ticket, d.site, d.kind, d.published_date,
                                      search_vector(d.title, d.text, d.doc_number)) for d in batch]
        stored = search_index.write(conn, rows)
    stats.update("documents_indexed", stored)
    stats.update("documents_index_superseded", len(rows) - stored)  # queued again meanwhile
    return len(rows)


def index_all(conn: psycopg.Connection, *, stats: Stats | None = None) -> int:
    """Index until the queue has nothing this worker can take; how many were claimed."""
    total = 0
    while (n := index_queued(conn, stats=stats)) > 0:
        total += n
    return total

"""The search index's queue and rows: which documents wait to be indexed, and their vectors.

Writing a document only queues it (`search_pending`, filled by a trigger in the write
transaction, migration 0110); `workers/stages/index.py` claims a batch of the queue,
computes each vector in Python (`parsers/search.py`) with no transaction open, and hands
the vectors back here. Why a lease and a ticket rather than row locks held across the
computation: a transaction open that long would hold back the change feed (its cursor
waits for the oldest running transaction). The lease keeps workers side by side off each
other's documents and runs out when a worker dies; the ticket makes a vector computed from
an older text lose to the newer one queued meanwhile.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import psycopg

LEASE_SECONDS = 300  # a claimed batch not written by then is claimable again


class QueuedDocument(NamedTuple):
    """What a document's search row is made of, and the queue ticket it was read under."""

    document_id: int
    ticket: int
    title: str | None
    text: str
    doc_number: str | None
    site: str
    kind: str
    published_date: date | None


class IndexRow(NamedTuple):
    document_id: int
    ticket: int
    site: str
    kind: str
    published_date: date | None
    tsv: str  # tsvector literal


_CLAIM = """
UPDATE search_pending p SET claimed_until = now() + make_interval(secs => %(lease)s)
FROM (SELECT document_id FROM search_pending
      WHERE claimed_until IS NULL OR claimed_until < now()
      ORDER BY queued_at, document_id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) c,
     documents d
WHERE p.document_id = c.document_id AND d.id = c.document_id
RETURNING d.id, p.ticket, d.title, d.text, d.doc_number, d.site, d.kind, d.published_date
"""

# One statement: take off the queue the rows whose ticket is still the one read (a row
# queued again since keeps waiting: its newer text is indexed by a later batch), and store
# the vectors of exactly those, with the stripped copy that matching reads.
_WRITE = """
WITH rows AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(tickets)s::bigint[], %(sites)s::text[], %(kinds)s::text[],
                         %(dates)s::date[], %(tsvs)s::text[]::tsvector[])
             AS r(document_id, ticket, site, kind, published_date, tsv)),
taken AS (
    DELETE FROM search_pending p USING rows r
    WHERE p.document_id = r.document_id AND p.ticket = r.ticket
    RETURNING p.document_id)
INSERT INTO search_index (document_id, site, kind, published_date, grams, tsv)
SELECT r.document_id, r.site, r.kind, r.published_date, strip(r.tsv), r.tsv
FROM rows r JOIN taken t ON t.document_id = r.document_id
ON CONFLICT (document_id) DO UPDATE
    SET site = EXCLUDED.site, kind = EXCLUDED.kind, published_date = EXCLUDED.published_date,
        grams = EXCLUDED.grams, tsv = EXCLUDED.tsv
"""


def claim(conn: psycopg.Connection, limit: int) -> list[QueuedDocument]:
    """Up to `limit` queued documents nobody holds, oldest first, leased to the caller."""
    with conn.transaction():
        rows = conn.execute(_CLAIM, {"limit": limit, "lease": LEASE_SECONDS}).fetchall()
    return [QueuedDocument(*r) for r in rows]


def write(conn: psycopg.Connection, rows: Sequence[IndexRow]) -> int:
    """Store the vectors of the rows still queued under their ticket; how many were stored."""
    if not rows:
        return 0
    with conn.transaction():
        cur = conn.execute(_WRITE, {"ids": [r.document_id for r in rows], "tickets": [r.ticket for r in rows],
                                    "sites": [r.site for r in rows], "kinds": [r.kind for r in rows],
                                    "dates": [r.published_date for r in rows], "tsvs": [r.tsv for r in rows]})
        return cur.rowcount


def drop(conn: psycopg.Connection, row: IndexRow) -> None:
    """Take a document off the queue without indexing it (the server refused its vector),
    unless it was queued again meanwhile: a newer text may index."""
    with conn.transaction():
        conn.execute("DELETE FROM search_pending WHERE document_id = %s AND ticket = %s", (row.document_id, row.ticket))

"""SQL the worker fleet needs beyond the frontier: lease checks, page hand-off, fleet status.

Why here and not in the tasks: every SQL statement lives in `db/`. The fleet's rules
are all about PostgreSQL being the source of truth while Redis only carries ids:

* a fetch message names a URL id and the lease token it was dispatched under; the task
  works only while that lease is still held (`leased_claim`), so a message Redis
  redelivers late, or a duplicate left over from a reaped lease, does nothing;
* a fetched page is stamped when handed to the process queue and again when processed,
  so pages whose message was lost are found and enqueued again (`claim_stale_pages`);
* a page's process attempts are counted before parsing starts, so a page that kills its
  worker (hard time limit, out of memory) is failed after a few tries instead of
  looping forever (`begin_process`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from govingest.db.connect import one_row
from govingest.db.frontier import CLAIMABLE_SQL, Claim, record_parse_failure
from govingest.states import ErrorKind


def leased_claim(conn: psycopg.Connection, url_id: int, owner: str) -> Claim | None:
    """The claim a fetch message stands for, when `owner` still holds an unexpired lease on it.

    None means the message is stale (fetched already, or its lease was reaped and the
    URL handed out again): the task must do nothing.
    """
    row = conn.execute(
        """SELECT id, url, site, host, kind, etag, last_modified, depth, content_hash,
                  fail_count, last_fetched_at IS NOT NULL, method
           FROM urls WHERE id = %s AND lease_owner = %s AND lease_until > now()
                       AND state = 'fetching'""",
        (url_id, owner),
    ).fetchone()
    conn.commit()
    return None if row is None else Claim(*row)


def site_config(conn: psycopg.Connection, name: str) -> dict[str, Any] | None:
    """The validated site table `crawl`/`dispatch` stored, so workers need no sites file."""
    row = conn.execute("SELECT config FROM sites WHERE name = %s", (name,)).fetchone()
    conn.commit()
    return None if row is None else dict(row[0])


def _update_pages_lazily(conn: psycopg.Connection, sql: str, page_ids: Sequence[int]) -> list[int]:
    """Run one `UPDATE pages … WHERE id = ANY(%s) … [RETURNING id]` with asynchronous commit
    and commit it; the ids it returned. For the bookkeeping stamps of the process side:
    a stamp a server crash loses only makes a page be looked at again, never lost."""
    if not page_ids:
        return []
    with conn.transaction():  # SET LOCAL needs one, also on autocommit connections
        conn.execute("SET LOCAL synchronous_commit TO off")
        cur = conn.execute(sql, (list(page_ids),))
        rows = cur.fetchall() if cur.description else []
    conn.commit()
    return [int(r[0]) for r in rows]


def mark_enqueued(conn: psycopg.Connection, page_ids: Sequence[int]) -> None:
    """Stamp pages as handed to the process queue (before the message is sent). A lost
    stamp only means the dispatcher's sweep counts from `fetched_at` instead."""
    _update_pages_lazily(
        conn, "UPDATE pages SET process_enqueued_at = now() WHERE id = ANY(%s) AND processed_at IS NULL", page_ids)


def claim_stale_pages(conn: psycopg.Connection, *, older_than_seconds: float, limit: int) -> list[int]:
    """Pages stored or handed to the process queue long ago and never finished.

    Either their `process` message was lost (Redis restart) or their fetch worker died
    between storing the page and sending the message (never stamped `process_enqueued_at`):
    both count from the later of the two stamps, so nothing stored is left unprocessed.

    SKIP LOCKED and the re-stamp in the same statement make two dispatchers running at
    once hand each page out once per `older_than_seconds`.
    """
    rows = conn.execute(
        """
        UPDATE pages SET process_enqueued_at = now()
        WHERE id IN (
            SELECT id FROM pages
            WHERE processed_at IS NULL
              AND coalesce(process_enqueued_at, fetched_at) < now() - make_interval(secs => %s)
            ORDER BY coalesce(process_enqueued_at, fetched_at)
            LIMIT %s
            FOR UPDATE SKIP LOCKED)
        RETURNING id
        """,
        (older_than_seconds, limit),
    ).fetchall()
    conn.commit()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class ProcessStart:
    page_id: int
    url_id: int | None
    attempts: int  # including this one
    already_processed: bool


def begin_process(conn: psycopg.Connection, page_id: int) -> ProcessStart | None:
    """Count one more attempt at processing a page, committed before parsing starts.

    Committing first is the point: when the parse kills its worker, the count survives.
    None when the page does not exist.
    """
    # Asynchronous commit: a counter lost in a server crash costs one extra attempt, and
    # skipping the WAL flush keeps a serial process worker from waiting on the disk.
    # (SET LOCAL needs a transaction: on an autocommit connection it would do nothing.)
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit TO off")
        row = conn.execute(
            """
            UPDATE pages SET process_attempts = process_attempts + (processed_at IS NULL)::int
            WHERE id = %s
            RETURNING url_id, process_attempts, processed_at IS NOT NULL
            """,
            (page_id,),
        ).fetchone()
    conn.commit()
    if row is None:
        return None
    return ProcessStart(page_id=page_id, url_id=row[0], attempts=row[1], already_processed=row[2])


def begin_batch(conn: psycopg.Connection, page_ids: Sequence[int]) -> list[int]:
    """Count the first attempt of the pages of a batch never tried before; returns them.

    Only untried pages are processed as a batch: a page tried before (its batch died with
    its worker, or hit a time limit) goes alone, so one page that kills its worker costs
    only itself and is failed after its own attempts (`begin_process`). Committed before
    parsing starts, asynchronously, as `begin_process`.
    """
    fresh = set(_update_pages_lazily(
        conn, """UPDATE pages SET process_attempts = 1
                 WHERE id = ANY(%s) AND processed_at IS NULL AND process_attempts = 0
                 RETURNING id""", page_ids))
    return [p for p in page_ids if p in fresh]


def mark_processed(conn: psycopg.Connection, page_ids: Sequence[int]) -> None:
    """Stamp pages done. Asynchronous commit: if a server crash loses the stamp, the page is
    processed again, which writes nothing (documents are idempotent) — cheaper than a WAL
    flush per document on the hot path."""
    _update_pages_lazily(
        conn, "UPDATE pages SET processed_at = now() WHERE id = ANY(%s) AND processed_at IS NULL", page_ids)


def fail_page(conn: psycopg.Connection, page_id: int, *, kind: ErrorKind, message: str) -> None:
    """End a page that cannot be processed: its URL is `failed` with the reason, the page done.

    The raw page stays for `govingest reparse`.
    """
    with conn.transaction():
        row = conn.execute("UPDATE pages SET processed_at = now() WHERE id = %s RETURNING url_id",
                           (page_id,)).fetchone()
        if row is not None:
            record_parse_failure(conn, row[0], kind=kind, message=message)
    conn.commit()


@dataclass(frozen=True)
class RunCounts:
    """What one crawl run did for one site, read back from PostgreSQL (the fleet's workers
    are other processes, so the dispatcher cannot count their work in memory)."""

    site: str
    fetched: int
    not_modified: int
    stored: int
    changed: int  # documents created or updated (change-feed events)
    errors: dict[str, int]


def database_now(conn: psycopg.Connection) -> datetime:
    """The server's clock: where a run starts counting (`run_counts(since=...)`)."""
    now: datetime = one_row(conn, "SELECT now()")[0]
    conn.commit()
    return now


def run_counts(conn: psycopg.Connection, sites: list[str], since: datetime) -> list[RunCounts]:
    out = []
    for site in sites:
        fetched, not_modified = one_row(
            conn, """SELECT count(*) FILTER (WHERE last_status IS NOT NULL),
                            count(*) FILTER (WHERE last_status = 304)
                     FROM urls WHERE site = %s AND last_fetched_at >= %s""", (site, since))
        stored = one_row(
            conn, """SELECT count(*) FROM pages p JOIN urls u ON u.id = p.url_id
                     WHERE u.site = %s AND p.fetched_at >= %s""", (site, since))[0]
        changed = one_row(
            conn, """SELECT count(*) FROM doc_events e JOIN documents d ON d.id = e.document_id
                     WHERE d.site = %s AND e.at >= %s""", (site, since))[0]
        errors: dict[str, int] = dict(conn.execute(
            """SELECT last_error_kind, count(*) FROM urls
               WHERE site = %s AND last_error_kind IS NOT NULL
                 AND (last_fetched_at >= %s OR state = 'failed' AND id IN
                      (SELECT url_id FROM pages WHERE processed_at >= %s))
               GROUP BY 1""", (site, since, since)).fetchall())
        out.append(RunCounts(site, int(fetched), int(not_modified), int(stored), int(changed),
                             {k: int(v) for k, v in errors.items()}))
    conn.commit()
    return out


@dataclass(frozen=True)
class FleetStatus:
    leased: int  # URLs with a lease (dispatched, not yet recorded)
    expired: int  # of which the lease has run out (the reaper will hand them out again)
    oldest_lease: datetime | None  # lease_until of the oldest outstanding lease
    due: int  # URLs due for fetching and not leased
    awaiting_process: int  # pages handed to the process queue, not yet processed
    fetched_last_minute: int
    processed_last_minute: int


def outstanding_leases(conn: psycopg.Connection) -> int:
    row = one_row(conn, "SELECT count(*) FROM urls WHERE lease_until IS NOT NULL")
    conn.commit()
    return int(row[0])


# `due` is counted up to this many: the figure says "plenty", and counting every due URL of
# a million-URL frontier would read them all once a second (the dispatcher's settled check)
DUE_COUNT_CAP = 10_000


def fleet_status(conn: psycopg.Connection, *, sites: list[str] | None = None) -> FleetStatus:
    """Lease, queue and throughput figures for `govingest status` and for run completion.

    Each figure reads an index over a small set (leases, unprocessed pages, the last
    minute's pages; due URLs up to DUE_COUNT_CAP), so the cost does not grow with the
    frontier: never a scan of `urls` (678 ms at 1M URLs before migration 0080).
    """
    row = one_row(
        conn, f"""
        WITH leases AS MATERIALIZED (
               SELECT lease_until FROM urls
               WHERE lease_until IS NOT NULL AND (%(sites)s::text[] IS NULL OR site = ANY(%(sites)s))),
             open_pages AS MATERIALIZED (
               SELECT p.id FROM pages p WHERE p.processed_at IS NULL
                 AND (%(sites)s::text[] IS NULL
                      OR EXISTS (SELECT 1 FROM urls u WHERE u.id = p.url_id AND u.site = ANY(%(sites)s))))
        SELECT
          (SELECT count(*) FROM leases),
          (SELECT count(*) FROM leases WHERE lease_until < now()),
          (SELECT min(lease_until) FROM leases),
          (SELECT count(*) FROM (SELECT 1 FROM urls u
                                 WHERE u.state IN ({CLAIMABLE_SQL}) AND u.next_fetch_at <= now()
                                   AND u.lease_until IS NULL
                                   AND (%(sites)s::text[] IS NULL OR u.site = ANY(%(sites)s))
                                 LIMIT {DUE_COUNT_CAP}) d),
          (SELECT count(*) FROM open_pages),
          (SELECT count(*) FROM pages p WHERE p.fetched_at > now() - interval '1 minute'
             AND (%(sites)s::text[] IS NULL
                  OR EXISTS (SELECT 1 FROM urls u WHERE u.id = p.url_id AND u.site = ANY(%(sites)s)))),
          (SELECT count(*) FROM pages p JOIN urls u ON u.id = p.url_id
             WHERE p.processed_at > now() - interval '1 minute' AND u.kind = 'article'
               AND (%(sites)s::text[] IS NULL OR u.site = ANY(%(sites)s)))
        """,
        {"sites": sites})
    conn.commit()
    return FleetStatus(*row)


def crawl_settled(conn: psycopg.Connection, *, sites: list[str] | None = None) -> bool:
    """Nothing due, nothing leased, no page waiting for processing: a one-shot crawl is over."""
    s = fleet_status(conn, sites=sites)
    return s.leased == 0 and s.due == 0 and s.awaiting_process == 0

"""Process stored pages: raw page → parse → document, the one path every caller uses.

`ingest`, `reparse`, the in-process crawl and the Celery `process` task all call
`process_page` (or `process_pages` for batches), so a page becomes the same document
whichever way it arrived. Bad input never escapes as an exception: a page that cannot
be parsed leaves its URL in state 'failed' with the reason, and the caller goes on.

A page that reached an outcome is stamped `processed_at`; one that did not (the
database went away mid-way, a time limit raised through) stays unstamped and the
dispatcher's sweep sends it again.

Search indexing is the next stage (`workers/stages/index.py`): the write queues each
document, and `process_pages` ends by indexing a batch of the queue.

Transactions are kept short on purpose: the page is read in one, parsed with no
transaction open (an open transaction would hold back the change feed, whose cursor
waits for the oldest running transaction), and written in another.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import psycopg

from govingest.db.connect import server_at_fault
from govingest.db.documents import DocumentWrite, write_documents
from govingest.db.fleet import mark_processed
from govingest.db.frontier import count_rule_hits, record_parse_failure
from govingest.db.pages import PageNotFound, StoredPage, load_page
from govingest.parsers.model import ParsedDocument, ParseError
from govingest.parsers.site_rules import SiteRules
from govingest.parsers.timeout import parse_with_timeout
from govingest.states import ErrorKind
from govingest.stats import Stats
from govingest.workers.stages.index import BATCH as INDEX_BATCH
from govingest.workers.stages.index import index_queued
from govingest.workers.stages.store import document_write

log = logging.getLogger(__name__)

OutcomeKind = Literal["created", "updated", "unchanged", "failed", "skipped"]


@dataclass(frozen=True)
class ProcessOutcome:
    page_id: int
    url_id: int | None
    kind: OutcomeKind
    document_id: int | None = None
    error: str | None = None  # one line for a person when kind is 'failed' or 'skipped'
    error_kind: ErrorKind | None = None  # as recorded on the URL: parse, script_filled …


def _parse_page(page: StoredPage, stats: Stats) -> ParsedDocument | ParseError:
    """The parsed document, or why it cannot be one (never raises).

    The error's kind goes on the URL: 'needs_ocr' (a scanned attachment),
    'script_filled' (an article loaded by script), 'attachment_corrupt' … so
    `govingest status` counts each apart.
    """
    try:
        return parse_with_timeout(page.body, url=page.url, content_type=page.content_type,
                                  body_selector=page.body_selector, stats=stats,
                                  rules=SiteRules.from_config(page.site_config))
    except ParseError as exc:
        stats.update(f"parse_failed_{exc.kind}")
        return exc
    except Exception as exc:  # a parser bug must not stop the worker; record it on the URL
        # the traceback only at DEBUG: users get the one-line reason on the URL
        log.error("parser crashed", extra={"page_id": page.page_id, "url": page.url, "error": repr(exc)},
                  exc_info=log.isEnabledFor(logging.DEBUG))
        stats.update("parser_crashes")
        return ParseError.from_crash(exc)


def _fail(conn: psycopg.Connection, page: StoredPage, reason: str, stats: Stats,
          kind: ErrorKind = ErrorKind.PARSE) -> ProcessOutcome:
    with conn.transaction():
        record_parse_failure(conn, page.url_id, kind=kind, message=reason)
    stats.update("documents_failed")
    return ProcessOutcome(page.page_id, page.url_id, "failed", error=reason, error_kind=kind)


def _load(conn: psycopg.Connection, page_id: int) -> StoredPage | ProcessOutcome:
    try:
        with conn.transaction():
            return load_page(conn, page_id)
    except PageNotFound as exc:
        return ProcessOutcome(page_id, None, "skipped", error=str(exc))


def process_page(conn: psycopg.Connection, page_id: int, *, stats: Stats | None = None) -> ProcessOutcome:
    """Parse stored page `page_id` and write its document (one transaction)."""
    return process_pages(conn, [page_id], stats=stats, batch_size=1)[0]


def process_pages(
    conn: psycopg.Connection, page_ids: Sequence[int], *, stats: Stats | None = None, batch_size: int = 100
) -> list[ProcessOutcome]:
    """Process many pages, writing documents in batches of `batch_size` (bulk paths).

    If a batch write fails (e.g. a constraint a parse output violates), its documents
    are retried one by one so one bad document costs only itself.
    """
    stats = stats if stats is not None else Stats()
    outcomes: dict[int, ProcessOutcome] = {}
    pending: list[tuple[StoredPage, DocumentWrite]] = []

    def write(batch: list[tuple[StoredPage, DocumentWrite]]) -> None:
        try:
            results = write_documents(conn, [w for _, w in batch], stats=stats)
        except psycopg.DatabaseError as exc:
            if server_at_fault(conn, exc):
                raise  # the database is gone or busy: the caller retries later, nothing is lost
            if len(batch) > 1:
                for item in batch:
                    write([item])
                return
            page = batch[0][0]
            reason = f"storing the document failed: {str(exc).strip().splitlines()[0]}"
            log.error("document write failed", extra={"page_id": page.page_id, "error": reason})
            outcomes[page.page_id] = _fail(conn, page, reason, stats)
            return
        for (page, _), res in zip(batch, results, strict=False):
            outcomes[page.page_id] = ProcessOutcome(page.page_id, page.url_id, res.kind, res.document_id)

    for page_id in page_ids:
        loaded = _load(conn, page_id)
        if isinstance(loaded, ProcessOutcome):
            outcomes[page_id] = loaded
            continue
        page = loaded
        if page.status >= 400:
            outcomes[page_id] = ProcessOutcome(page_id, page.url_id, "skipped",
                                               error=f"HTTP {page.status}: not a document")
            continue
        parsed = _parse_page(page, stats)
        if isinstance(parsed, ParseError):
            outcomes[page_id] = _fail(conn, page, parsed.reason, stats, parsed.kind)
            continue
        if parsed.rules_hit:
            with conn.transaction():
                count_rule_hits(conn, page.site, parsed.rules_hit)
        pending.append((page, document_write(page.url_id, page.site, page_id, parsed)))
        if len(pending) >= batch_size:
            write(pending)
            pending = []
    if pending:
        write(pending)
    # Every page that reached an outcome is finished: stamped here, on the one path all
    # callers share, so the dispatcher's sweep for unfinished pages never resends it.
    mark_processed(conn, page_ids)
    # Search follows the writes by one batch: twice what was written, so a backlog (a
    # reparse, a worker that died before indexing) shrinks with every batch.
    index_queued(conn, limit=max(INDEX_BATCH, 2 * len(page_ids)), stats=stats)
    return [outcomes[p] for p in page_ids]

"""The fleet's two Celery tasks: thin wrappers over the same stage functions the
in-process runner calls (`workers.stages.fetch.fetch_url`, `workers.stages.process.process_page`).

Why the tasks hold so little: PostgreSQL decides everything. A `fetch` message is
"fetch URL n under lease L"; the task does nothing unless lease L is still held, so
redelivered and duplicate messages are harmless. A `process` message is "process page
p"; the page's own row says whether that already happened and how many times it was
tried, so a page that hangs the parser or kills its worker ends `failed` after
`GOVINGEST_PROCESS_MAX_ATTEMPTS` instead of cycling forever.

Process messages carry a micro-batch: the fetch worker holds stored pages for up to
`GOVINGEST_PROCESS_BATCH_LINGER_MS` and sends `GOVINGEST_PROCESS_BATCH` of them per message
(`_Batcher`); the process task parses them one by one and writes their documents in one
transaction (`process_pages`, the bulk write path), so the per-message, per-commit and
per-round-trip costs are shared. A page tried before goes alone (`fleet_db.begin_batch`),
so a page that kills its worker still fails by itself after its own attempts.

A task that cannot reach PostgreSQL retries with backoff; if it gives up, nothing is
lost: the lease expires and the reaper hands the URL out again, or the page stays
marked as waiting and the dispatcher enqueues it again.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from celery import signals
from celery.exceptions import SoftTimeLimitExceeded
from psycopg_pool import ConnectionPool, PoolTimeout

# Imported at module load, before the pool forks: children start warm (the parser,
# trafilatura and datasketch take seconds to import) and share those pages copy-on-write.
import govingest.parsers.pipeline
import govingest.parsers.timeout  # noqa: F401
from govingest.db import fleet as fleet_db
from govingest.db.connect import DatabaseUnavailable
from govingest.states import ErrorKind
from govingest.stats import Stats
from govingest.workers.fleet.app import (
    FETCH_QUEUE,
    FETCH_TASK,
    PROCESS_QUEUE,
    PROCESS_TASK,
    app,
    send_process,
    send_process_batch,
    settings,
    task_context,
)
from govingest.workers.observe import metrics
from govingest.workers.stages.fetch import fetch_url, record_internal_error
from govingest.workers.stages.process import process_page, process_pages

log = logging.getLogger(__name__)

# Errors that mean "PostgreSQL is unreachable right now", not "this input is bad".
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, DatabaseUnavailable)
RETRY_LIMIT = 12  # with backoff capped at 10 s: about 1.5 minutes of outage per message


class _ProcessLocal:
    """Per-process resources, created after fork: a prefork child must not share its
    parent's sockets, and a thread pool shares one pool and one HTTP client."""

    def __init__(self) -> None:
        self.pid = -1
        self.lock = threading.Lock()
        self.pool: ConnectionPool | None = None
        self.client: Any = None
        self.sites: dict[str, Any] = {}

    def _reset_if_forked(self) -> None:
        if self.pid != os.getpid():
            self.pid, self.pool, self.client, self.sites = os.getpid(), None, None, {}

    def get_pool(self) -> ConnectionPool:
        with self.lock:
            self._reset_if_forked()
            if self.pool is None:
                from govingest.db.connect import make_pool, resolve_database_url

                wanted = max(2, settings.fetch_concurrency) if _is_thread_pool() else 2
                size = max(1, min(wanted, settings.db_pool_max))
                self.pool = make_pool(resolve_database_url(settings), min_size=1, max_size=size,
                                      timeout=10)
            return self.pool

    def get_client(self) -> Any:
        with self.lock:
            self._reset_if_forked()
            if self.client is None:
                from govingest.crawler.client import make_client

                self.client = make_client(read=min(settings.fetch_read_timeout, _fetch_budget()))
            return self.client

    def get_site(self, conn: psycopg.Connection, name: str) -> Any:
        with self.lock:
            self._reset_if_forked()
            site = self.sites.get(name)
        if site is None:
            from govingest.crawler.config import parse_site

            raw = fleet_db.site_config(conn, name)
            if raw is None:
                raise LookupError(f"site {name!r} is not in the sites table; run `govingest crawl` or "
                                  "`govingest dispatch` with the sites file that defines it")
            site = parse_site(raw, f"sites table, site {name!r}")
            with self.lock:
                self.sites[name] = site
        return site


_local = _ProcessLocal()


class _Batcher:
    """Stored pages waiting to be sent to the process queue as one message.

    Sent when `size` are waiting or the oldest has waited `linger` seconds. Nothing is lost
    if the worker dies holding some: a stored page that is never processed is found by the
    dispatcher's sweep (`claim_stale_pages`, counted from `fetched_at` when unstamped) and
    sent again. Pages are stamped `process_enqueued_at` per batch, just before the send.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: list[int] = []
        self.timer: threading.Timer | None = None

    def add(self, page_id: int) -> None:
        with self.lock:
            self.ids.append(page_id)
            full = len(self.ids) >= settings.process_batch
            if not full and self.timer is None:
                self.timer = threading.Timer(settings.process_batch_linger_ms / 1000, self.flush)
                self.timer.daemon = True
                self.timer.start()
        if full:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            ids, self.ids = self.ids, []
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
        if not ids:
            return
        try:
            with _local.get_pool().connection() as conn:
                fleet_db.mark_enqueued(conn, ids)
        except DATABASE_DOWN as exc:  # unstamped pages are swept from fetched_at: send anyway
            log.warning("could not stamp pages as enqueued", extra={"error": str(exc)[:200]})
        try:
            send_process_batch(app, ids)
        except Exception as exc:  # broker down: the dispatcher's sweep re-sends them
            log.warning("could not enqueue process; the dispatcher will re-send it",
                        extra={"page_ids": ids, "error": f"{type(exc).__name__}: {exc}"[:300]})


_batcher = _Batcher()


@signals.worker_shutdown.connect
def _flush_on_shutdown(**_: Any) -> None:
    """A worker stopping cleanly sends what it holds rather than leave it to the sweep."""
    _batcher.flush()


def _is_thread_pool() -> bool:
    return threading.current_thread() is not threading.main_thread()


@contextmanager
def _task_logging(task_id: str | None, **ids: Any) -> Iterator[None]:
    token = task_context.set({"task_id": task_id, **ids})
    try:
        yield
    finally:
        task_context.reset(token)


def _observe_lag(queue: str, enqueued_at: float | None) -> None:
    if enqueued_at:
        metrics.QUEUE_LAG.labels(queue).observe(max(0.0, time.time() - enqueued_at))


def _backoff(retries: int) -> float:
    return min(10.0, 0.5 * 2 ** retries)


def _soft(limit: int) -> float:
    return max(1.0, limit * 0.8)


def _fetch_budget() -> float:
    """The request's own total timeout, inside the task's soft limit: a slow server then
    ends as a recorded `timeout` outcome (retried with backoff by the frontier), never
    as a killed task whose URL would be reaped and fetched again forever."""
    return max(1.0, min(settings.fetch_total_timeout, _soft(settings.fetch_time_limit) - 2.0))


@app.task(name=FETCH_TASK, bind=True, max_retries=RETRY_LIMIT,
          soft_time_limit=_soft(settings.fetch_time_limit), time_limit=settings.fetch_time_limit)
def fetch(self: Any, url_id: int, lease: str, enqueued_at: float | None = None) -> None:
    """Fetch one leased URL: store the page, add its links, record the outcome, hand the page on."""
    with _task_logging(self.request.id, url_id=url_id):
        _observe_lag(FETCH_QUEUE, enqueued_at)
        try:
            with metrics.FETCH_LATENCY.time():
                _fetch(url_id, lease)
        except DATABASE_DOWN as exc:
            log.warning("PostgreSQL unavailable during fetch; retrying", extra={"error": str(exc)[:200]})
            raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
        except Exception as exc:  # a bug: record it like the in-process runner, never loop on it
            record_internal_error(_local.get_pool(), url_id, exc, owner=lease)


def _fetch(url_id: int, lease: str) -> None:
    with _local.get_pool().connection() as conn:
        claim = fleet_db.leased_claim(conn, url_id, lease)
        if claim is None:
            metrics.STALE_MESSAGES.labels(FETCH_QUEUE).inc()
            log.info("fetch message dropped: its lease is no longer held (already fetched or reaped)")
            return
        site = _local.get_site(conn, claim.site)
        outcome = fetch_url(conn, claim, site, _local.get_client(), owner=lease, total_timeout=_fetch_budget())
        if outcome.lease_lost:
            metrics.STALE_MESSAGES.labels(FETCH_QUEUE).inc()
            return
        metrics.RESPONSES.labels(str(outcome.status) if outcome.status else "error").inc()
        if outcome.page_id is None:
            log.info("fetched; nothing to process", extra={"status": outcome.status, "state": outcome.state,
                                                           "error_kind": outcome.error_kind})
            return
        if settings.process_batch > 1:
            _batcher.add(outcome.page_id)
            log.info("fetched; page sent to process", extra={"page_id": outcome.page_id, "status": outcome.status,
                                                              "batched": True})
            return
        # Stamp first, send second: if the send is lost the dispatcher finds the stamp.
        fleet_db.mark_enqueued(conn, [outcome.page_id])
        try:
            send_process(app, outcome.page_id)
        except Exception as exc:  # broker down: the stamp makes the dispatcher re-send it
            log.warning("could not enqueue process; the dispatcher will re-send it",
                        extra={"page_id": outcome.page_id, "error": f"{type(exc).__name__}: {exc}"[:300]})
            return
        log.info("fetched; page sent to process", extra={"page_id": outcome.page_id, "status": outcome.status})


@app.task(name=PROCESS_TASK, bind=True, max_retries=RETRY_LIMIT,
          soft_time_limit=_soft(settings.process_time_limit), time_limit=settings.process_time_limit)
def process(self: Any, page_id: int, enqueued_at: float | None = None, batch: list[int] | None = None) -> None:
    """Parse one stored page (and the pages of `batch`) and write their documents, once."""
    with _task_logging(self.request.id, page_id=page_id):
        for _ in range(1 + len(batch or ())):  # lag, like the parse time, is counted per page
            _observe_lag(PROCESS_QUEUE, enqueued_at)
        try:
            started = time.perf_counter()
            if batch:
                _process_batch([page_id, *batch])
            else:
                _process(page_id)
                metrics.PARSE_DURATION.observe(time.perf_counter() - started)
        except DATABASE_DOWN as exc:
            log.warning("PostgreSQL unavailable during process; retrying", extra={"error": str(exc)[:200]})
            raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


def _process(page_id: int) -> None:
    stats = Stats()
    with _local.get_pool().connection() as conn:
        with stats.track("begin"):
            start = fleet_db.begin_process(conn, page_id)
        if start is None or start.already_processed:
            metrics.STALE_MESSAGES.labels(PROCESS_QUEUE).inc()
            log.info("process message dropped: page already processed or gone")
            return
        ctx = task_context.get({})
        task_context.set({**ctx, "url_id": start.url_id})
        limit, tries = settings.process_time_limit, settings.process_max_attempts
        if start.attempts > tries:
            _fail(conn, page_id, ErrorKind.PROCESS_GAVE_UP,
                  f"page {page_id} could not be processed in {tries} attempts: each time the parse "
                  f"hung past the {limit} s time limit or ran out of memory and its worker was replaced; "
                  "the raw page is kept — fix the parser, then run `govingest reparse`")
            return
        # process_page records an ordinary parse failure itself; a soft time limit or a
        # memory cap hit inside the parser reaches us either raised or as its recorded
        # "parser error" — either way the URL gets a message that names the limit.
        try:
            outcome = process_page(conn, page_id, stats=stats)
            error = outcome.error or ""
        except SoftTimeLimitExceeded:
            outcome, error = None, SoftTimeLimitExceeded.__name__
        except MemoryError:
            outcome, error = None, MemoryError.__name__
        if (outcome is None or outcome.kind == "failed") and SoftTimeLimitExceeded.__name__ in error:
            conn.rollback()
            _fail(conn, page_id, ErrorKind.PARSE_TIMEOUT, _timeout_message(page_id))
            return
        if outcome is None or (outcome.kind == "failed" and MemoryError.__name__ in error):
            conn.rollback()
            _fail(conn, page_id, ErrorKind.PARSE_MEMORY, _memory_message(page_id))
            return
        conn.commit()
        metrics.DOCUMENTS.labels(outcome.kind).inc()
        log.info("processed", extra={"outcome": outcome.kind, "document_id": outcome.document_id,
                                     "error": outcome.error, "stats": stats.as_dict()})


def _process_batch(page_ids: list[int]) -> None:
    """Pages never tried before: parsed one by one, documents written in one transaction.
    Pages tried before, and every page of a batch a time or memory limit stopped, are sent
    again one per message, where the single-page rules (attempts, named failures) apply."""
    stats = Stats()
    started = time.perf_counter()
    with _local.get_pool().connection() as conn:
        fresh = fleet_db.begin_batch(conn, page_ids)
        batched = set(fresh)
        alone = [p for p in page_ids if p not in batched]
        if fresh:
            try:
                outcomes = process_pages(conn, fresh, stats=stats, batch_size=len(fresh))
            except (SoftTimeLimitExceeded, MemoryError) as exc:
                conn.rollback()
                log.warning("process batch stopped by a limit; its pages go one by one",
                            extra={"page_ids": fresh, "error": type(exc).__name__})
                alone += fresh
                outcomes = []
            conn.commit()
            for o in outcomes:  # a limit hit inside the parser is named on the URL, as alone
                error = (o.error or "") if o.kind == "failed" else ""
                if MemoryError.__name__ in error:
                    _fail(conn, o.page_id, ErrorKind.PARSE_MEMORY, _memory_message(o.page_id))
                elif SoftTimeLimitExceeded.__name__ in error:
                    _fail(conn, o.page_id, ErrorKind.PARSE_TIMEOUT, _timeout_message(o.page_id))
                else:
                    metrics.DOCUMENTS.labels(o.kind).inc()
            per_page = (time.perf_counter() - started) / max(1, len(outcomes))
            ctx = task_context.get({})
            for o in outcomes:  # one line and one parse-time sample per page, as alone
                metrics.PARSE_DURATION.observe(per_page)
                task_context.set({**ctx, "page_id": o.page_id, "url_id": o.url_id})
                log.info("processed", extra={"outcome": o.kind, "document_id": o.document_id, "error": o.error,
                                             "batch": len(fresh)})
            task_context.set(ctx)
            log.debug("processed batch", extra={"pages": len(fresh), "stats": stats.as_dict()})
    for page_id in alone:
        send_process(app, page_id)


def _timeout_message(page_id: int) -> str:
    return (f"parsing page {page_id} took longer than {_soft(settings.process_time_limit):.0f} s (soft time limit) "
            "and was stopped; the raw page is kept — fix the parser or raise GOVINGEST_PROCESS_TIME_LIMIT, "
            "then run `govingest reparse`")


def _memory_message(page_id: int) -> str:
    return (f"parsing page {page_id} exceeded the worker memory cap of {settings.worker_memory_limit_mb} MB and "
            "was stopped; the raw page is kept — fix the parser or raise GOVINGEST_WORKER_MEMORY_LIMIT_MB, "
            "then run `govingest reparse`")


def _fail(conn: psycopg.Connection, page_id: int, kind: ErrorKind, message: str) -> None:
    fleet_db.fail_page(conn, page_id, kind=kind, message=message)
    metrics.DOCUMENTS.labels("failed").inc()
    log.warning(message, extra={"error_kind": kind})

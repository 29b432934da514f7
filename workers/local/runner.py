"""The in-process crawl: one dispatch loop, a thread pool, the same stages as the fleet.

Why a dispatch loop rather than workers pulling URLs: politeness is decided in one
place (`db.frontier.claim_due`, host slots in PostgreSQL) and the loop sleeps exactly
until the next slot, so threads never sleep to be polite and a host never sees more
than its budget, even when `govingest crawl` and a Celery fleet run at once.

Resumable by construction: every URL's state lives in the frontier. A crawl killed
with SIGKILL leaves leases owned by a dead process; the next run on this machine
releases them at once (no wait for expiry) and processes pages that were stored but
never parsed, so nothing fetched is fetched again and nothing pending is lost.
"""
from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TextIO

import psycopg
from psycopg_pool import ConnectionPool

from govingest.crawler.client import CrawlClient, make_client
from govingest.crawler.config import SiteConfig
from govingest.crawler.fetch import DEFAULT_MAX_BYTES
from govingest.db import frontier
from govingest.db.connect import connect, make_pool
from govingest.db.frontier import Claim
from govingest.db.migrate import migrate
from govingest.states import ErrorKind
from govingest.stats import Stats
from govingest.workers.stages.fetch import FetchOutcome, fetch_url, record_internal_error
from govingest.workers.stages.process import process_page
from govingest.workers.stages.seed import prepare_frontier
from govingest.workers.stages.summary import CrawlResult, SiteSummary, fill_totals

log = logging.getLogger(__name__)


def owner_prefix() -> str:
    return f"{socket.gethostname()}:"


def make_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:runner"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_leases(conn: psycopg.Connection) -> int:
    """Leases of crashed processes on this machine, released now rather than at expiry,
    and the hosts their unanswered requests still held (`frontier.free_slots`)."""
    dead = []
    for owner in frontier.lease_owners(conn, owner_prefix()):
        parts = owner.split(":")
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) != os.getpid() and not _pid_alive(int(parts[1])):
            dead.append(owner)
    freed = frontier.free_slots(conn, dead)
    if freed:
        log.info("hosts freed from a dead crawl's unanswered requests", extra={"hosts": freed, "owners": dead})
    return frontier.release_owners(conn, dead)


class Progress:
    """One status line on stderr, redrawn in place; silent when stderr is not a terminal."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.last = 0.0
        self.start = time.monotonic()

    def wants_update(self) -> bool:
        """Whether a redraw is due; lets the caller skip counting work for nothing."""
        return self.enabled and time.monotonic() - self.last >= 0.2

    def update(self, done: int, known: int, docs: int, errors: int, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < 0.2):
            return
        self.last = now
        width = 30
        frac = done / known if known else 0.0
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        rate = done / (now - self.start) if now > self.start else 0.0
        self.stream.write(f"\r[{bar}] {done}/{known} fetched  {docs} docs  {errors} errors  {rate:.1f}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


@dataclass(frozen=True)
class CrawlOptions:
    """How `crawl` runs; see its docstring."""

    threads: int
    lease_seconds: float = 120.0
    linger_seconds: float = 15.0
    max_seconds: float | None = None
    process: bool = True
    read_timeout: float = 15.0
    total_timeout: float = 60.0
    max_bytes: int = DEFAULT_MAX_BYTES


def default_threads(sites: list[SiteConfig]) -> int:
    """Every host's concurrency, plus a few threads busy parsing; each holds one connection."""
    return min(32, sum(s.concurrency * max(1, len(s.allowed_hosts)) for s in sites) + 4)


def crawl(
    database_url: str,
    sites: list[SiteConfig],
    *,
    threads: int | None = None,
    lease_seconds: float = 120.0,
    linger_seconds: float = 15.0,
    max_seconds: float | None = None,
    process: bool = True,
    progress: Progress | None = None,
    recrawl: bool = False,
    stop: threading.Event | None = None,
    on_fetch: Callable[[FetchOutcome], None] | None = None,
    read_timeout: float = 15.0,
    total_timeout: float = 60.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> CrawlResult:
    """Crawl `sites` until nothing is due within `linger_seconds` (or `max_seconds` pass).

    `recrawl` makes every known URL of the sites due now (conditional GETs for
    articles): the demo's second run. Pages are processed in the fetching thread
    right after their fetch, unless `process` is False.
    """
    options = CrawlOptions(threads or default_threads(sites), lease_seconds, linger_seconds, max_seconds,
                           process, read_timeout, total_timeout, max_bytes)
    control = connect(database_url)
    migrate(control)
    released = release_dead_leases(control)
    if released:
        log.info("released leases of a crashed crawl", extra={"count": released})
    prepare_frontier(control, sites, recrawl=recrawl)
    run = _Crawl(database_url, control, sites, options, progress=progress, on_fetch=on_fetch)
    try:
        run.process_leftovers()
        run.dispatch(stop or threading.Event())
    finally:
        run.finish()
    return run.result()


class _Crawl:
    """One in-process crawl: the dispatch loop in the calling thread, fetch (and process)
    in a thread pool. Counters are shared between threads under `lock`."""

    def __init__(self, database_url: str, control: psycopg.Connection, sites: list[SiteConfig],
                 options: CrawlOptions, *, progress: Progress | None,
                 on_fetch: Callable[[FetchOutcome], None] | None) -> None:
        self.control = control
        self.options = options
        self.names = [s.name for s in sites]
        self.by_name = {s.name: s for s in sites}
        self.summaries = {s.name: SiteSummary(s.name) for s in sites}
        self.stats = Stats()
        self.owner = make_owner()
        self.lock = threading.Lock()
        self.requests = 0
        self.started = time.monotonic()
        self.folded_at = self.started
        self.progress = progress
        self.on_fetch = on_fetch
        self.pool: ConnectionPool = make_pool(database_url, min_size=1, max_size=options.threads + 1)
        self.client: CrawlClient = make_client(read=options.read_timeout, max_connections=options.threads * 2)
        self.executor = ThreadPoolExecutor(max_workers=options.threads, thread_name_prefix="crawl")
        self.in_flight: set[Future[None]] = set()

    # -- the dispatch loop (calling thread) ------------------------------------------
    def process_leftovers(self) -> None:
        """Pages a previous crawl stored but did not parse (it died in between), first."""
        if not self.options.process:
            return
        leftovers = frontier.unprocessed_pages(self.control, self.names)
        if leftovers:
            log.info("processing pages a previous crawl stored but did not parse", extra={"count": len(leftovers)})
            for page_id, site_name in leftovers:
                self._process(self.control, page_id, site_name)

    def dispatch(self, stop: threading.Event) -> None:
        """Claim due URLs for free threads until nothing is due within the linger time."""
        while not stop.is_set() and not self._out_of_time():
            self.in_flight = {f for f in self.in_flight if not f.done()}
            claims = self._claim()
            self._show_progress()
            self._fold_counts()
            if claims:
                continue
            wait_for = frontier.seconds_until_due(self.control, sites=self.names)
            if not self.in_flight and (wait_for is None or wait_for > self.options.linger_seconds):
                return
            self._pause(wait_for, stop)

    def _out_of_time(self) -> bool:
        limit = self.options.max_seconds
        return limit is not None and time.monotonic() - self.started > limit

    def _claim(self) -> list[Claim]:
        free = self.options.threads - len(self.in_flight)
        if free <= 0:
            return []
        claims = frontier.claim_due(self.control, limit=free, lease_seconds=self.options.lease_seconds,
                                    owner=self.owner, sites=self.names)
        for claim in claims:
            self.in_flight.add(self.executor.submit(self._guarded, claim))
        return claims

    def _pause(self, wait_for: float | None, stop: threading.Event) -> None:
        """Sleep until the next host slot, or until a running fetch finishes."""
        pause = 0.05 if wait_for is None else min(max(wait_for, 0.002), 0.25)
        if self.in_flight:
            wait(self.in_flight, timeout=pause, return_when=FIRST_COMPLETED)
        else:
            stop.wait(pause)

    def _fold_counts(self) -> None:
        """Every 10 s, fold the count deltas this crawl's writes append (migration 0080), as
        the fleet's dispatcher does, so `govingest status` reads stay small."""
        if time.monotonic() - self.folded_at >= 10.0:
            frontier.fold_counts(self.control)
            self.folded_at = time.monotonic()

    def _show_progress(self) -> None:
        if self.progress is None or not self.progress.wants_update():
            return
        with self.lock:
            errors = sum(sum(s.errors.values()) for s in self.summaries.values())
            done = sum(s.fetched for s in self.summaries.values()) + errors
            docs = sum(s.created for s in self.summaries.values())
        self.progress.update(done, done + frontier.pending_count(self.control, self.names), docs, errors)

    def finish(self) -> None:
        """Wait for running work, release this run's leases, read the totals, close."""
        wait(self.in_flight)
        self.executor.shutdown(wait=True)
        self.client.close()
        frontier.release_owners(self.control, [self.owner])
        fill_totals(self.control, self.summaries)
        self.control.close()
        self.pool.close()
        if self.progress is not None:
            self.progress.close()

    def result(self) -> CrawlResult:
        return CrawlResult(self.summaries, self.stats, time.monotonic() - self.started, self.requests)

    # -- one claim (pool threads) ----------------------------------------------------
    def _guarded(self, claim: Claim) -> None:
        try:
            self._work(claim)
        except Exception as exc:  # a bug or a database hiccup must not end the crawl
            with self.lock:
                self.summaries[claim.site].errors[ErrorKind.INTERNAL] += 1
            record_internal_error(self.pool, claim.url_id, exc, owner=self.owner, url=claim.url)

    def _work(self, claim: Claim) -> None:
        local = Stats()
        with self.pool.connection() as conn:
            result = fetch_url(conn, claim, self.by_name[claim.site], self.client, owner=self.owner, stats=local,
                               max_bytes=self.options.max_bytes, total_timeout=self.options.total_timeout)
            self._count_fetch(claim.site, result, local)
            if self.on_fetch is not None:
                self.on_fetch(result)
            if self.options.process and result.page_id is not None:
                self._process(conn, result.page_id, claim.site)

    def _count_fetch(self, site: str, result: FetchOutcome, local: Stats) -> None:
        with self.lock:
            self.stats.merge(local)
            self.requests += result.requests
            s = self.summaries[site]
            if result.status is not None and not local.counts.get("robots_fetched"):  # the page itself
                s.fetched += 1
            if result.status == 304:
                s.not_modified += 1
            if result.error_kind and result.error_kind != ErrorKind.LEASE_LOST:
                s.errors[result.error_kind] += 1
            if local.counts.get("pages_stored"):
                s.stored += 1

    def _process(self, conn: psycopg.Connection, page_id: int, site: str) -> None:
        local = Stats()
        outcome = process_page(conn, page_id, stats=local)
        conn.commit()
        with self.lock:
            self.stats.merge(local)
            if outcome.kind in ("created", "updated"):
                self.summaries[site].created += 1
            elif outcome.kind == "failed":
                self.summaries[site].errors[outcome.error_kind or ErrorKind.PARSE] += 1

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
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TextIO

import psycopg

from govingest.crawler.config import SiteConfig
from govingest.crawler.fetch import DEFAULT_MAX_BYTES, make_client
from govingest.crawler.politeness import budget
from govingest.crawler.urls import canonicalize, host_key
from govingest.db import frontier
from govingest.db.frontier import Claim
from govingest.parsers.stats import Stats

log = logging.getLogger(__name__)


@dataclass
class SiteSummary:
    site: str
    fetched: int = 0  # HTTP responses for pages (robots.txt not counted)
    not_modified: int = 0
    stored: int = 0
    documents: int = 0  # documents of the site in the database
    facts: int = 0
    created: int = 0  # documents created or updated by this run
    errors: Counter[str] = field(default_factory=Counter)  # by error kind, this run


@dataclass
class CrawlResult:
    sites: dict[str, SiteSummary]
    stats: Stats
    seconds: float
    requests: int

    @property
    def pages_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


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
    """Leases of crashed processes on this machine, released now rather than at expiry."""
    dead = []
    for owner in frontier.lease_owners(conn, owner_prefix()):
        parts = owner.split(":")
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) != os.getpid() and not _pid_alive(int(parts[1])):
            dead.append(owner)
    return frontier.release_owners(conn, dead)


def seed_sites(conn: psycopg.Connection, sites: list[SiteConfig]) -> int:
    """Register sites, their hosts' budgets and start URLs (idempotent); commits."""
    added = 0
    with conn.transaction():
        for site in sites:
            frontier.upsert_site(conn, site.name, site.as_json())
            b = budget(site.rate, site.concurrency, None)
            hosts = set(site.allowed_hosts) | {host_key(u) for u in site.start_urls}
            for host in sorted(hosts):
                frontier.set_host_budget(conn, host, interval=b.interval, concurrency=b.concurrency)
            starts: dict[str, str] = {}
            for u in site.start_urls:
                canon = canonicalize(u)
                if canon is not None:
                    starts[canon] = "article" if site.is_article(canon) else "list"
            added += frontier.add_urls(conn, site.name, list(starts.items()), 0, None)
    conn.commit()
    return added


def prepare_frontier(conn: psycopg.Connection, sites: list[SiteConfig], *, recrawl: bool) -> None:
    """Reap expired leases, seed the sites and (with `recrawl`) make their URLs due now, on a
    migrated database. The in-process crawl and the fleet (`workers.fleet.supervisor.run_fleet`) both
    start here, so both paths crawl the same frontier."""
    frontier.reap_expired(conn)
    seed_sites(conn, sites)
    if recrawl:
        with conn.transaction():
            for site in sites:
                frontier.reschedule_site(conn, site.name, sorted(set(site.allowed_hosts)))
        conn.commit()


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
    on_fetch: Callable[[object], None] | None = None,
    read_timeout: float = 15.0,
    total_timeout: float = 60.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> CrawlResult:
    """Crawl `sites` until nothing is due within `linger_seconds` (or `max_seconds` pass).

    `recrawl` makes every known URL of the sites due now (conditional GETs for
    articles): the demo's second run. Pages are processed in the fetching thread
    right after their fetch, unless `process` is False.
    """
    from govingest.db.connect import connect, make_pool
    from govingest.db.migrate import migrate

    stop = stop or threading.Event()
    names = [s.name for s in sites]
    by_name = {s.name: s for s in sites}
    summaries = {s.name: SiteSummary(s.name) for s in sites}
    stats = Stats()
    owner = make_owner()
    if threads is None:
        # every host's concurrency, plus a few threads busy parsing; each holds one connection
        threads = min(32, sum(s.concurrency * max(1, len(s.allowed_hosts)) for s in sites) + 4)
    lock = threading.Lock()
    requests = 0
    started = time.monotonic()

    control = connect(database_url)
    migrate(control)
    released = release_dead_leases(control)
    if released:
        log.info("released leases of a crashed crawl", extra={"count": released})
    prepare_frontier(control, sites, recrawl=recrawl)

    pool = make_pool(database_url, min_size=1, max_size=threads + 1)
    client = make_client(read=read_timeout, max_connections=threads * 2)
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="crawl")
    in_flight: set[Future[None]] = set()

    def process_one(conn: psycopg.Connection, page_id: int, site: str) -> None:
        from govingest.workers.stages.process import process_page

        local = Stats()
        outcome = process_page(conn, page_id, stats=local)
        conn.commit()
        with lock:
            stats.merge(local)
            if outcome.kind in ("created", "updated"):
                summaries[site].created += 1
            elif outcome.kind == "failed":
                summaries[site].errors["parse"] += 1

    def work(claim: Claim) -> None:
        nonlocal requests
        from govingest.workers.stages.fetch import fetch_url

        local = Stats()
        with pool.connection() as conn:
            result = fetch_url(conn, claim, by_name[claim.site], client, owner=owner, stats=local,
                               max_bytes=max_bytes, total_timeout=total_timeout)
            with lock:
                stats.merge(local)
                requests += result.requests
                s = summaries[claim.site]
                if result.status is not None and not local.counts.get("robots_fetched"):  # the page itself
                    s.fetched += 1
                if result.status == 304:
                    s.not_modified += 1
                if result.error_kind and result.error_kind != "lease_lost":
                    s.errors[result.error_kind] += 1
                if local.counts.get("pages_stored"):
                    s.stored += 1
            if on_fetch is not None:
                on_fetch(result)
            if process and result.page_id is not None:
                process_one(conn, result.page_id, claim.site)

    def guarded(claim: Claim) -> None:
        try:
            work(claim)
        except Exception as exc:  # a bug or a database hiccup must not end the crawl
            log.exception("crawl task failed", extra={"url": claim.url})
            with lock:
                summaries[claim.site].errors["internal"] += 1
            try:
                with pool.connection() as conn:
                    frontier.record_outcome(conn, claim.url_id, frontier.Outcome(
                        "failed", error_kind="internal", fetched=False, next_fetch_in=300.0,
                        message=f"internal error {type(exc).__name__}: {exc}; retried in 5 minutes"), owner=owner)
                    conn.commit()
            except Exception:
                log.exception("could not record the internal error", extra={"url": claim.url})

    try:
        if process:
            leftovers = frontier.unprocessed_pages(control, names)
            if leftovers:
                log.info("processing pages a previous crawl stored but did not parse",
                         extra={"count": len(leftovers)})
                for page_id, site_name in leftovers:
                    process_one(control, page_id, site_name)
        while not stop.is_set():
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
            in_flight = {f for f in in_flight if not f.done()}
            free = threads - len(in_flight)
            claims = frontier.claim_due(control, limit=free, lease_seconds=lease_seconds, owner=owner,
                                        sites=names) if free > 0 else []
            for claim in claims:
                in_flight.add(executor.submit(guarded, claim))
            if progress is not None and progress.wants_update():
                with lock:
                    done = sum(s.fetched + sum(s.errors.values()) for s in summaries.values())
                    errs = sum(sum(s.errors.values()) for s in summaries.values())
                    docs = sum(s.created for s in summaries.values())
                progress.update(done, done + frontier.pending_count(control, names), docs, errs)
            if claims:
                continue
            wait_for = frontier.seconds_until_due(control, sites=names)
            if not in_flight and (wait_for is None or wait_for > linger_seconds):
                break
            # sleep until the next host slot, or until a running fetch finishes
            pause = 0.05 if wait_for is None else min(max(wait_for, 0.002), 0.25)
            if in_flight:
                wait(in_flight, timeout=pause, return_when=FIRST_COMPLETED)
            else:
                stop.wait(pause)
    finally:
        wait(in_flight)
        executor.shutdown(wait=True)
        client.close()
        frontier.release_owners(control, [owner])
        _fill_totals(control, summaries)
        control.close()
        pool.close()
        if progress is not None:
            progress.close()
    return CrawlResult(summaries, stats, time.monotonic() - started, requests)


def _fill_totals(conn: psycopg.Connection, summaries: dict[str, SiteSummary]) -> None:
    for site, (docs, facts) in frontier.document_totals(conn, list(summaries)).items():
        summaries[site].documents = docs
        summaries[site].facts = facts


def format_summary(result: CrawlResult) -> str:
    """The per-site table `crawl` and `demo` print."""
    header = ("site", "fetched", "304", "stored", "new/changed docs", "documents", "facts", "errors by kind")
    rows = [header]
    for s in result.sites.values():
        errors = ", ".join(f"{k}={v}" for k, v in sorted(s.errors.items())) or "-"
        rows.append((s.site, str(s.fetched), str(s.not_modified), str(s.stored), str(s.created),
                     str(s.documents), str(s.facts), errors))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)) + "  " + r[-1] for r in rows]
    lines.append(f"{result.requests} requests in {result.seconds:.1f}s ({result.pages_per_second:.1f}/s)")
    return "\n".join(lines)

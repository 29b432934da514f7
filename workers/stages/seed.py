"""Where every crawl starts: sites, host budgets and start URLs in the frontier.

Both executors call `prepare_frontier` before their first claim (the in-process
runner, `workers.local.runner.crawl`, and the fleet, `workers.fleet.supervisor.run_fleet`;
`govingest dispatch` seeds with `seed_sites`), so both crawl the same frontier.
"""
from __future__ import annotations

import psycopg

from govingest.crawler.config import SiteConfig
from govingest.crawler.politeness import budget
from govingest.crawler.urls import canonicalize, host_key
from govingest.db import frontier
from govingest.db.frontier import NewUrl


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
            starts: dict[str, NewUrl] = {}
            for u in site.start_urls:
                canon = canonicalize(u)
                if canon is not None:
                    starts[canon] = NewUrl(canon, "article" if site.is_article(canon) else "list", host_key(canon))
            added += frontier.add_urls(conn, site.name, starts.values(), 0, None)
    conn.commit()
    return added


def prepare_frontier(conn: psycopg.Connection, sites: list[SiteConfig], *, recrawl: bool) -> None:
    """Reap expired leases, seed the sites and (with `recrawl`) make their URLs due now, on a
    migrated database."""
    frontier.reap_expired(conn)
    seed_sites(conn, sites)
    if recrawl:
        with conn.transaction():
            for site in sites:
                frontier.reschedule_site(conn, site.name, sorted(set(site.allowed_hosts)))
        conn.commit()

"""`govingest demo`: the whole pipeline with zero setup, against bundled fixture sites.

Embedded PostgreSQL when DATABASE_URL is unset; the fixture sites on loopback ports;
crawl, process, store; a per-site table. The database persists in the data directory,
and the fixture sites reuse the ports of the previous run when they are free, so a
second run finds every URL known: it re-asks each page with a conditional GET
(articles answer 304) and stores nothing new.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from govingest.crawler.config import SiteConfig, parse_sites
from govingest.db.connect import data_dir, resolve_database_url
from govingest.workers.cli import UserError
from govingest.workers.settings import Settings

PORTS_FILE = "demo_ports.json"
DEFAULT_PORT = 18640  # first try: the fixture sites take DEFAULT_PORT, +1, +2, +3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="serve the fixture sites locally, crawl, process and store them (zero setup)")
    p.add_argument("--rate", type=float, default=10.0, help="requests/s per fixture site (default 10)")
    p.add_argument("--linger", type=float, default=2.0, metavar="SECONDS",
                   help="finish when nothing is due within this many seconds (default 2)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="run the distributed path: a local Celery fleet of N process workers plus a fetch "
                        "worker (embedded Redis when REDIS_URL is unset); default 0: in this process")
    p.set_defaults(func=run)


def start_fixture(state_dir: Path):  # -> FixtureSite
    """Start the fixture sites, on the previous run's ports when they are still free."""
    from govingest.workers.fixture_site.server import FixtureSite

    ports_path = state_dir / PORTS_FILE
    try:
        wanted = int(json.loads(ports_path.read_text())["port"])
    except (OSError, ValueError, KeyError, TypeError):
        wanted = DEFAULT_PORT
    for port in (wanted, 0):
        fixture = FixtureSite()
        try:
            fixture.start(port=port)
        except OSError:
            continue
        ports = sorted(int(i.host.rsplit(":", 1)[1]) for i in fixture.sites)
        consecutive = ports == list(range(ports[0], ports[0] + len(ports)))
        if consecutive:
            state_dir.mkdir(parents=True, exist_ok=True)
            ports_path.write_text(json.dumps({"port": ports[0]}))
        return fixture
    raise UserError(f"cannot start the fixture sites on 127.0.0.1 (ports {wanted}+ and free ports both failed)")


def demo_sites(fixture, rate: float) -> list[SiteConfig]:  # fixture: FixtureSite
    from govingest.workers.fixture_site.sites_toml import site_tables

    return parse_sites({"site": site_tables(fixture, rate=rate, concurrency=4)}, "demo fixture sites")


def run(args: argparse.Namespace) -> int:
    from govingest.workers.local.runner import Progress, crawl
    from govingest.workers.stages.summary import format_summary

    settings = Settings.from_env()
    if not settings.database_url:
        print("starting the embedded PostgreSQL (first run: a few seconds)...", file=sys.stderr)
    url = resolve_database_url(settings)
    fixture = start_fixture(data_dir(settings))
    try:
        sites = demo_sites(fixture, args.rate)
        print("fixture sites: " + ", ".join(f"{i.name}={i.base_url}" for i in fixture.sites), file=sys.stderr)
        if args.workers:
            from govingest.workers.fleet.supervisor import crawl_with_fleet

            result = crawl_with_fleet(url, sites, workers=args.workers, redis_url=settings.redis_url,
                                      recrawl=True, linger_seconds=args.linger, read_timeout=5.0,
                                      total_timeout=15.0)
        else:
            result = crawl(url, sites, recrawl=True, linger_seconds=args.linger, read_timeout=5.0,
                           total_timeout=15.0, progress=Progress())
    finally:
        fixture.stop()
    print(format_summary(result))
    stored = sum(s.stored for s in result.sites.values())
    if stored == 0:
        print("nothing new stored: every page was already known (articles answered 304 Not Modified)")
    return 0

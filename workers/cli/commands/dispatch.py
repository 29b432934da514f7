"""`govingest dispatch`: the dispatcher and reaper loop of a standing worker fleet.

Run one or several (they never hand out the same URL twice) next to Celery workers:

    govingest dispatch --sites sites.toml
    celery -A govingest.workers.fleet.app worker -Q fetch -P threads -c 16
    celery -A govingest.workers.fleet.app worker -Q process -P prefork -c 4
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from govingest.db.connect import connect, resolve_database_url
from govingest.db.migrate import migrate
from govingest.workers.cli import UserError
from govingest.workers.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dispatch", help="hand due URLs to the Celery fleet and recover lost work (loop)")
    p.add_argument("--sites", metavar="FILE",
                   help="sites file to register first (default GOVINGEST_SITES when that file exists)")
    p.add_argument("--site", action="append", metavar="NAME", help="dispatch only this site (repeatable)")
    p.add_argument("--once", action="store_true", help="run one round and exit (cron, Kubernetes CronJob)")
    p.add_argument("--until-done", action="store_true",
                   help="exit when nothing is leased, waiting or due within --linger seconds")
    p.add_argument("--linger", type=float, default=15.0, metavar="SECONDS",
                   help="with --until-done: how far ahead to look for due URLs (default 15)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from govingest.workers.observe.log import setup_logging

    settings = Settings.from_env()
    setup_logging(settings.log_level, settings.log_json)
    if not settings.redis_url:
        raise UserError("REDIS_URL is not set: the dispatcher needs the broker the workers read from "
                        "(e.g. redis://localhost:6379/0); for a one-machine run use `govingest crawl --workers N`")
    sites_path = args.sites or (settings.sites_file if Path(settings.sites_file).is_file() else None)
    names: list[str] | None = args.site
    url = resolve_database_url(settings)
    with connect(url) as conn:
        migrate(conn)
        if sites_path:
            from govingest.workers.cli.commands.crawl import select_sites
            from govingest.workers.stages.seed import seed_sites

            sites = select_sites(sites_path, args.site)
            seed_sites(conn, sites)
            names = [s.name for s in sites]

    from govingest.workers.fleet.dispatcher import Dispatcher

    dispatcher = Dispatcher(url, lease_seconds=settings.lease_seconds, batch=settings.dispatch_batch,
                            max_outstanding=settings.dispatch_max_queued, idle_sleep=settings.dispatch_interval,
                            sites=names)
    if args.once:
        try:
            r = dispatcher.run_once()
        except Exception as exc:
            raise UserError(f"dispatch round failed: {type(exc).__name__}: {exc}") from exc
        finally:
            dispatcher.close()
        print(f"dispatched {r.claimed} URLs, reaped {r.reaped} expired leases, re-sent {r.pages_requeued} pages"
              + (" (broker refused; leases released)" if r.send_failed else ""))
        return 1 if r.send_failed else 0

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    totals = dispatcher.run(stop, until_settled=args.until_done, linger_seconds=args.linger)
    print(f"dispatcher stopped: {totals.claimed} URLs dispatched, {totals.reaped} leases reaped, "
          f"{totals.pages_requeued} pages re-sent, {totals.errors} failed rounds", file=sys.stderr)
    return 0

"""`govingest serve-fixtures`: serve the bundled fixture gov sites on 127.0.0.1 until Ctrl-C."""
from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from govingest.workers.cli import UserError
from govingest.workers.fixture_site import ALL_SITES, FixtureSite, write_sites_toml


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve-fixtures", help="serve the fixture government sites on 127.0.0.1 (tests, demo, benchmarks)")
    p.add_argument("--port", type=int, default=0,
                   help="port of the first site; the others take the next ports (default 0: free ports)")
    p.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="delay every response by this much")
    p.add_argument("--articles", type=int, default=0, metavar="N",
                   help="add the 'bulk' site with N generated articles (fleet drills need >= 300)")
    p.add_argument("--site", action="append", choices=[*ALL_SITES, "bulk"], dest="sites",
                   help="serve only this site (repeatable; default: all)")
    p.add_argument("--crawl-delay", type=float, default=0.1, metavar="SECONDS",
                   help="Crawl-delay written in every robots.txt (0: none)")
    p.add_argument("--sites-toml", type=Path, metavar="FILE", help="also write a sites file for the crawler here")
    p.add_argument("--access-log", type=Path, metavar="FILE", help="access log path (default: a temporary file)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port {args.port} is not a TCP port; use 0 for free ports or 1024-65535")
    if args.latency < 0 or args.articles < 0 or args.crawl_delay < 0:
        raise UserError("--latency, --articles and --crawl-delay must not be negative")
    try:
        fixture = FixtureSite(sites=args.sites or ALL_SITES, articles=args.articles, latency=args.latency,
                              crawl_delay=args.crawl_delay, access_log=args.access_log)
    except OSError as exc:
        raise UserError(f"cannot open the access log {args.access_log} ({exc.strerror or exc}); "
                        "pass a writable --access-log path") from exc
    try:
        fixture.start(args.port)
    except OSError as exc:
        raise UserError(str(exc.strerror or exc)) from exc
    try:
        for info in fixture.sites:
            print(f"{info.name:8} {info.base_url}  start: {', '.join(info.start_urls)}  "
                  f"({len(info.article_urls)} articles)", flush=True)
        if args.sites_toml:
            print(f"sites file: {write_sites_toml(args.sites_toml, fixture)}", flush=True)
        print(f"access log: {fixture.access_log}", flush=True)
        print("serving; Ctrl-C stops", flush=True)
        stop = threading.Event()
        # SIGTERM (benchmarks and CI stopping a background server) ends it as cleanly as Ctrl-C
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(1.0):
            pass
        print("stopped", flush=True)
    finally:
        fixture.stop()
    return 0

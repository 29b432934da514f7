"""Crawl throughput against the fixture site, as a fraction of the politeness ceiling.

    .venv/bin/python bench/crawl.py [--articles 150] [--rate 10] [--latency 0.1]

Why a ratio: the crawler is *meant* to be slow — a host may be asked `rate` times per
second and no more — so raw pages/s says nothing. What matters is how close the
crawl comes to the ceiling the config allows (target >= 0.9) without exceeding it.
The fixture server runs in its own process (`govingest serve-fixtures`) with added
latency per response, so the crawler's own work does not slow the server's clock;
the figures come from the server's access log, measured in this one run.

Prints: requests, span, pages/s, ceiling, ratio, the strict at-the-wire figure — the
closest two request starts of one host (robots.txt included) against the interval
1/rate, and how many pairs were closer (must be 0, no tolerance) — and the end-to-end
wall time including processing.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import itertools  # noqa: E402

import psycopg  # noqa: E402
import psycopg.conninfo  # noqa: E402

from govingest.crawler.config import load_sites, parse_site  # noqa: E402
from govingest.workers.fixture_site.server import read_access_log  # noqa: E402
from govingest.workers.local.runner import crawl  # noqa: E402


def server_url() -> str:
    return os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


def with_db(url: str, name: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(url)
    params["dbname"] = name
    return psycopg.conninfo.make_conninfo(**params)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=150)
    ap.add_argument("--rate", type=float, default=10.0, help="requests/s per host allowed by the config")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--latency", type=float, default=0.1, help="seconds added to every fixture response")
    ap.add_argument("--no-process", action="store_true", help="fetch only, do not parse and store documents")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="govingest-bench-"))
    sites_file, access_log = tmp / "sites.toml", tmp / "access.jsonl"
    server = subprocess.Popen(
        [sys.executable, "-m", "govingest", "serve-fixtures", "--site", "bulk", "--articles", str(args.articles),
         "--latency", str(args.latency), "--crawl-delay", "0", "--sites-toml", str(sites_file),
         "--access-log", str(access_log)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dbname = f"govingest_bench_{uuid.uuid4().hex[:8]}"
    admin = server_url()
    try:
        for _ in range(200):
            if sites_file.exists() and sites_file.stat().st_size > 0:
                break
            if server.poll() is not None:
                print("fixture server failed: " + server.stderr.read().decode()[-1000:], file=sys.stderr)
                return 1
            time.sleep(0.05)
        time.sleep(0.2)
        sites = [parse_site({**s.as_json(), "rate": args.rate, "concurrency": args.concurrency,
                             "recrawl_list_seconds": 3600}, "bench") for s in load_sites(sites_file)]
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{dbname}"')
        started = time.monotonic()
        result = crawl(with_db(admin, dbname), sites, linger_seconds=1.0, process=not args.no_process)
        wall = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(10)
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    every = sorted(r["ts"] for r in read_access_log(access_log))  # robots.txt included: one host
    gaps = [b - a for a, b in itertools.pairwise(every)]
    interval = 1.0 / args.rate
    log = [r for r in read_access_log(access_log) if r["path"] != "/robots.txt"]
    stamps = sorted(r["ts"] for r in log)
    span = stamps[-1] - stamps[0]
    pages_per_s = (len(stamps) - 1) / span if span > 0 else float("nan")
    hosts = len(sites)
    ceiling = args.rate * hosts  # concurrency x 1/latency is higher here, so the rate binds
    ceiling = min(ceiling, hosts * args.concurrency / args.latency) if args.latency > 0 else ceiling
    docs = sum(s.documents for s in result.sites.values())
    print(f"requests (robots.txt excluded): {len(stamps)} to {hosts} host(s), latency {args.latency}s")
    print(f"span first→last request: {span:.2f}s")
    print(f"pages/s: {pages_per_s:.2f}")
    print(f"politeness ceiling: {ceiling:.2f}/s (rate {args.rate}/s per host, concurrency {args.concurrency})")
    print(f"ratio to ceiling: {pages_per_s / ceiling:.3f}")
    # strict politeness: a start waits for the previous answer plus the interval, so one
    # host can take at most 1/(interval + time to first byte) requests per second
    strict = 1.0 / (interval + args.latency) * hosts
    print(f"strict ceiling 1/(interval + latency): {strict:.2f}/s; ratio to it: {pages_per_s / strict:.3f} "
          "(target >= 0.9)")
    print(f"closest request starts at the wire: {min(gaps):.4f}s (interval {interval:.4f}s); "
          f"pairs closer than the interval: {sum(1 for g in gaps if g < interval)} (must be 0)")
    polls = result.stats.counts.get("slot_busy_polls", 0)
    print(f"slot polls while the host's previous request was out: {polls} "
          f"({polls / max(1, len(every)):.1f} per request; each is a database round trip)")
    print(f"wall time incl. start/processing: {wall:.2f}s, documents stored: {docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

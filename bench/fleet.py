"""End-to-end documents/s on the fixture site: in-process crawl vs the Celery fleet.

    .venv/bin/python bench/fleet.py [--articles 300] [--latency 0.0] [--rate 400] [--repeat 3]

One run measures, on the same fixture site and the same PostgreSQL, side by side:
  * the in-process crawl (`workers.local.runner.crawl`),
  * the fleet with 1 and with 2 process workers (plus one fetch worker; Redis embedded
    unless --redis-url), timed from the first dispatch to the settled crawl with warm
    workers ("warm"), and also including worker start-up ("cold").
It prints documents/s and the ratio of fleet throughput per process worker to the
in-process run (target >= 0.75). Databases are created for the run and dropped after.

CPU per document is counted two ways: the machine's busy share (all processes, so other
load on a shared machine counts too), and the CPU seconds of this process tree alone over
the timed window — this process (fixture server, dispatcher or in-process crawl) plus every
descendant (fetch and process workers, their pool children, the embedded Redis), warm: the
workers' start-up is outside the window. PostgreSQL's own CPU is in neither tree figure.
The last line, `cpu_ratio=X.XX`, is fleet x1 tree CPU per document ÷ in-process (target ≤ 1.1);
it is the median of `--repeat` (3) such pairs, each measured side by side, since one pair
moves by ±0.1 on a shared machine. `--rate 40` measures a politeness-bound crawl.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from govingest.workers.observe.log import setup_logging


def _server_url(arg: str | None) -> str:
    return arg or os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


def _new_db(server: str) -> tuple[str, str]:
    import psycopg.conninfo as ci

    name = f"bench_fleet_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = ci.conninfo_to_dict(server)
    params["dbname"] = name
    return name, ci.make_conninfo(**params)


def _drop_db(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tree_cpu() -> float:
    """CPU seconds so far of this process and all its descendants (live ones, plus what
    their exited children left in their counters)."""
    return sum(cpu_by_role().values())


def _role(p: psutil.Process) -> str:
    try:
        cmd = " ".join(p.cmdline())
    except psutil.Error:
        return "gone"
    for role in ("fetch", "process"):
        if f"-Q {role}" in cmd:
            return f"{role} worker"
    return "redis" if "redis" in cmd else "this process"


def cpu_by_role() -> dict[str, float]:
    """`tree_cpu`, split by what each process is: where the fleet's extra CPU goes."""
    me = psutil.Process()
    out: dict[str, float] = {}
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        role = _role(p)
        out[role] = out.get(role, 0.0) + t.user + t.system + t.children_user + t.children_system
    return out


def _documents(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])


def _prepare(url: str, sites: list) -> None:
    from govingest.db.connect import connect
    from govingest.db.migrate import migrate
    from govingest.workers.stages.seed import seed_sites

    with connect(url) as conn:
        migrate(conn)
        seed_sites(conn, sites)


def in_process(server: str, sites: list) -> tuple[int, float, float]:
    import govingest.parsers.pipeline  # noqa: F401  (warm, as the fleet's workers are)
    from govingest.workers.local.runner import crawl

    name, url = _new_db(server)
    try:
        _prepare(url, sites)
        t0, c0 = time.perf_counter(), tree_cpu()
        crawl(url, sites, linger_seconds=0.5)
        return _documents(url), time.perf_counter() - t0, tree_cpu() - c0
    finally:
        _drop_db(server, name)


def fleet(server: str, sites: list, workers: int, redis_url: str | None,
          concurrency: int = 1, fetch_threads: int = 8,
          dispatch_interval: float = 0.02) -> tuple[int, float, float, float]:
    from govingest.workers.fleet.supervisor import Fleet, FleetOptions

    name, url = _new_db(server)
    try:
        _prepare(url, sites)
        opts = FleetOptions(process_workers=workers, process_concurrency=concurrency, fetch_workers=1,
                            fetch_concurrency=fetch_threads, dispatch_interval=dispatch_interval)
        cold0 = time.perf_counter()
        with Fleet(url, redis_url=redis_url, options=opts) as f:
            f.start_workers()
            f.wait_ready()
            d = f.dispatcher([s.name for s in sites])
            d.housekeeping_seconds = 0.25
            t0, c0, roles0 = time.perf_counter(), tree_cpu(), cpu_by_role()
            d.run(threading.Event(), until_settled=True, linger_seconds=0.5)
            t1, cpu, roles1 = time.perf_counter(), tree_cpu() - c0, cpu_by_role()
        docs = _documents(url)
        split = ", ".join(f"{r} {(roles1[r] - roles0.get(r, 0.0)) * 1000 / max(docs, 1):.1f}"
                          for r in sorted(roles1))
        print(f"fleet x{workers} tree CPU ms/doc by process: {split}", flush=True)
        return docs, t1 - t0, t1 - cold0, cpu
    finally:
        _drop_db(server, name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added to every fixture response")
    ap.add_argument("--rate", type=float, default=400.0, help="per-host politeness rate (requests/s)")
    ap.add_argument("--concurrency", type=int, default=8,
                    help="per-host concurrency, and the fetch worker's threads")
    ap.add_argument("--dispatch-interval", type=float, default=0.02,
                    help="seconds between dispatcher rounds (production default is larger; small here so "
                         "the dispatcher is not what the bench measures)")
    ap.add_argument("--database-url", help="server to create bench databases on (default DATABASE_URL or local)")
    ap.add_argument("--redis-url", help="broker (default: an embedded Redis for this run)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="measure in-process and fleet x1 this many times in all (default 3; the first in the table, "
                         "the rest side by side after it); cpu_ratio is the median of the pairs' ratios")
    args = ap.parse_args()
    setup_logging("WARNING")

    from govingest.crawler.config import parse_sites
    from govingest.workers.fixture_site import FixtureSite
    from govingest.workers.fixture_site.sites_toml import site_tables

    server = _server_url(args.database_url)
    with FixtureSite(sites=["bulk"], articles=args.articles, crawl_delay=0, latency=args.latency) as fx:
        sites = parse_sites({"site": site_tables(fx, rate=args.rate, concurrency=args.concurrency)}, "bench")
        psutil.cpu_percent(None)
        docs0, s0, tree0 = in_process(server, sites)
        rows = [("in-process", 1, docs0, s0, s0, psutil.cpu_percent(None))]
        trees = [tree0]
        for n in (1, 2):
            docs, warm, cold, tree = fleet(server, sites, n, args.redis_url, fetch_threads=args.concurrency,
                                           dispatch_interval=args.dispatch_interval)
            rows.append((f"fleet x{n}", n, docs, warm, cold, psutil.cpu_percent(None)))
            trees.append(tree)
        # more in-process / fleet x1 pairs, each measured side by side: a busy machine moves both
        ratios = [(trees[1] / max(1, rows[1][2])) / (trees[0] / max(1, docs0))]
        for _ in range(args.repeat - 1):
            d_in, _s, t_in = in_process(server, sites)
            d_fl, _w, _c, t_fl = fleet(server, sites, 1, args.redis_url, fetch_threads=args.concurrency,
                                       dispatch_interval=args.dispatch_interval)
            ratios.append((t_fl / max(1, d_fl)) / (t_in / max(1, d_in)))
    base = docs0 / s0
    print(f"fixture: {args.articles} articles, latency {args.latency}s, rate {args.rate}/s, "
          f"concurrency {args.concurrency}; cores: {os.cpu_count()}")
    print(f"{'run':12} {'procs':>5} {'docs':>5} {'warm s':>7} {'docs/s':>7} {'cold s':>7} {'docs/s':>7} "
          f"{'per-proc ratio (warm)':>22} {'(cold)':>7} {'machine CPU busy':>17} {'CPU ms/doc':>10} "
          f"{'tree CPU ms/doc':>15}")
    cores = os.cpu_count() or 1
    for (label, n, docs, warm, cold, cpu), tree in zip(rows, trees, strict=True):
        r_warm, r_cold = docs / warm, docs / cold
        cpu_ms = cpu / 100 * cores * (s0 if n == 1 and label == "in-process" else cold) / max(1, docs) * 1000
        print(f"{label:12} {n:>5} {docs:>5} {warm:7.2f} {r_warm:7.1f} {cold:7.2f} {r_cold:7.1f} "
              f"{r_warm / n / base:22.2f} {r_cold / n / base:7.2f} {cpu:16.0f}% {cpu_ms:10.1f} "
              f"{tree / max(1, docs) * 1000:15.1f}")
    in_cpu_ms = rows[0][5] / 100 * cores * s0 / max(1, docs0) * 1000
    ceiling = cores * 1000 / in_cpu_ms
    print(f"CPU ceiling of this machine at the in-process cost ({in_cpu_ms:.1f} CPU ms/doc on {cores} cores): "
          f"{ceiling:.0f} docs/s = {ceiling / base:.2f}x in-process; 2 workers at 0.75 each need 1.50x")
    mismatched = [label for label, _, docs, _, _, _ in rows if docs != docs0]
    if mismatched:
        print(f"WARNING: document counts differ from the in-process run: {mismatched}")
    print("target: fleet docs/s per process worker >= 0.75 x in-process")
    print("machine CPU busy: all cores, averaged over the run (fixture server, PostgreSQL, Redis and "
          "workers share them); near 100% the run is CPU-bound and more worker processes cannot help")
    ratio = statistics.median(ratios)
    if len(ratios) > 1:
        print(f"cpu_ratio of each in-process / fleet x1 pair: {', '.join(f'{r:.2f}' for r in ratios)} (median below)")
    print(f"target: fleet CPU per document <= 1.1 x in-process (tree CPU, warm, one process worker) -> "
          f"{'MET' if ratio <= 1.1 else 'NOT MET'}")
    print(f"cpu_ratio={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

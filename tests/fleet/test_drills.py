"""Failure drills: a fleet (real Celery workers, real Redis, real PostgreSQL) crawls the
300-article fixture site while something breaks; the result must equal the in-process
crawl's — every article stored once, one `created` event each, no URL left leased, and
the poison page `failed` with a message a person can act on (the drills' process time
limit is a few seconds, so the fixture's poison page — tens of seconds of parsing —
is a hang to them).

Servers are private (tests/fleet/servers.py) so they can be killed; timings are tight
(short leases, short time limits) so the four drills stay within a few minutes.
"""
from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from govingest.workers.fleet.supervisor import Fleet, FleetOptions
from tests.fleet.conftest import Reference, url_paths
from tests.fleet.servers import PrivatePostgres, PrivateRedis

pytestmark = pytest.mark.slow

POISON_SUFFIX = "/poison.html"
DRILL_TIMEOUT = 180.0


def drill_options(**overrides: object) -> FleetOptions:
    base = {"process_workers": 2, "fetch_workers": 1, "fetch_concurrency": 8, "lease_seconds": 8.0,
                "fetch_time_limit": 6, "process_time_limit": 5, "process_max_attempts": 3, "dispatch_interval": 0.2,
                "log_level": "INFO"}
    base.update(overrides)
    return FleetOptions(**base)  # type: ignore[arg-type]


@dataclass
class DrillResult:
    documents: list[str]
    duplicate_events: int
    non_created_events: int
    events: int
    leased: int
    fetching: int
    poison_state: str | None
    poison_kind: str | None
    poison_error: str | None
    seconds: float
    dispatch_errors: int
    recovered: int  # leases reaped + pages re-sent by the dispatcher: the fault bit


def _doc_count(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    except psycopg.Error:
        return -1


def run_drill(pg: PrivatePostgres, redis: PrivateRedis, configs: list, *,
              fault: Callable[[Fleet], None], options: FleetOptions, fault_at_documents: int = 60,
              process_app: str | None = None, work_dir: Path | None = None) -> DrillResult:
    from govingest.db.connect import connect
    from govingest.db.migrate import migrate
    from govingest.workers.stages.seed import seed_sites

    url = pg.create_database(f"drill_{uuid.uuid4().hex[:8]}")
    with connect(url) as conn:
        migrate(conn)
        seed_sites(conn, configs)
    started = time.monotonic()
    with Fleet(url, redis_url=redis.url, options=options, work_dir=work_dir) as fleet:
        for _ in range(options.fetch_workers):
            fleet.start_worker("fetch")
        for _ in range(options.process_workers):
            fleet.start_worker("process", app_module=process_app)
        fleet.start_supervisor()  # as Kubernetes would: a node that exits on its own is replaced
        dispatcher = fleet.dispatcher([c.name for c in configs])
        stop = threading.Event()
        runner = threading.Thread(target=dispatcher.run, args=(stop,),
                                  kwargs={"until_settled": True, "linger_seconds": 1.0}, daemon=True)
        runner.start()
        deadline = started + DRILL_TIMEOUT
        while _doc_count(url) < fault_at_documents:
            if time.monotonic() > deadline or not runner.is_alive():
                stop.set()
                pytest.fail(f"the crawl never reached {fault_at_documents} documents before the fault; "
                            f"worker logs: {[str(n.log_path) for n in fleet.nodes]}")
            time.sleep(0.2)
        fault(fleet)
        runner.join(max(1.0, deadline - time.monotonic()))
        if runner.is_alive():
            stop.set()
            runner.join(10)
            tails = {n.name: n.log_path.read_text(errors="replace")[-1500:] for n in fleet.nodes}
            pytest.fail(f"the crawl did not settle within {DRILL_TIMEOUT:.0f}s after the fault; "
                        f"documents={_doc_count(url)}; worker logs in {work_dir}; tails: {tails}")
        seconds = time.monotonic() - started
    with psycopg.connect(url) as conn:
        docs = [r[0] for r in conn.execute("SELECT url FROM documents")]
        dup = conn.execute("SELECT count(*) FROM (SELECT document_id FROM doc_events GROUP BY document_id "
                           "HAVING count(*) > 1) d").fetchone()[0]
        non_created = conn.execute("SELECT count(*) FROM doc_events WHERE kind <> 'created'").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM doc_events").fetchone()[0]
        leased = conn.execute("SELECT count(*) FROM urls WHERE lease_until IS NOT NULL").fetchone()[0]
        fetching = conn.execute("SELECT count(*) FROM urls WHERE state = 'fetching'").fetchone()[0]
        poison = conn.execute("SELECT state, last_error_kind, last_error FROM urls WHERE url LIKE %s",
                              ("%" + POISON_SUFFIX,)).fetchone()
    return DrillResult(docs, dup, non_created, events, leased, fetching,
                       *(poison or (None, None, None)), seconds=seconds,
                       dispatch_errors=dispatcher.totals.errors,
                       recovered=dispatcher.totals.reaped + dispatcher.totals.pages_requeued)


def assert_same_as_in_process(result: DrillResult, reference: Reference) -> None:
    assert len(reference.documents) >= 300, "the in-process reference crawl itself fell short"
    assert len(result.documents) == len(set(result.documents)), "a URL was stored as two documents"
    paths = set(url_paths(result.documents))
    missing = reference.documents - paths
    extra = paths - reference.documents
    assert not missing and not extra, f"documents differ from the in-process crawl: missing {sorted(missing)[:5]} " \
                                      f"(+{len(missing)}), extra {sorted(extra)[:5]}"
    assert result.events == len(result.documents), "every document must have exactly one event"
    assert result.duplicate_events == 0 and result.non_created_events == 0
    assert result.leased == 0 and result.fetching == 0, "a URL was left leased"
    assert result.poison_state == "failed", f"poison page ended {result.poison_state!r}"
    assert result.poison_error and len(result.poison_error) > 20, "the poison page's failure must say why"


def test_drill_sigkill_worker_mid_crawl(private_pg, private_redis, bulk_configs, in_process_reference, tmp_path):
    """1. SIGKILL a process worker and the fetch worker mid-crawl; start replacements."""
    killed: list[str] = []

    def fault(fleet: Fleet) -> None:
        victims = [next(n for n in fleet.nodes if n.queue == "process"),
                   next(n for n in fleet.nodes if n.queue == "fetch")]
        for node in victims:
            fleet.kill_worker(node, signal.SIGKILL)
            killed.append(node.name)
            assert not node.alive()
        fleet.start_worker("process")
        fleet.start_worker("fetch")

    result = run_drill(private_pg, private_redis, bulk_configs, fault=fault, options=drill_options(),
                       work_dir=tmp_path)
    assert len(killed) == 2
    assert result.recovered > 0, "nothing was reaped or re-sent: the kill did not hit work in flight"
    assert_same_as_in_process(result, in_process_reference)


def test_drill_redis_restart_loses_all_messages(private_pg, private_redis, bulk_configs, in_process_reference,
                                                tmp_path):
    """2. Kill Redis mid-crawl and start an empty one on the same port."""
    def fault(fleet: Fleet) -> None:
        private_redis.kill()
        time.sleep(1.0)
        private_redis.start()
        assert private_redis.queue_length("fetch") == 0  # nothing survived

    result = run_drill(private_pg, private_redis, bulk_configs, fault=fault, options=drill_options(),
                       work_dir=tmp_path)
    assert result.recovered > 0, "no lost message was recovered: the restart did not bite"
    assert_same_as_in_process(result, in_process_reference)


def test_drill_postgres_down_for_ten_seconds(private_pg, private_redis, bulk_configs, in_process_reference, tmp_path):
    """3. Stop PostgreSQL for 10 s mid-crawl, then start it again."""
    def fault(fleet: Fleet) -> None:
        private_pg.stop("fast")
        time.sleep(10.0)
        private_pg.start()

    result = run_drill(private_pg, private_redis, bulk_configs, fault=fault, options=drill_options(),
                       work_dir=tmp_path)
    assert result.dispatch_errors > 0, "the dispatcher never noticed the outage: the drill did not bite"
    assert_same_as_in_process(result, in_process_reference)


def test_drill_poison_page_hangs_the_parser(private_pg, private_redis, bulk_configs, in_process_reference, tmp_path):
    """4. The poison page hangs the parser in C code: only the hard limit stops it, and the
    attempt counter ends it `failed` instead of retrying forever."""
    result = run_drill(private_pg, private_redis, bulk_configs, fault=lambda fleet: None,
                       options=drill_options(process_time_limit=3, process_max_attempts=2),
                       process_app="tests.fleet.poison_worker", fault_at_documents=1, work_dir=tmp_path)
    assert_same_as_in_process(result, in_process_reference)
    assert result.poison_kind == "process_gave_up", (result.poison_kind, result.poison_error)
    assert "2 attempts" in (result.poison_error or "") and "reparse" in (result.poison_error or "")

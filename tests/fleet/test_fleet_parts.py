"""The fleet's parts against a real PostgreSQL and a real (private) Redis: dispatch
exclusivity, the reaper and stale messages, idempotent and bounded processing, and a
small live fleet's metrics, JSON logs and status lines."""
from __future__ import annotations

import base64
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from govingest.db import fleet as fleet_db
from govingest.db import frontier
from govingest.db.connect import connect
from govingest.db.frontier import NewUrl
from govingest.db.migrate import migrate
from tests.fleet.servers import PrivateRedis, free_port_run


def _fetch_messages(redis: PrivateRedis, queue: str = "fetch") -> list[list]:
    """The args of every task message waiting in `queue` (kombu's JSON envelope, base64 body)."""
    import redis as redis_py

    raw = redis_py.Redis(port=redis.port).lrange(queue, 0, -1)
    out = []
    for item in raw:
        envelope = json.loads(item)
        body = json.loads(base64.b64decode(envelope["body"]))
        out.append(body[0])
    return out


def _sender(redis: PrivateRedis):
    from govingest.workers.fleet.app import make_app, send_fetch, settings

    app = make_app(settings, broker_url=redis.url, include_tasks=False)
    return app, (lambda url_id, lease: send_fetch(app, url_id, lease))


def _frontier(url: str, hosts: int, per_host: int) -> None:
    with connect(url) as conn:
        migrate(conn)
        frontier.upsert_site(conn, "t", {"name": "t", "start_urls": []})
        for h in range(hosts):
            host = f"h{h}.example"
            frontier.add_urls(conn, "t", [NewUrl(f"http://{host}/a{j}.htm", "article", host) for j in range(per_host)], 0, None)
            frontier.set_host_budget(conn, host, interval=0.001, concurrency=per_host)
            frontier.store_robots(conn, host, text="", status=404, crawl_delay=None)
        conn.commit()


def test_two_dispatchers_never_hand_out_a_url_twice(fresh_database_url, private_redis):
    from govingest.workers.fleet.dispatcher import Dispatcher

    _frontier(fresh_database_url, hosts=60, per_host=3)
    app, send = _sender(private_redis)
    ds = [Dispatcher(fresh_database_url, lease_seconds=60, batch=50, max_outstanding=10_000, idle_sleep=0.01,
                     enqueue_fetch=send) for _ in range(2)]
    stop = threading.Event()
    threads = [threading.Thread(target=d.run, args=(stop,)) for d in ds]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    with psycopg.connect(fresh_database_url) as conn:
        while time.monotonic() < deadline:
            due = conn.execute("SELECT count(*) FROM urls WHERE state <> 'fetching'").fetchone()[0]
            conn.commit()
            if due == 0:
                break
            time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(10)
    app.close()
    messages = _fetch_messages(private_redis)
    url_ids = [m[0] for m in messages]
    assert len(url_ids) == 180, f"expected every URL dispatched once, got {len(url_ids)} messages"
    assert len(set(url_ids)) == 180, "a URL was dispatched twice"
    with psycopg.connect(fresh_database_url) as conn:
        owners = dict(conn.execute("SELECT id, lease_owner FROM urls").fetchall())
    # each message carries the lease token its URL is held under
    assert all(owners[url_id] == lease for url_id, lease, _ in messages)
    assert sum(d.totals.claimed for d in ds) == 180


def test_reaper_redispatches_and_the_stale_message_does_nothing(fresh_database_url, private_redis, monkeypatch):
    from govingest.workers.fleet import tasks
    from govingest.workers.fleet.dispatcher import Dispatcher

    _frontier(fresh_database_url, hosts=1, per_host=1)
    app, send = _sender(private_redis)
    d = Dispatcher(fresh_database_url, lease_seconds=0.5, enqueue_fetch=send)
    first = d.run_once()
    assert first.claimed == 1
    time.sleep(0.8)  # the worker "died": the lease runs out
    second = d.run_once()
    d.close()
    app.close()
    assert second.reaped == 1 and second.claimed == 1
    (url_id, old, _), (url_id2, new, _) = _fetch_messages(private_redis)[::-1]  # LPUSH: newest first
    assert url_id == url_id2 and old != new
    with connect(fresh_database_url) as conn:
        assert fleet_db.leased_claim(conn, url_id, old) is None
        assert fleet_db.leased_claim(conn, url_id, new) is not None
    # the late message runs: it must neither fetch nor touch the new lease
    monkeypatch.setattr(tasks.settings, "database_url", fresh_database_url)
    monkeypatch.setattr(tasks, "_local", tasks._ProcessLocal())
    tasks._fetch(url_id, old)
    with psycopg.connect(fresh_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pages").fetchone()[0] == 0
        assert conn.execute("SELECT lease_owner FROM urls WHERE id = %s", (url_id,)).fetchone()[0] == new
    tasks._local.get_pool().close()


def test_a_round_that_sent_everything_due_is_not_followed_by_an_empty_one(fresh_database_url):
    """At a polite rate each round claims one URL per host and then finds nothing due: the
    loop must wait for the next slot rather than run a round that only claims nothing."""
    from govingest.workers.fleet.dispatcher import Dispatcher

    _frontier(fresh_database_url, hosts=2, per_host=5)
    with connect(fresh_database_url) as conn:
        for h in range(2):
            frontier.set_host_budget(conn, f"h{h}.example", interval=0.3, concurrency=5)
        conn.commit()
    sent: list[int] = []
    short = Dispatcher(fresh_database_url, batch=1, enqueue_fetch=lambda url_id, _lease: sent.append(url_id))
    assert not short.run_once().drained, "room ran out with a host still due: not drained"
    short.close()
    d = Dispatcher(fresh_database_url, enqueue_fetch=lambda url_id, _lease: sent.append(url_id))
    first = d.run_once()
    assert first.claimed == 1 and first.drained  # the other host's first URL; the next slots are 0.3 s away
    rounds: list[tuple[int, bool]] = []
    stop = threading.Event()

    def on_round(r) -> None:  # type: ignore[no-untyped-def]
        rounds.append((r.claimed, r.drained))
        if len(sent) == 10:
            stop.set()

    threading.Timer(5.0, stop.set).start()
    d.run(stop, on_round=on_round)
    assert len(sent) == 10
    # every claiming round is followed by a wait, not by a round that claims nothing at once
    empty_after_claim = sum(1 for (a, _), (b, _) in itertools.pairwise(rounds) if a and not b)
    assert empty_after_claim <= 1, rounds


def _article_body() -> bytes:
    from govingest.workers.fixture_site.sites import build_bulk

    site = build_bulk(2, 0)
    return site.routes[site.article_paths[0]].body


def _stored_page(conn: psycopg.Connection, n: int) -> int:
    from govingest.db.pages import store_page

    if n == 0:
        frontier.upsert_site(conn, "t", {"name": "t", "start_urls": []})
    frontier.add_urls(conn, "t", [NewUrl(f"http://t.example/a{n}.htm", "article", "t.example")], 0, None)
    url_id = conn.execute("SELECT id FROM urls WHERE url = %s", (f"http://t.example/a{n}.htm",)).fetchone()[0]
    page_id = store_page(conn, url_id=url_id, status=200, headers={"content-type": "text/html; charset=utf-8"},
                         body=_article_body())
    conn.commit()
    fleet_db.mark_enqueued(conn, [page_id])
    return page_id


def test_process_is_idempotent_and_a_poison_page_is_given_up(fresh_database_url, monkeypatch):
    from govingest.workers.fleet import tasks

    monkeypatch.setattr(tasks.settings, "database_url", fresh_database_url)
    monkeypatch.setattr(tasks.settings, "process_max_attempts", 3)
    monkeypatch.setattr(tasks, "_local", tasks._ProcessLocal())
    with connect(fresh_database_url) as conn:
        migrate(conn)
        good, poison = _stored_page(conn, 0), _stored_page(conn, 1)
        # the same message delivered twice (Redis redelivery, a re-sent lost message)
        tasks._process(good)
        tasks._process(good)
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM doc_events").fetchone()[0] == 1
        # three attempts that each killed their worker (counted before parsing began)
        for _ in range(3):
            fleet_db.begin_process(conn, poison)
        tasks._process(poison)
        state, kind, message = conn.execute(
            "SELECT u.state, u.last_error_kind, u.last_error FROM urls u JOIN pages p ON p.url_id = u.id "
            "WHERE p.id = %s", (poison,)).fetchone()
        assert (state, kind) == ("failed", "process_gave_up")
        assert "3 attempts" in message and "govingest reparse" in message
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
        assert fleet_db.fleet_status(conn).awaiting_process == 0
    tasks._local.get_pool().close()


def test_lost_process_messages_are_found_once(fresh_database_url):
    with connect(fresh_database_url) as conn:
        migrate(conn)
        page = _stored_page(conn, 0)
        assert fleet_db.claim_stale_pages(conn, older_than_seconds=10, limit=10) == []  # just sent
        conn.execute("UPDATE pages SET process_enqueued_at = now() - interval '1 hour' WHERE id = %s", (page,))
        conn.commit()
        assert fleet_db.claim_stale_pages(conn, older_than_seconds=10, limit=10) == [page]
        assert fleet_db.claim_stale_pages(conn, older_than_seconds=10, limit=10) == []  # re-stamped
        fleet_db.mark_processed(conn, [page])
        conn.execute("UPDATE pages SET process_enqueued_at = now() - interval '1 hour' WHERE id = %s", (page,))
        conn.commit()
        assert fleet_db.claim_stale_pages(conn, older_than_seconds=10, limit=10) == []  # done pages stay done


def test_page_stored_but_never_sent_is_found(fresh_database_url):
    """A fetch worker killed between storing a page and sending its process message leaves
    the page with no process_enqueued_at: the sweep must still find it (drill 1's window)."""
    with connect(fresh_database_url) as conn:
        migrate(conn)
        page = _stored_page(conn, 0)
        conn.execute("UPDATE pages SET process_enqueued_at = NULL, fetched_at = now() - interval '1 hour' "
                     "WHERE id = %s", (page,))
        conn.commit()
        assert fleet_db.claim_stale_pages(conn, older_than_seconds=10, limit=10) == [page]
        assert fleet_db.claim_stale_pages(conn, older_than_seconds=10, limit=10) == []  # stamped as sent


def test_process_page_stamps_every_outcome(fresh_database_url):
    """process_page is the one place pages are stamped done, for documents and failures alike."""
    from govingest.workers.stages.process import process_page

    with connect(fresh_database_url) as conn:
        migrate(conn)
        page = _stored_page(conn, 0)
        conn.execute("UPDATE pages SET fetched_at = now() - interval '1 hour' WHERE id = %s", (page,))
        conn.commit()
        process_page(conn, page)
        conn.commit()
        assert conn.execute("SELECT processed_at IS NOT NULL FROM pages WHERE id = %s", (page,)).fetchone()[0]
        assert fleet_db.claim_stale_pages(conn, older_than_seconds=10, limit=10) == []


def test_live_fleet_exports_metrics_logs_ids_and_reports_status(fresh_database_url, private_redis):
    from govingest.crawler.config import parse_sites
    from govingest.workers.fixture_site import FixtureSite
    from govingest.workers.fixture_site.sites_toml import site_tables
    from govingest.workers.fleet.supervisor import Fleet, FleetOptions, status_lines
    from govingest.workers.stages.seed import seed_sites

    with FixtureSite(sites=["bulk"], articles=20, crawl_delay=0) as fx:
        port = free_port_run(2)  # after the fixture site took its ports
        sites = parse_sites({"site": site_tables(fx, rate=200.0, concurrency=4)}, "test")
        with connect(fresh_database_url) as conn:
            migrate(conn)
            seed_sites(conn, sites)
        opts = FleetOptions(process_workers=1, lease_seconds=20, metrics_port=port, log_level="INFO")
        with Fleet(fresh_database_url, redis_url=private_redis.url, options=opts) as fleet:
            fleet.start_workers()
            fleet.wait_ready()
            totals = fleet.dispatcher(["bulk"]).run(threading.Event(), until_settled=True, linger_seconds=0.5)
            fetch_node, process_node = fleet.nodes
            try:
                fetch_metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
                process_metrics = httpx.get(f"http://127.0.0.1:{port + 1}/metrics", timeout=5).text
            except httpx.ConnectError as exc:
                logs = "\n".join(n.log_path.read_text()[-3000:] for n in fleet.nodes)
                pytest.fail(f"a node's metrics exporter did not answer ({exc}); node logs:\n{logs}")
            with connect(fresh_database_url) as conn:
                status = "\n".join(status_lines(conn, private_redis.url))
                docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            fetch_log = fetch_node.log_path.read_text()
            process_log = process_node.log_path.read_text()
    assert docs == 20 and totals.claimed >= 21
    assert 'govingest_responses_total{status="200"}' in fetch_metrics
    assert "govingest_fetch_seconds_count" in fetch_metrics
    assert 'govingest_documents_total{kind="created"} 20.0' in process_metrics
    assert 'govingest_queue_lag_seconds_count{queue="process"} 20.0' in process_metrics
    assert "govingest_parse_seconds_count 20.0" in process_metrics
    lines = [json.loads(line) for line in process_log.splitlines() if line.startswith("{")]
    processed = [rec for rec in lines if rec.get("msg") == "processed"]
    assert len(processed) == 20
    assert all(rec.get("task_id") and rec.get("url_id") and rec.get("page_id") for rec in processed)
    fetched = [json.loads(line) for line in fetch_log.splitlines()
               if line.startswith("{") and "page sent to process" in line]
    assert len(fetched) == 20 and all(rec.get("task_id") and rec.get("url_id") for rec in fetched)
    assert "queue depths: fetch 0, process 0" in status
    assert "leased URLs: 0 (expired, waiting for the reaper: 0)" in status
    assert "20 pages processed" in status


def test_supervisor_replaces_a_node_that_died(fresh_database_url, private_redis):
    import os
    import signal

    from govingest.workers.fleet.supervisor import Fleet, FleetOptions

    with Fleet(fresh_database_url, redis_url=private_redis.url,
               options=FleetOptions(process_workers=1, fetch_workers=0)) as fleet:
        node = fleet.start_worker("process")
        fleet.wait_ready()
        os.killpg(node.pid, signal.SIGKILL)  # a crash, not a planned stop
        node.proc.wait(10)
        replaced = fleet.supervise()
        assert [n.queue for n in replaced] == ["process"] and replaced[0].restarts == 1
        fleet.wait_ready()  # the replacement answers the broker
        assert fleet.supervise() == []  # nothing else to replace


def _stall_watch(redis_url: str, seconds_idle: float) -> subprocess.Popen:
    code = ("import govingest.workers.fleet.app as a\n"
            f"a.app.conf.broker_url = {redis_url!r}\n"
            f"a._last_received[0] -= {seconds_idle}\n"
            "a._watch_for_stall(['fetch'], 1.0)\n")
    return subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_stall_watchdog_exits_only_when_messages_wait_unreceived(private_redis):
    import redis as redis_py

    idle_empty = _stall_watch(private_redis.url, 100)  # idle, but nothing waits: a quiet worker
    time.sleep(4)
    assert idle_empty.poll() is None, "a worker with an empty queue must not exit"
    idle_empty.kill()
    idle_empty.wait()

    redis_py.Redis(port=private_redis.port).lpush("fetch", b"{}")  # a message nobody takes
    stalled = _stall_watch(private_redis.url, 100)
    try:
        stalled.wait(30)
    except subprocess.TimeoutExpired:
        stalled.kill()
        pytest.fail("the watchdog did not end a worker whose queue had a message it never received")
    assert stalled.returncode != 0
    assert b"worker consumer stalled" in stalled.stderr.read()


def test_fleet_keeps_crawl_delay_at_the_wire(fresh_database_url, private_redis) -> None:
    """`crawl --workers N`: the fetch worker (8 threads) takes each host's slot right before
    it sends, so a Crawl-delay stricter than the rate holds in the server's log, no tolerance."""
    import itertools

    from govingest.crawler.config import parse_sites
    from govingest.workers.fixture_site import FixtureSite, read_access_log
    from govingest.workers.fixture_site.sites_toml import site_tables
    from govingest.workers.fleet.supervisor import crawl_with_fleet

    delay = 0.25
    with FixtureSite(sites=["siming", "hanweb"], crawl_delay=delay) as fx:
        sites = parse_sites({"site": site_tables(fx, rate=50.0, concurrency=8)}, "fleet wire")
        crawl_with_fleet(fresh_database_url, sites, workers=1, redis_url=private_redis.url, linger_seconds=1.0,
                         max_seconds=120)
        log = read_access_log(fx.access_log)
    for name in ("siming", "hanweb"):
        starts = sorted(r["ts"] for r in log if r["site"] == name)
        assert len(starts) > 8, name
        gap = min(b - a for a, b in itertools.pairwise(starts))
        assert gap >= delay, f"{name}: two requests {gap:.4f}s apart at the server (Crawl-delay {delay})"


def test_the_dispatcher_survives_a_database_that_goes_away_while_it_idles() -> None:
    """Seen in the PostgreSQL-down drill: the outage began while the dispatcher waited for
    work, its reconnect raised DatabaseUnavailable (not a psycopg error) out of the idle
    wait, and the dispatcher thread died. Idle, waiting and the settled check must ride an
    outage out; the next round counts and logs it."""
    from govingest.workers.fleet.dispatcher import Dispatcher

    with socket.socket() as s:  # a port nothing listens on: connection refused, for real
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = Dispatcher(f"postgresql://postgres@127.0.0.1:{port}/nowhere", idle_sleep=0.05)
    assert d._idle_seconds() == 0.05
    d._wait(threading.Event(), 0.05)
    assert d.settled() is False
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    assert d.run(stop).errors >= 1  # the rounds saw the outage and kept trying

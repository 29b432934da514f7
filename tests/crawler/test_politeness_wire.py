"""Politeness at the wire, measured from the server's own access log with no tolerance.

* two claimers race on one host (interval 0.5 s, concurrency 1): claims and request
  starts at least one interval apart (fails when claim_due's host-row lock is removed,
  or when the fetch worker stops taking the host's slot before it sends);
* a site whose robots Crawl-delay is stricter than its configured rate, end to end;
* the dispatcher's back-pressure: never more than `max_outstanding` leases out.
"""
from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from govingest.crawler.client import make_client
from govingest.crawler.config import parse_site, parse_sites
from govingest.crawler.urls import host_key
from govingest.db import frontier
from govingest.db.frontier import NewUrl
from govingest.db.migrate import migrate
from govingest.states import UrlState
from govingest.workers.fixture_site.server import FixtureSite, read_access_log
from govingest.workers.fixture_site.sites_toml import site_tables
from govingest.workers.local.runner import crawl
from govingest.workers.stages.fetch import fetch_url
from govingest.workers.stages.seed import seed_sites
from tests.fleet.servers import PrivateRedis

STAMPS: list[tuple[float, str]] = []
_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    """Stamps each request on arrival (as an access log does), answers after a short,
    varying delay so that answers and the next claims interleave."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a: object) -> None:
        pass

    def do_GET(self) -> None:
        with _lock:
            STAMPS.append((time.time(), self.path))
            n = len(STAMPS)
        time.sleep(0.01 * (n % 3))
        body = b"User-agent: *\nDisallow:\n" if self.path == "/robots.txt" else (
            "<html><body><p>" + "通知" * 30 + "</p></body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    STAMPS.clear()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_two_claimers_racing_on_one_host_keep_the_interval(migrated_database_url: str, server: str) -> None:
    interval = 0.5
    site = parse_site({"name": "race", "start_urls": [server + "/index.html"], "local": True,
                       "rate": 1 / interval, "concurrency": 1}, "test")
    with psycopg.connect(migrated_database_url) as conn:
        seed_sites(conn, [site])
        frontier.add_urls(conn, "race", [NewUrl(f"{server}/a/{i}.htm", "article", host_key(server))
                                         for i in range(7)], 1, None)
        conn.commit()
    claimed: list[float] = []
    barrier = threading.Barrier(2)
    deadline = time.monotonic() + 30

    def claimer(name: str) -> None:
        client = make_client()
        with psycopg.connect(migrated_database_url) as conn:
            barrier.wait()
            while time.monotonic() < deadline:
                claims = frontier.claim_due(conn, limit=5, lease_seconds=60, owner=name, sites=["race"])
                if not claims:
                    left = conn.execute("SELECT count(*) FROM urls WHERE site = 'race' AND state IN "
                                        "('new', 'fetching')").fetchone()[0]
                    conn.commit()
                    if left == 0:
                        break
                    time.sleep(0.001)
                    continue
                for claim in claims:
                    with _lock:
                        claimed.append(time.time())
                    fetch_url(conn, claim, site, client, owner=name)
        client.close()

    threads = [threading.Thread(target=claimer, args=(f"claimer-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    starts = sorted(ts for ts, _ in STAMPS)
    assert len(starts) == 10, f"robots.txt, /sitemap.xml, the start page and 7 articles, once each; got {STAMPS}"
    claim_gaps = [b - a for a, b in itertools.pairwise(sorted(claimed))]
    wire_gaps = [b - a for a, b in itertools.pairwise(starts)]
    # claims: never two at once (claim_due may hand a late slot out up to half an interval
    # early so that a late poll does not drift the rate; the wire below is what is strict)
    assert min(claim_gaps) >= interval * 0.4, f"two claims {min(claim_gaps):.3f}s apart"
    assert min(wire_gaps) >= interval, f"two requests {min(wire_gaps):.4f}s apart at the server"


def test_crawl_delay_stricter_than_rate_holds_end_to_end(fresh_database_url: str) -> None:
    delay = 0.3
    with FixtureSite(sites=["siming"], crawl_delay=delay) as fx:
        sites = parse_sites({"site": site_tables(fx, rate=20.0, concurrency=4)}, "test")
        crawl(fresh_database_url, sites, linger_seconds=0.5, max_seconds=60)
        log = read_access_log(fx.access_log)
    assert log[0]["path"] == "/robots.txt"
    assert len(log) > 8
    starts = sorted(r["ts"] for r in log)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= delay, f"Crawl-delay {delay}s, rate 20/s: two requests {min(gaps):.4f}s apart"
    spans = sorted((r["ts"], r["ts"] + r["seconds"]) for r in log)
    assert all(nxt >= end for (_, end), (nxt, _) in itertools.pairwise(spans)), "two requests in flight at once"


def test_dispatcher_back_pressure_caps_outstanding_leases(fresh_database_url: str, tmp_path) -> None:
    from govingest.workers.fleet.app import make_app, send_fetch, settings
    from govingest.workers.fleet.dispatcher import Dispatcher

    with psycopg.connect(fresh_database_url) as conn:
        migrate(conn)
        frontier.upsert_site(conn, "bp", {"name": "bp"})
        for h in range(12):
            host = f"h{h}.example"
            frontier.add_urls(conn, "bp", [NewUrl(f"http://{host}/{j}.htm", "article", host) for j in range(3)], 0, None)
            frontier.set_host_budget(conn, host, interval=0.001, concurrency=3)
            frontier.store_robots(conn, host, text="", status=404, crawl_delay=None)
        conn.commit()
    redis = PrivateRedis(tmp_path / f"redis-{uuid.uuid4().hex[:6]}").start()
    app = make_app(settings, broker_url=redis.url, include_tasks=False)
    sent: list[int] = []

    def send(url_id: int, lease: str) -> None:
        send_fetch(app, url_id, lease)
        sent.append(url_id)

    d = Dispatcher(fresh_database_url, lease_seconds=60, batch=50, max_outstanding=5, idle_sleep=0.01,
                   enqueue_fetch=send)
    try:
        first = d.run_once()
        assert first.claimed == 5 and len(sent) == 5
        time.sleep(0.01)
        assert d.run_once().claimed == 0, "nothing finished: no room"
        with psycopg.connect(fresh_database_url) as conn:
            assert conn.execute("SELECT count(*) FROM urls WHERE lease_until IS NOT NULL").fetchone()[0] == 5
            for url_id in sent[:3]:  # three fetches end
                frontier.record_outcome(conn, url_id, frontier.Outcome(UrlState.DONE, status=200, next_fetch_in=3600))
            conn.commit()
        time.sleep(0.01)
        third = d.run_once()
        assert third.claimed == 3, "room for exactly the three that ended"
        with psycopg.connect(fresh_database_url) as conn:
            assert conn.execute("SELECT count(*) FROM urls WHERE lease_until IS NOT NULL").fetchone()[0] == 5
    finally:
        d.close()
        app.close()
        redis.kill()

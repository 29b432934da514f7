"""The adaptive list schedule and the list budget: sites-file bounds, intervals that follow
each list's changes (real HTTP, real PostgreSQL), v_list_pages, and claim_due's budget."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import psycopg
import pytest

from govingest.crawler.client import make_client
from govingest.crawler.config import ConfigError, parse_site
from govingest.crawler.schedule import Observation, allocate
from govingest.crawler.urls import host_key
from govingest.db import frontier
from govingest.db.frontier import NewUrl
from govingest.db.migrate import migrate
from govingest.workers.stages.fetch import fetch_url
from govingest.workers.stages.seed import seed_sites
from tests.local_http import serving

PUBLISHED = {"n": 3}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/busy/index.html":  # a new article on every visit
            paths = [f"/busy/t20240101_{i}.htm" for i in range(PUBLISHED["n"], 0, -1)]
        elif self.path == "/quiet/index.html":
            paths = ["/quiet/t20230101_1.htm", "/quiet/t20230101_2.htm"]
        else:
            paths = []
        status = 200 if paths else 404
        body = "".join(f'<a href="{p}">x</a>' for p in paths).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(Handler) as url:
        yield url


def site_of(base: str, **extra: object):
    return parse_site({"name": "s", "start_urls": [base + "/busy/index.html", base + "/quiet/index.html"],
                       "local": True, "rate": 1000.0, "concurrency": 8, "article_patterns": [r"/t\d{8}_\d+\.htm$"],
                       "list_patterns": [r"/index\.html$"], **extra}, "test")


def test_sites_file_bounds_and_budget_are_validated() -> None:
    base = {"name": "s", "start_urls": ["https://www.example.gov.cn/"]}
    with pytest.raises(ConfigError, match="min_list_interval"):
        parse_site({**base, "min_list_interval": 600, "max_list_interval": 300}, "t")
    with pytest.raises(ConfigError, match="list_requests_per_hour"):
        parse_site({**base, "rate": 0.01, "list_requests_per_hour": 100}, "t")
    with pytest.raises(ConfigError, match="list_requests_per_hour"):
        parse_site({**base, "list_requests_per_hour": 0}, "t")
    assert parse_site(base, "t").list_bounds == (3600, 3600)  # default: the fixed schedule
    assert parse_site({**base, "max_list_interval": 7200}, "t").list_bounds == (3600, 7200)
    site = parse_site({**base, "min_list_interval": 60, "max_list_interval": 7200, "list_requests_per_hour": 30}, "t")
    assert parse_site(site.as_json(), "t") == site


def test_allocation_follows_the_square_root_of_the_rate_within_bounds() -> None:
    got = allocate({"busy": 100.0 / 86400, "quiet": 1.0 / 86400}, per_hour=11.0, low=60, high=86400)
    assert got["quiet"] == pytest.approx(10 * got["busy"], rel=1e-6)  # 100x quieter, 10x rarer
    assert 3600 / got["busy"] + 3600 / got["quiet"] == pytest.approx(11.0, rel=1e-6)  # the budget, spent
    clamped = allocate({"busy": 100.0 / 86400, "quiet": 1.0 / 86400}, per_hour=11.0, low=60, high=1800)
    assert clamped["quiet"] == 1800
    waking = Observation(events=0.0, window=5 * 86400).add(new=3, elapsed=3600)
    assert waking.rate > 20 * Observation(events=0.0, window=5 * 86400).rate  # the short view believes it


def test_busy_list_gets_a_shorter_interval_than_a_quiet_one(fresh_database_url: str, base: str,
                                                          redis_url: str) -> None:
    site = site_of(base, min_list_interval=60, max_list_interval=86400, list_requests_per_hour=20)
    client = make_client(read=2)
    busy, quiet = base + "/busy/index.html", base + "/quiet/index.html"
    with psycopg.connect(fresh_database_url) as conn:
        migrate(conn)
        seed_sites(conn, [site])
        frontier.store_robots(conn, site.allowed_hosts[0], text="", status=404, crawl_delay=None)
        conn.commit()
        for _ in range(4):
            for url in (busy, quiet):
                conn.execute("UPDATE urls SET next_fetch_at = now() + interval '1 day' WHERE state <> 'fetching'")
                conn.execute("UPDATE urls SET next_fetch_at = now() WHERE url = %s", (url,))
                conn.execute("UPDATE hosts SET next_allowed_at = now()")
                conn.commit()
                claims = frontier.claim_due(conn, limit=1, lease_seconds=60, owner="me")
                assert [c.url for c in claims] == [url]
                fetch_url(conn, claims[0], site, client, owner="me")
            PUBLISHED["n"] += 1
            time.sleep(0.05)
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT url, interval_seconds, last_change_at IS NOT NULL, extract(epoch FROM next_fetch_at - "
            "last_fetched_at)::float8 FROM v_list_pages")}
        conn.commit()
    client.close()
    assert set(rows) == {busy, quiet}
    assert rows[busy][0] < rows[quiet][0], "the busy list is fetched more often"
    assert all(60 <= r[0] <= 86400 for r in rows.values())
    assert rows[busy][1] and not rows[quiet][1]  # last change: only the busy list has one
    assert rows[quiet][2] == pytest.approx(rows[quiet][0], abs=1.0)  # next fetch = last fetch + interval
    env = {**os.environ, "DATABASE_URL": fresh_database_url, "REDIS_URL": redis_url}
    out = subprocess.run([sys.executable, "-m", "govingest", "status"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    shown = out.stdout.split("list pages (schedule", 1)[1]
    assert "s: 2 list pages, budget 20 list requests/hour" in shown, out.stdout
    assert shown.index(busy) < shown.index(quiet), "busiest first"


def test_claim_due_keeps_the_list_budget(fresh_database_url: str, base: str) -> None:
    site = site_of(base, list_requests_per_hour=2)
    extra = [base + f"/more/index_{i}.html" for i in range(3)]
    article = base + "/busy/t20240101_1.htm"
    with psycopg.connect(fresh_database_url) as conn:
        migrate(conn)
        seed_sites(conn, [site])
        frontier.add_urls(conn, "s", [NewUrl(u, "list", host_key(u)) for u in extra], 0, None)
        frontier.add_urls(conn, "s", [NewUrl(article, "article", host_key(article))], 1, None)
        frontier.store_robots(conn, site.allowed_hosts[0], text="", status=404, crawl_delay=None)
        conn.commit()
        kinds: list[str | None] = []
        for _ in range(40):
            conn.execute("UPDATE hosts SET next_allowed_at = now()")
            conn.commit()
            kinds += [c.kind for c in frontier.claim_due(conn, limit=5, lease_seconds=60, owner="me")]
        waiting = conn.execute("SELECT count(*) FROM urls WHERE kind = 'list' AND state = 'new'").fetchone()[0]
    assert kinds.count("list") == 2, "two list requests an hour, not one more"
    assert kinds.count("article") == 1, "articles are not held by the list budget"
    assert waiting == 3  # of the five list pages
